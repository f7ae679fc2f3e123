"""What a destination says: an alert (or several, or a report) in words, shaped into each action's parameters."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aicost_desktop.domain.money import format_money, money_json
from aicost_desktop.integrations import registry
from aicost_desktop.integrations.slack import alert_blocks
from aicost_desktop.integrations.spec import Action, ParamType
from aicost_desktop.notify.alerts import AlertView
from aicost_desktop.notify.message import title_of


@dataclass(frozen=True)
class Message:
    """What a destination says, before it is shaped into an action's parameters."""

    event: str                                  # alert.threshold, report.weekly
    title: str
    text: str                                   # plain text, one or more lines
    fields: tuple[tuple[str, str], ...] = ()    # label, value (money already formatted)
    rows: tuple[tuple[str, ...], ...] = ()      # a report's table, header first
    data: Mapping[str, Any] = field(default_factory=dict)  # the JSON a webhook receives
    ref: str = ""                               # 'alert #12'

    def plain(self) -> str:
        lines = [self.text, *(f"{k}: {v}" for k, v in self.fields)]
        return "\n".join(line for line in lines if line)

    def markdown(self) -> str:
        out = [self.text, ""] + [f"- **{k}:** {v}" for k, v in self.fields]
        if self.rows:
            head, *body = self.rows
            out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(r) + " |" for r in body]
        if self.ref:
            out += ["", f"_AI Cost Tracker, {self.ref}_"]
        return "\n".join(out).strip()

    def html(self) -> str:
        """An email's HTML part: the text, the fields and a report's rows as tables (escaped)."""
        e = html.escape
        out = [f"<h2>{e(self.title)}</h2>"] + [f"<p>{e(line)}</p>" for line in self.text.splitlines() if line]
        if self.fields:
            out.append("<table>" + "".join(f"<tr><th align=\"left\">{e(k)}</th><td>{e(v)}</td></tr>"
                                           for k, v in self.fields) + "</table>")
        if self.rows:
            head, *body = self.rows
            out.append("<table><tr>" + "".join(f"<th align=\"left\">{e(h)}</th>" for h in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</table>")
        if self.ref:
            out.append(f"<p style=\"color:#666\">AI Cost Tracker, {e(self.ref)}</p>")
        return "<html><body>" + "".join(out) + "</body></html>"


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal(1)):f}%"


def alert_message(a: AlertView) -> Message:
    """An alert in words: its title and message, and the budget, spend, limit and percentage as fields."""
    fields: list[tuple[str, str]] = []
    if a.type in ("threshold", "forecast") and a.budget_limit is not None:
        if a.budget:
            fields.append(("Budget", a.budget))
        fields.append(("Spent", format_money(a.current_usage, a.currency)))
        fields.append(("Limit", format_money(a.budget_limit, a.currency)))
        if a.current_usage is not None and a.budget_limit:
            fields.append(("Used", _pct(a.current_usage / a.budget_limit * 100)))
    elif a.type == "anomaly" and a.current_usage is not None:
        fields.append(("Spent", format_money(a.current_usage, a.currency)))
        if a.budget_limit is not None:
            fields.append(("Expected", format_money(a.budget_limit, a.currency)))
    data = {"id": a.id, "type": a.type, "title": title_of(a), "message": a.message, "budget": a.budget,
            "threshold": None if a.threshold is None else f"{a.threshold.normalize():f}",
            "current_usage": money_json(a.current_usage), "budget_limit": money_json(a.budget_limit),
            "currency": a.currency, "sent_at": a.sent_at.isoformat(),
            "period_start": a.period_start.isoformat() if a.period_start else None}
    return Message(f"alert.{a.type}", title_of(a), a.message, tuple(fields), data=data, ref=f"alert #{a.id}")


