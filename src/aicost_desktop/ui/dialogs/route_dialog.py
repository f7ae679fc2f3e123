"""Add or edit a rule: its trigger (alert or scheduled report), budget, destinations with their typed
parameters, quiet hours and hourly limit; saved on the pool, each refusal shown under its field."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTime, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLayout, QLineEdit, QPlainTextEdit, QPushButton, QScrollArea, QSpinBox,
                               QTimeEdit, QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import registry
from aicost_desktop.integrations.reports import GROUPS, WEEKDAYS
from aicost_desktop.integrations.messages import action_params, alert_message
from aicost_desktop.integrations.routing import BUDGET_TRIGGERS, DestinationSpec, destination_errors, sample_alert
from aicost_desktop.integrations.rules import RuleDraft, add_rule, is_report, update_rule
from aicost_desktop.integrations.spec import ActionParam, ParamType
from aicost_desktop.ui.dialogs.integration_dialog import message_of
from aicost_desktop.ui.widgets.integration_card import error_color

if TYPE_CHECKING:
    from aicost_desktop.integrations.rules import Rule
    from aicost_desktop.integrations.store import ConnectionRecord
    from aicost_desktop.storage.db import Database
    from aicost_desktop.ui.workers import Worker

R = QPalette.ColorRole
Run = Callable[..., "Worker"]
TRIGGER_LABELS = {"threshold": "A budget crosses a threshold", "exceeded": "A budget is exceeded",
                  "forecast": "A budget is projected to exceed", "sync_failure": "A sync keeps failing",
                  "anomaly": "Spend is unusual", "unpriced": "A model has no price",
                  "report:daily": "Daily spend report", "report:weekly": "Weekly spend report",
                  "report:monthly": "Monthly spend report"}
# Form rows of the core's InputError fields.
FIELD_ROWS = {"name": "name", "on": "trigger", "budget": "budget", "at": "percent", "quiet-hours": "quiet",
              "max-per-hour": "limit", "day": "day", "hour": "hour", "group-by": "group"}


@dataclass(frozen=True)
class RulesPage:
    """What the rules section and its dialog show, loaded on the pool together."""

    rules: list["Rule"]
    connections: list["ConnectionRecord"]
    budgets: list[str]
    tz: str = "UTC"
    week_start: int = 0
    failures: dict[str, Any] = field(default_factory=dict)


class DestinationErrors(Exception):
    """Destinations the core refused, by position (raised in the save job, shown on each editor)."""

    def __init__(self, errors: list[tuple[int, InputError]]) -> None:
        super().__init__("; ".join(str(e) for _, e in errors))
        self.errors = errors


def save_rule(db: "Database", tz: Any, draft: RuleDraft, ref: str | None, week_start: int) -> "Rule":
    """The dialog's save job (on the pool): each destination checked first, then the rule added or changed."""
    errors = destination_errors(db, draft.destinations)
    if errors:
        raise DestinationErrors(errors)
    if ref is None:
        return add_rule(db, tz, draft, week_start=week_start)
    return update_rule(db, tz, ref, draft, week_start=week_start)


def _error_label(name: str) -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setWordWrap(True)
    lab.hide()
    return lab


def _show(lab: QLabel, text: str) -> None:
    pal = lab.palette()
    pal.setColor(R.WindowText, error_color(lab.parentWidget().palette() if lab.parentWidget() else pal))
    lab.setPalette(pal)
    lab.setText(text)
    lab.setVisible(bool(text))


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class ParamEditor(QWidget):
    """One typed action parameter: a line, a text box, a check box or a choice, with its error line."""

    def __init__(self, p: ActionParam, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = p
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.widget: QWidget
        if p.type is ParamType.BOOL:
            self.widget = QCheckBox(p.label)
            self.widget.setChecked(bool(p.default))
        elif p.type is ParamType.CHOICE:
            combo = QComboBox()
            combo.addItem("(default)", "")
            for c in p.choices:
                combo.addItem(c, c)
            self.widget = combo
        elif p.type in (ParamType.TEXT, ParamType.JSON):
            box = QPlainTextEdit()
            box.setFixedHeight(54)
            box.setPlaceholderText("JSON" if p.type is ParamType.JSON else "")
            self.widget = box
        else:
            edit = QLineEdit()
            edit.setPlaceholderText({ParamType.LIST: "comma-separated", ParamType.EMAIL: "name@example.com",
                                     ParamType.PHONE: "+14155550100", ParamType.URL: "https://…",
                                     ParamType.INT: "a whole number"}.get(p.type, p.help or ""))
            self.widget = edit
        self.widget.setObjectName(f"param_{p.key}")
        self.widget.setToolTip(p.help)
        lay.addWidget(self.widget)
        self.error = _error_label(f"error_param_{p.key}")
        lay.addWidget(self.error)

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QCheckBox):  # only a change from the action's default is the user's parameter
            return w.isChecked() if w.isChecked() != bool(self.param.default) else None
        if isinstance(w, QComboBox):
            return w.currentData() or None
        text = w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()  # type: ignore[attr-defined]
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(value or "")))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(_text_of(value))
        elif isinstance(w, QLineEdit):
            w.setText(_text_of(value))


