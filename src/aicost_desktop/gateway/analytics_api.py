"""The local usage analytics API on the gateway's server and token: the numbers of `aicost report`, as JSON.

GET /api/analytics/cost?period=7d                     total spend, tokens and requests of the period
GET /api/analytics/cost/breakdown?period=7d&by=model  grouped (any of the report's group-by fields)
GET /api/analytics/cost/history?period=30d&interval=day  one row per day, week or month

`period` is `Nd` (the last N local days, today included), `mtd`, `ytd` or `today`; `from`/`to`
(YYYY-MM-DD) override it. `provider`, `model`, `account`, `source` filter as in `aicost report`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from aiohttp import web

from aicost_desktop.analytics.report import parse_group_by, spend_report
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import money_json
from aicost_desktop.gateway.proxy import GatewayState
from aicost_desktop.gateway.token import matches
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter

_PERIOD = re.compile(r"^([1-9][0-9]{0,3})d$")
# Amounts in the one JSON money format `aicost report --json` prints ('0.033867', '30.00').
_MONEY = ("cost", "cost_exact", "total", "total_exact")
INTERVALS = ("day", "week", "month")
SETTLE_SECONDS = 10.0
log = logging.getLogger(__name__)


def period_days(params: Any, today: date) -> tuple[date, date]:
    """[first, last] local dates of the query's period."""
    if params.get("from") or params.get("to"):
        try:
            end = date.fromisoformat(params["to"]) if params.get("to") else today
            start = date.fromisoformat(params["from"]) if params.get("from") else end.replace(day=1)
        except ValueError:
            raise InputError("from/to", f"{params.get('from')}..{params.get('to')}", "use YYYY-MM-DD") from None
        if start > end:
            raise InputError("from", start.isoformat(), "is after to")
        return start, end
    period = params.get("period", "mtd")
    if period == "today":
        return today, today
    if period == "mtd":
        return today.replace(day=1), today
    if period == "ytd":
        return today.replace(month=1, day=1), today
    m = _PERIOD.match(period)
    if not m:
        raise InputError("period", period, "use Nd (e.g. 7d, 30d), today, mtd or ytd")
    return today - timedelta(days=int(m.group(1)) - 1), today


def analytics_routes(db: Database, tz: ZoneInfo, *, fx: dict[str, Decimal] | None = None, week_start: int = 0,
                     mode: str = "auto",
                     today: Callable[[], date] | None = None) -> Callable[[web.Application, GatewayState], None]:
    """A hook for GatewayHost(extra_routes=...) serving the three endpoints over `db`."""
    local_today = today or (lambda: datetime.now(tz).date())

    def install(app: web.Application, state: GatewayState) -> None:
        def authorized(request: web.Request) -> bool:
            header = request.headers.get("Authorization", "")
            bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
            return matches(request.headers.get("X-AICost-Token"), state.token) | matches(bearer, state.token)

        def query(request: web.Request, group_by: list[str]) -> dict[str, Any]:
            p = request.query
            # Read our own writes: a call answered before this request counts in it, although its row
            # may still wait in the writer's queue (or behind another process's write lock).
            if not state.settle(SETTLE_SECONDS):
                log.warning("analytics API: gateway rows still queued after %.0f s; answering without them",
                            SETTLE_SECONDS)
            start, end = period_days(p, local_today())
            flt = LedgerFilter.of(provider=p.get("provider"), account=p.get("account"), model=p.get("model"),
                                  source=p.get("source"))
            report = spend_report(db, tz, start, end, group_by, flt, mode=mode, fx=fx, week_start=week_start)
            doc = report.as_json()
            for item in (doc, *doc["rows"]):
                for k in _MONEY:
                    if k in item:
                        item[k] = money_json(Decimal(item[k]))
            doc["period"] = p.get("period", "custom" if p.get("from") or p.get("to") else "mtd")
            totals = {k: sum(r[k] for r in doc["rows"]) for k in ("input_tokens", "output_tokens",
                                                                 "cache_read_tokens", "cache_write_tokens",
                                                                 "requests")}
            doc.update(totals)
            return doc

        def endpoint(build: Callable[[web.Request], dict[str, Any]]) -> Callable[..., Any]:
            async def handler(request: web.Request) -> web.Response:
                if not authorized(request):
                    return _json({"error": {"message": "missing or wrong AI Cost Tracker gateway token",
                                            "type": "authentication_error"}}, 401)
                try:
                    # The ledger query blocks: run it off the loop so proxied calls keep flowing meanwhile.
                    doc = await asyncio.get_running_loop().run_in_executor(None, build, request)
                except InputError as exc:
                    return _json({"error": {"message": str(exc), "type": "invalid_request_error",
                                            "param": exc.field}}, 400)
                return _json(doc, 200)
            return handler

        def cost(request: web.Request) -> dict[str, Any]:
            doc = query(request, [])
            doc.pop("rows")
            return doc

        def breakdown(request: web.Request) -> dict[str, Any]:
            return query(request, parse_group_by(request.query.get("by", "provider,model")))

        def history(request: web.Request) -> dict[str, Any]:
            interval = request.query.get("interval", "day")
            if interval not in INTERVALS:
                raise InputError("interval", interval, f"use one of {', '.join(INTERVALS)}")
            by = [interval] + parse_group_by(request.query.get("by"))
            return query(request, by)

        app.router.add_get("/api/analytics/cost", endpoint(cost))
        app.router.add_get("/api/analytics/cost/breakdown", endpoint(breakdown))
        app.router.add_get("/api/analytics/cost/history", endpoint(history))

    return install


def _json(doc: Any, status: int) -> web.Response:
    return web.Response(status=status, body=json.dumps(doc).encode("utf-8"), content_type="application/json")