def summary_message(alerts: Sequence[AlertView], rule: str, max_per_hour: int) -> Message:
    """Several alerts as one message: what a rule over its hourly limit sends when the hour allows one more."""
    n = len(alerts)
    lines = [f"{n} alerts of the rule “{rule}” (it sends at most {max_per_hour} message"
             f"{'s' if max_per_hour != 1 else ''} an hour):"]
    lines += [f"• {title_of(a)}: {a.message}" for a in alerts]
    data = {"rule": rule, "count": n, "alerts": [dict(alert_message(a).data) for a in alerts]}
    ids = ", ".join(f"#{a.id}" for a in alerts)
    return Message("alert.summary", f"{n} alerts: {rule}", "\n".join(lines), data=data, ref=f"alerts {ids}")


_TITLE_KEYS = ("title", "subject", "name", "summary")
_TEXT_KEYS = ("text", "content", "body", "message", "description")
_ROW_KEYS = ("rows", "values", "records")


def _fill(act: Action, msg: Message, out: dict[str, Any]) -> None:
    """Parameters an integration's action names like a message's parts get them (new integrations too)."""
    for p in act.params:
        if p.key in out:
            continue
        if p.key in _TITLE_KEYS and p.type in (ParamType.STRING, ParamType.TEXT):
            out[p.key] = msg.title
        elif p.key in _TEXT_KEYS and p.type in (ParamType.STRING, ParamType.TEXT):
            out[p.key] = msg.markdown() if p.type is ParamType.TEXT else msg.text
        elif p.key in ("data", "payload") and p.type is ParamType.JSON:
            out[p.key] = dict(msg.data)
        elif p.key in _ROW_KEYS and p.type is ParamType.JSON and msg.rows:
            out[p.key] = [list(r) for r in msg.rows[1:]]


def action_params(kind: str, action: str, msg: Message, user: Mapping[str, Any]) -> dict[str, Any]:
    """The action's parameters for `msg`: what the user set wins, the message fills the rest in the shape
    each service shows best (Slack blocks, a Discord embed, a GitHub issue in Markdown...)."""
    act = registry.get(kind).action(action)
    out = dict(user)
    plain = msg.plain()
    if (kind, action) == ("slack", "post_message"):
        out.setdefault("text", f"{msg.title}: {msg.text}")
        out.setdefault("blocks", alert_blocks(msg.title, plain + _table(msg)))
    elif (kind, action) == ("discord", "send_message"):
        out.setdefault("content", f"**{msg.title}**\n{plain}{_table(msg)}"[:2000])
    elif (kind, action) == ("discord", "send_embed"):
        out.setdefault("title", msg.title)
        out.setdefault("description", (msg.text + _table(msg))[:4096])
        if msg.fields:
            out.setdefault("fields", [{"name": k, "value": v, "inline": True} for k, v in msg.fields])
    elif (kind, action) == ("github", "create_issue"):
        out.setdefault("title", f"AI Cost Tracker: {msg.title}")
        out.setdefault("body", msg.markdown())
    elif (kind, action) == ("sendgrid", "send_email"):
        out.setdefault("subject", msg.title)
        out.setdefault("text", plain + _table(msg))
    elif (kind, action) == ("email", "send_email"):
        out.setdefault("subject", f"[AI Cost Tracker] {msg.title}")
        out.setdefault("text", plain + _table(msg) + (f"\n\n-- AI Cost Tracker ({msg.ref})" if msg.ref else ""))
        out.setdefault("html", msg.html())
    elif kind == "twilio":
        out.setdefault("body", f"{msg.title}: {plain}"[:1600])
    elif (kind, action) == ("webhook", "post"):
        out.setdefault("event", msg.event)
        out.setdefault("data", dict(msg.data))
    _fill(act, msg, out)
    return out


def _table(msg: Message) -> str:
    """A report's rows as aligned text lines after the message (header left out: the labels say it)."""
    if not msg.rows:
        return ""
    body = msg.rows[1:]
    width = max((len(r[-2]) for r in body), default=0)
    return "".join(f"\n{r[-2].ljust(width)}  {r[-1]}" for r in body)
