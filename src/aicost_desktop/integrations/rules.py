"""A user's rules in one list: alert rules (routing) and scheduled reports, added, edited and removed alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Union
from zoneinfo import ZoneInfo

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import reports, routing
from aicost_desktop.integrations.reports import REPORT_TRIGGERS, Schedule
from aicost_desktop.integrations.routing import DestinationSpec, Route
from aicost_desktop.storage.db import Database

Rule = Union[Route, Schedule]
# `aicost routes add --on`, in the order the issue and the dialog name them.
TRIGGER_CHOICES = (*routing.TRIGGERS, *REPORT_TRIGGERS)


def is_report(trigger: str) -> bool:
    return trigger in REPORT_TRIGGERS


def ref_of(rule: Rule) -> str:
    """How the CLI names a rule by id: '3' for an alert rule, 'r3' for a scheduled report."""
    return f"r{rule.id}" if isinstance(rule, Schedule) else str(rule.id)


def describe(rule: Rule) -> str:
    return rule.describe()


def limits(rule: Rule) -> str:
    return "" if isinstance(rule, Schedule) else rule.limits()


def rule_json(rule: Rule) -> dict[str, Any]:
    """One shape for both kinds: `kind`, `ref`, `trigger`, `when`, `destinations`, plus each kind's own fields."""
    if isinstance(rule, Schedule):
        doc = rule.as_json()
        doc.update(kind="report", ref=ref_of(rule), destinations=[rule.destination.as_json()], quiet_hours=None,
                   max_per_hour=None)
        return doc
    return {"kind": "alert", "ref": ref_of(rule), **rule.as_json()}


def list_rules(db: Database) -> list[Rule]:
    """Alert rules, then scheduled reports, each in the order they were added."""
    out: list[Rule] = [*routing.list_routes(db), *reports.list_reports(db)]
    return out


def find_rule(db: Database, ref: str) -> Rule:
    """By name (rules and reports share one namespace), by id ('3'), or a report's 'r3'."""
    text = ref.strip()
    for rule in list_rules(db):
        if rule.name == ref:
            return rule
    if text[:1] in ("r", "R") and text[1:].isdigit():
        found = [s for s in reports.list_reports(db) if str(s.id) == text[1:]]
        if found:
            return found[0]
    elif text.isdigit():
        found_route = [r for r in routing.list_routes(db) if str(r.id) == text]
        if found_route:
            return found_route[0]
    raise InputError("route", ref, "no such rule (see aicost routes list)")


@dataclass(frozen=True)
class RuleDraft:
    """What a form or `aicost routes add/edit` gives: the trigger, its destinations, and the options that fit it
    (budget and percentage for budget alerts, quiet hours and an hourly limit for alerts, day/hour/grouping for
    reports). None means not given."""

    trigger: str
    destinations: Sequence[DestinationSpec] = ()
    name: str | None = None
    budget: str | None = None
    min_percent: str | Decimal | int | None = None
    quiet_hours: str | tuple[str, str] | None = None
    max_per_hour: str | int | None = None
    weekday: str | int | None = None
    hour: int | None = None
    group_by: str | None = None
    enabled: bool = True
    given: frozenset[str] = field(default_factory=frozenset)  # edit: the options the user set (others are kept)


def _refuse_foreign(d: RuleDraft) -> None:
    """Options of the other kind of rule are refused, naming the option."""
    if is_report(d.trigger):
        for key, value, why in (
                ("budget", d.budget, "a report covers all spend; budgets are for threshold, exceeded and forecast rules"),
                ("quiet-hours", d.quiet_hours, "a report goes out once a period at its hour (--at)"),
                ("max-per-hour", d.max_per_hour, "a report goes out once a period")):
            if value not in (None, ""):
                raise InputError(key, value, why)
        if len(d.destinations) > 1:
            raise InputError("integration", d.destinations[1].connection,
                             "a report has one destination; add another rule for the next")
        return
    for key, value in (("day", d.weekday), ("group-by", d.group_by), ("hour", d.hour)):
        if value not in (None, ""):
            raise InputError(key, value, "only report:daily, report:weekly and report:monthly rules take it")


def add_rule(db: Database, tz: ZoneInfo, d: RuleDraft, *, week_start: int = 0, now: datetime | None = None) -> Rule:
    if d.trigger not in TRIGGER_CHOICES:
        raise InputError("on", d.trigger, f"use one of {', '.join(TRIGGER_CHOICES)}")
    _refuse_foreign(d)
    if is_report(d.trigger):
        if not d.destinations:
            raise InputError("integration", "<none>", "a report needs a destination")
        return reports.add_report(db, tz, REPORT_TRIGGERS[d.trigger], d.destinations[0], name=d.name,
                                  weekday=d.weekday, hour=9 if d.hour is None else d.hour,
                                  group_by=d.group_by or "model", week_start=week_start, now=now)
    return routing.add_route(db, d.trigger, d.destinations, name=d.name, budget=d.budget, min_percent=d.min_percent,
                             quiet_hours=d.quiet_hours, max_per_hour=d.max_per_hour, now=now)


def update_rule(db: Database, tz: ZoneInfo, ref: str, d: RuleDraft, *, week_start: int = 0,
                now: datetime | None = None) -> Rule:
    """Change the options in `d.given` (and the trigger, within its kind); the rest stays."""
    old = find_rule(db, ref)
    if d.trigger not in TRIGGER_CHOICES:
        raise InputError("on", d.trigger, f"use one of {', '.join(TRIGGER_CHOICES)}")
    if is_report(d.trigger) != isinstance(old, Schedule):
        raise InputError("on", d.trigger, "an alert rule and a report cannot become each other; add a new rule")
    _refuse_foreign(d)
    g = d.given

    def pick(key: str, value: Any) -> Any:
        return value if key in g else routing.KEEP

    if isinstance(old, Schedule):
        return reports.update_report(
            db, tz, str(old.id), name=pick("name", d.name), frequency=REPORT_TRIGGERS[d.trigger],
            weekday=pick("weekday", d.weekday), hour=pick("hour", d.hour), group_by=pick("group_by", d.group_by),
            destination=d.destinations[0] if "destinations" in g and d.destinations else routing.KEEP,
            enabled=pick("enabled", d.enabled), week_start=week_start, now=now)
    return routing.update_route(
        db, str(old.id), name=pick("name", d.name), trigger=d.trigger, budget=pick("budget", d.budget),
        min_percent=pick("min_percent", d.min_percent), quiet_hours=pick("quiet_hours", d.quiet_hours),
        max_per_hour=pick("max_per_hour", d.max_per_hour), enabled=pick("enabled", d.enabled),
        destinations=pick("destinations", d.destinations), now=now)


def remove_rule(db: Database, ref: str) -> Rule:
    rule = find_rule(db, ref)
    if isinstance(rule, Schedule):
        return reports.remove_report(db, str(rule.id))
    return routing.remove_route(db, str(rule.id))