class DestinationEditor(QGroupBox):
    """A connection, one of its sending actions, and the action's parameters; the ones the alert fills in
    (title, text, blocks...) wait behind "Customise the message"."""

    def __init__(self, index: int, connections: Sequence["ConnectionRecord"], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"destination_{index}")
        self.editors: dict[str, ParamEditor] = {}
        lay = QVBoxLayout(self)
        lay.setSpacing(4)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        head = QHBoxLayout()
        self.connection = QComboBox()
        self.connection.setObjectName("destConnection")
        for c in connections:
            spec = registry.get(c.kind)
            self.connection.addItem(f"{c.name} ({spec.name})", (c.name, c.kind))
        head.addWidget(self.connection, 1)
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("removeDestination")
        self.remove.setAutoDefault(False)
        head.addWidget(self.remove)
        form.addRow("Send to", head)
        self.connection_error = _error_label("error_integration")
        form.addRow("", self.connection_error)
        self.action = QComboBox()
        self.action.setObjectName("destAction")
        form.addRow("Action", self.action)
        self.action_error = _error_label("error_action")
        form.addRow("", self.action_error)
        lay.addLayout(form)
        self.params = QWidget()
        self.params_form = QFormLayout(self.params)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        self.params_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        lay.addWidget(self.params)
        self.customise = QCheckBox("Customise the message (the alert's words are used otherwise)")
        self.customise.setObjectName("customiseMessage")
        self.customise.toggled.connect(self._show_message_params)
        lay.addWidget(self.customise)
        self.message_params = QWidget()
        self.message_form = QFormLayout(self.message_params)
        self.message_form.setContentsMargins(0, 0, 0, 0)
        self.message_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.message_params.hide()
        lay.addWidget(self.message_params)
        self.error = _error_label("error_destination")
        lay.addWidget(self.error)
        self.connection.currentIndexChanged.connect(lambda _i: self._connection_changed())
        self.action.currentIndexChanged.connect(lambda _i: self._action_changed())
        self._connection_changed()

    def set_title(self, n: int) -> None:
        self.setTitle(f"Destination {n}")

    def kind(self) -> str | None:
        data = self.connection.currentData()
        return data[1] if data else None

    def _connection_changed(self) -> None:
        kind = self.kind()
        self.action.blockSignals(True)
        self.action.clear()
        if kind:
            for a in registry.get(kind).actions:
                if a.destination:
                    self.action.addItem(a.label, a.id)
        self.action.blockSignals(False)
        self._action_changed()

    def _action_changed(self) -> None:
        for form in (self.params_form, self.message_form):
            while form.rowCount():
                form.removeRow(0)
        self.editors.clear()
        kind, action = self.kind(), self.action.currentData()
        if not kind or not action:
            self.customise.hide()
            return
        act = registry.get(kind).action(action)
        filled = set(action_params(kind, action, alert_message(sample_alert()), {}))
        for p in act.params:
            editor = ParamEditor(p)
            self.editors[p.key] = editor
            label = "" if p.type is ParamType.BOOL else p.label + ("" if p.required else " (optional)")
            (self.message_form if p.key in filled else self.params_form).addRow(label, editor)
        self.params.setVisible(self.params_form.rowCount() > 0)
        self.customise.setVisible(self.message_form.rowCount() > 0)
        self._show_message_params(self.customise.isChecked())

    def _show_message_params(self, on: bool) -> None:
        self.message_params.setVisible(on and self.message_form.rowCount() > 0)

    def choose(self, connection: str, action: str | None = None) -> None:
        """Select a connection by name (and one of its actions)."""
        for i in range(self.connection.count()):
            if self.connection.itemData(i)[0] == connection:
                self.connection.setCurrentIndex(i)
        if action is not None:
            self.action.setCurrentIndex(max(0, self.action.findData(action)))

    def set_destination(self, connection: str, action: str, params: dict[str, Any]) -> None:
        self.choose(connection, action)
        custom = False
        for key, value in params.items():
            if key in self.editors:
                self.editors[key].set_value(value)
                custom = custom or self.editors[key].parentWidget() is self.message_params
        self.customise.setChecked(custom)

    def spec(self) -> DestinationSpec:
        data = self.connection.currentData()
        values = {k: e.value() for k, e in self.editors.items()}
        return DestinationSpec(data[0] if data else "", self.action.currentData() or "",
                               {k: v for k, v in values.items() if v is not None})

    def clear_errors(self) -> None:
        for lab in (self.connection_error, self.action_error, self.error, *(e.error for e in self.editors.values())):
            _show(lab, "")

    def show_error(self, exc: InputError) -> None:
        text = f"{exc.reason[:1].upper()}{exc.reason[1:]}"
        if exc.field == "integration":
            _show(self.connection_error, text)
        elif exc.field == "action":
            _show(self.action_error, text)
        elif exc.field in self.editors:
            editor = self.editors[exc.field]
            if editor.parentWidget() is self.message_params:
                self.customise.setChecked(True)
            _show(editor.error, text)
        else:
            _show(self.error, str(exc))

    def errors(self) -> dict[str, str]:
        labs = {"integration": self.connection_error, "action": self.action_error, "destination": self.error,
                **{k: e.error for k, e in self.editors.items()}}
        return {k: lab.text() for k, lab in labs.items() if not lab.isHidden()}


class RouteDialog(QDialog):
    """Add a rule, or edit `rule`. Window-modal and not blocking: the save runs on the pool.

    Signals:
        saved(object): the stored Route or Schedule (the dialog then closes).
        refused(object): the save failed; its errors are shown under their fields (the exception).
    """

    saved = Signal(object)
    refused = Signal(object)

    def __init__(self, page: RulesPage, db: "Database", tz: Any, run: Run, rule: "Rule | None" = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routeDialog")
        self.setWindowTitle("Edit rule" if rule else "Add rule")
        self.page, self.db, self.tz, self._run, self.rule = page, db, tz, run, rule
        self.worker: "Worker | None" = None
        self.destinations: list[DestinationEditor] = []
        self.errors_at: dict[str, QLabel] = {}
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}

        lay = QVBoxLayout(self)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form = form
        self.name = QLineEdit()
        self.name.setObjectName("ruleName")
        self.name.setPlaceholderText("made from the trigger and destinations")
        self.name.setMinimumWidth(360)
        self._row("name", "Name", self.name)
        self.trigger = QComboBox()
        self.trigger.setObjectName("ruleTrigger")
        for key, label in TRIGGER_LABELS.items():
            if rule is None or is_report(key) == is_report(rule.trigger):  # a rule keeps its kind
                self.trigger.addItem(label, key)
        self._row("trigger", "When", self.trigger)
        self.budget = QComboBox()
        self.budget.setObjectName("ruleBudget")
        self.budget.addItem("Any budget", None)
        for b in page.budgets:
            self.budget.addItem(b, b)
        self._row("budget", "Budget", self.budget)
        self.percent = QLineEdit()
        self.percent.setObjectName("rulePercent")
        self.percent.setPlaceholderText("any threshold, e.g. 80")
        self._row("percent", "At or above (%)", self.percent)
        self.day = QComboBox()
        self.day.setObjectName("ruleDay")
        for i, d in enumerate(WEEKDAYS):
            self.day.addItem(d.title(), i)
        self.day.setCurrentIndex(page.week_start)
        self._row("day", "Day", self.day)
        self.hour = QSpinBox()
        self.hour.setObjectName("ruleHour")
        self.hour.setRange(0, 23)
        self.hour.setValue(9)
        self.hour.setSuffix(":00")
        self._row("hour", "From (local time)", self.hour)
        self.group = QComboBox()
        self.group.setObjectName("ruleGroup")
        for g in GROUPS:
            self.group.addItem(g, g)
        self._row("group", "Spend by", self.group)

        quiet = QWidget()
        ql = QHBoxLayout(quiet)
        ql.setContentsMargins(0, 0, 0, 0)
        self.quiet_on = QCheckBox("From")
        self.quiet_on.setObjectName("quietOn")
        self.quiet_start, self.quiet_end = QTimeEdit(QTime(22, 0)), QTimeEdit(QTime(7, 0))
        for name, edit in (("quietStart", self.quiet_start), ("quietEnd", self.quiet_end)):
            edit.setObjectName(name)
            edit.setDisplayFormat("HH:mm")
        ql.addWidget(self.quiet_on)
        ql.addWidget(self.quiet_start)
        ql.addWidget(QLabel("to"))
        ql.addWidget(self.quiet_end)
        ql.addStretch(1)
        self._row("quiet", "Quiet hours", quiet,
                  hint=f"Your time zone ({page.tz}): deliveries due then wait until the end; none is dropped.")
        limit = QWidget()
        ll = QHBoxLayout(limit)
        ll.setContentsMargins(0, 0, 0, 0)
        self.limit_on = QCheckBox("At most")
        self.limit_on.setObjectName("limitOn")
        self.limit = QSpinBox()
        self.limit.setObjectName("maxPerHour")
        self.limit.setRange(1, 1000)
        self.limit.setValue(5)
        ll.addWidget(self.limit_on)
        ll.addWidget(self.limit)
        ll.addWidget(QLabel("messages an hour to each destination"))
        ll.addStretch(1)
        self._row("limit", "Rate limit", limit,
                  hint="The alerts over it go out together in one message as soon as the hour allows.")
        self.quiet_on.toggled.connect(lambda _on: self._sync_enabled())
        self.limit_on.toggled.connect(lambda _on: self._sync_enabled())
        lay.addLayout(form)

        self.dest_box = QWidget()
        self.dest_lay = QVBoxLayout(self.dest_box)
        self.dest_lay.setContentsMargins(0, 0, 0, 0)
        self.dest_lay.addStretch(1)  # editors keep their height at the top; the scroll area takes the rest
        scroll = QScrollArea()
        scroll.setObjectName("destinations")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.dest_box)
        scroll.setMinimumHeight(240)
        scroll.setMinimumWidth(540)
        self.scroll = scroll
        lay.addWidget(scroll, 1)
        self.add_dest = QPushButton("Add destination")
        self.add_dest.setObjectName("addDestination")
        self.add_dest.setAutoDefault(False)
        self.add_dest.clicked.connect(lambda _c=False: self.add_destination())
        lay.addWidget(self.add_dest)
        self.no_connections = QLabel("Connect an integration first (Integrations tab > Connect): rules send "
                                     "to connections.")
        self.no_connections.setObjectName("noConnections")
        self.no_connections.setWordWrap(True)
        self.no_connections.setVisible(not page.connections)
        lay.addWidget(self.no_connections)

        self.error = _error_label("generalError")
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.submit = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.submit.setObjectName("saveRule")
        self.submit.setEnabled(bool(page.connections))
        self.buttons.accepted.connect(self.submit_form)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

        self.trigger.currentIndexChanged.connect(lambda _i: self._trigger_changed())
        if rule is not None:
            self._fill(rule)
        elif page.connections:
            self.add_destination()
        self._trigger_changed()

    # -- building ---------------------------------------------------------------------------------
    def _row(self, key: str, label: str, widget: QWidget, hint: str = "") -> None:
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        bl.addWidget(widget)
        if hint:
            h = QLabel(hint)
            h.setObjectName(f"hint_{key}")
            h.setWordWrap(True)
            h.setForegroundRole(R.PlaceholderText)
            bl.addWidget(h)
        err = _error_label(f"error_{key}")
        bl.addWidget(err)
        lab = QLabel(label)
        self.form.addRow(lab, box)
        self.errors_at[key] = err
        self.rows[key] = (lab, box)

    def add_destination(self) -> DestinationEditor:
        editor = DestinationEditor(len(self.destinations), self.page.connections)
        editor.remove.clicked.connect(lambda _c=False, e=editor: self.remove_destination(e))
        self.destinations.append(editor)
        self.dest_lay.insertWidget(self.dest_lay.count() - 1, editor)
        self._renumber()
        return editor

    def remove_destination(self, editor: DestinationEditor) -> None:
        self.destinations.remove(editor)
        editor.setParent(None)
        editor.deleteLater()
        self._renumber()

    def _renumber(self) -> None:
        report = is_report(self.trigger_id())
        for i, e in enumerate(self.destinations):
            e.set_title(i + 1)
            e.remove.setVisible(len(self.destinations) > 1)
        self.add_dest.setVisible(bool(self.page.connections) and not (report and len(self.destinations) >= 1))

    def _fill(self, rule: "Rule") -> None:
        self.name.setText(rule.name)
        self.trigger.setCurrentIndex(max(0, self.trigger.findData(rule.trigger)))
        for d in rule.destinations:
            self.add_destination().set_destination(d.connection, d.action, d.params)
        if is_report(rule.trigger):
            self.day.setCurrentIndex(getattr(rule, "weekday", None) or 0)
            self.hour.setValue(getattr(rule, "hour", 9))
            self.group.setCurrentIndex(max(0, self.group.findData(getattr(rule, "group_by", "model"))))
            return
        self.budget.setCurrentIndex(max(0, self.budget.findData(getattr(rule, "budget", None))))
        pct = getattr(rule, "min_percent", None)
        self.percent.setText("" if pct is None else f"{pct.normalize():f}")
        qs, qe = getattr(rule, "quiet_start", None), getattr(rule, "quiet_end", None)
        if qs and qe:
            self.quiet_on.setChecked(True)
            self.quiet_start.setTime(QTime.fromString(qs, "HH:mm"))
            self.quiet_end.setTime(QTime.fromString(qe, "HH:mm"))
        limit = getattr(rule, "max_per_hour", None)
        if limit:
            self.limit_on.setChecked(True)
            self.limit.setValue(limit)

    def trigger_id(self) -> str:
        return str(self.trigger.currentData() or "threshold")

    def _trigger_changed(self) -> None:
        t = self.trigger_id()
        report = is_report(t)
        shown = {"name": True, "trigger": True, "budget": t in BUDGET_TRIGGERS, "percent": t == "threshold",
                 "day": t == "report:weekly", "hour": report, "group": report, "quiet": not report,
                 "limit": not report}
        for key, (lab, box) in self.rows.items():
            lab.setVisible(shown[key])
            box.setVisible(shown[key])
        while report and len(self.destinations) > 1:
            self.remove_destination(self.destinations[-1])
        self._renumber()
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        for w in (self.quiet_start, self.quiet_end):
            w.setEnabled(self.quiet_on.isChecked())
        self.limit.setEnabled(self.limit_on.isChecked())

    # -- saving -----------------------------------------------------------------------------------
    def draft(self) -> RuleDraft:
        t = self.trigger_id()
        report = is_report(t)
        dests = [e.spec() for e in self.destinations]
        quiet = (f"{self.quiet_start.time().toString('HH:mm')}-{self.quiet_end.time().toString('HH:mm')}"
                 if self.quiet_on.isChecked() else None)
        given = {"name", "destinations"} | ({"weekday", "hour", "group_by"} if report else
                                            {"budget", "min_percent", "quiet_hours", "max_per_hour"})
        return RuleDraft(
            t, dests, name=self.name.text().strip() or None,
            budget=None if report else self.budget.currentData(),
            min_percent=(self.percent.text().strip() or None) if t == "threshold" else None,
            quiet_hours=None if report else quiet,
            max_per_hour=self.limit.value() if self.limit_on.isChecked() and not report else None,
            weekday=self.day.currentData() if t == "report:weekly" else None,
            hour=self.hour.value() if report else None, group_by=self.group.currentData() if report else None,
            given=frozenset(given))

    def submit_form(self) -> None:
        if self.worker is not None:
            return
        self.clear_errors()
        if not self.destinations:
            _show(self.error, "Add a destination: where the rule sends.")
            return
        ref = None if self.rule is None else (f"r{self.rule.id}" if is_report(self.rule.trigger) else str(self.rule.id))
        self.submit.setEnabled(False)
        self.worker = self._run(save_rule, self.db, self.tz, self.draft(), ref, self.page.week_start,
                                on_done=self._done, on_error=self._failed, owner=self)

    def _done(self, rule: "Rule") -> None:
        self.worker = None
        self.submit.setEnabled(True)
        self.saved.emit(rule)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.worker = None
        self.submit.setEnabled(True)
        try:
            self._show_refusal(exc)
        finally:
            self.refused.emit(exc)

    def _show_refusal(self, exc: BaseException) -> None:
        if isinstance(exc, DestinationErrors):
            for i, e in exc.errors:
                self.destinations[i].show_error(e)
            return
        if isinstance(exc, InputError) and exc.field in FIELD_ROWS:
            key = "hour" if exc.field == "at" and is_report(self.trigger_id()) else FIELD_ROWS[exc.field]
            _show(self.errors_at[key], f"{exc.reason[:1].upper()}{exc.reason[1:]}")
            return
        _show(self.error, message_of(exc) if not isinstance(exc, InputError) else str(exc))

    def clear_errors(self) -> None:
        for lab in (*self.errors_at.values(), self.error):
            _show(lab, "")
        for e in self.destinations:
            e.clear_errors()

    def errors(self) -> dict[str, str]:
        """Shown errors by row ('name', 'quiet', 'dest0.repo', 'general')."""
        out = {k: lab.text() for k, lab in self.errors_at.items() if not lab.isHidden()}
        for i, e in enumerate(self.destinations):
            out.update({f"dest{i}.{k}": v for k, v in e.errors().items()})
        if not self.error.isHidden():
            out["general"] = self.error.text()
        return out
