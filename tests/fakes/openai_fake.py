"""Fake OpenAI Admin API (costs + usage) over real HTTP, with a seeded dataset and exact expected totals."""

from __future__ import annotations

import base64
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

DAY = 86400
ADMIN_KEY = "sk-admin-fake0000000000"
PROJECT_KEY = "sk-proj-fake0000000000"
MODELS = ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "o3-2025-04-16", "gpt-4.1-2025-04-14")
EMBED_MODEL = "text-embedding-3-small"
USAGE_GROUPS = {
    "completions": {"project_id", "user_id", "api_key_id", "model", "batch", "service_tier"},
    "embeddings": {"project_id", "user_id", "api_key_id", "model"},
}
COST_GROUPS = {"project_id", "line_item", "api_key_id"}
LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}


def encode_cursor(state: dict[str, Any]) -> str:
    """Opaque `page_...` cursor (base64 JSON), like the real ones."""
    return "page_" + base64.b64encode(json.dumps(state, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    if not cursor.startswith("page_"):
        return None
    try:
        return json.loads(base64.b64decode(cursor[5:]))
    except ValueError:
        return None


def day_buckets(start: int, end: int, now: int) -> list[tuple[int, int]]:
    """Daily buckets from raw `start` (first one unaligned if start is) to min(end, now)."""
    out, t, stop = [], start, min(end, now)
    while t < stop:
        nxt = (t // DAY + 1) * DAY
        out.append((t, nxt))
        t = nxt
    return out


def fraction(day_start: int, lo: int, hi: int) -> Decimal:
    """Share of a day's (uniformly spread) usage inside [lo, hi)."""
    a, b = max(lo, day_start), min(hi, day_start + DAY)
    return Decimal(max(0, b - a)) / DAY


@dataclass(frozen=True)
class UsageRow:
    day: date
    project: str
    model: str
    batch: bool
    tier: str
    input_tokens: int  # includes cached and cache writes, as OpenAI reports
    cached: int
    cache_write: int
    output: int
    requests: int
    kind: str = "completions"


@dataclass(frozen=True)
class CostRow:
    day: date
    project: str
    line_item: str
    parts: tuple[Decimal, Decimal]  # sent as float(a) + float(b): float noise on purpose


class OpenAIFake(FakeHTTPServer):
    """Seeded org: `days` days ending yesterday-of-`now` x models x projects; every 5th day is empty.

    `now` is the fake clock: today's bucket holds the elapsed share of today's data, so it grows
    as tests advance `now`. Modes: `disagree` (has_more without next_page), `old_shape` rows
    without the 2026 split fields (odd days), `reject_future_end` (400 for an `end_time` after the
    clock, as a user reported of the real API: research 1.7, secondary), `null_amounts` (each non-empty
    costs bucket also carries a result with `amount: null`, which OAI-PY types as Optional). API: `base_url + "/v1"` is the SDK-style base.
    """

    def __init__(self, now: datetime, days: int = 30, seed: int = 7, projects: tuple[str, ...] = ("proj_a", "proj_b"),
                 models: tuple[str, ...] = MODELS) -> None:
        super().__init__()
        self.now = now
        self.disagree = False
        self.reject_future_end = False
        self.null_amounts = False
        rng = random.Random(seed)
        today = now.astimezone(timezone.utc).date()
        self.first_day = today - timedelta(days=days - 1)
        self.usage: list[UsageRow] = []
        self.costs: list[CostRow] = []
        for i in range(days):
            d = self.first_day + timedelta(days=i)
            if i % 5 == 3:
                continue  # an empty day: bucket present, results []
            for p in projects:
                for m in models:
                    inp = rng.randint(1000, 500_000)
                    cached = rng.randint(0, inp // 2)
                    # cache writes only on even days: odd days use the old shape, which cannot report them
                    write = rng.randint(0, (inp - cached) // 4) if d.toordinal() % 2 == 0 else 0
                    batch = m == models[1] and p == projects[-1]
                    tier = "flex" if m.startswith("o3") and p == projects[0] else "default"
                    self.usage.append(UsageRow(d, p, m, batch, tier, inp, cached, write,
                                               rng.randint(100, 80_000), rng.randint(1, 400)))
                    for part in ("input", "output"):
                        a = Decimal(rng.randint(1, 900_000)).scaleb(-6)
                        b = Decimal(rng.randint(1, 9_999)).scaleb(-4)
                        self.costs.append(CostRow(d, p, f"{m}, {part}", (a, b)))
                self.usage.append(UsageRow(d, p, EMBED_MODEL, False, "default", rng.randint(100, 90_000),
                                           0, 0, 0, rng.randint(1, 50), kind="embeddings"))

    # ---- expected values for tests --------------------------------------------------------
    def _frac(self, d: date, lo: datetime, hi: datetime) -> Decimal:
        ds = int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())
        return fraction(ds, int(lo.timestamp()), min(int(hi.timestamp()), int(self.now.timestamp())))

    def expected_cost(self, since: datetime, until: datetime) -> Decimal:
        """Exact dollars the costs endpoint reports for [since, until) at the current clock."""
        total = Decimal(0)
        for c in self.costs:
            f = self._frac(c.day, since, until)
            if f:
                total += self._scaled_amount(c, f)
        return total

    def expected_tokens(self, since: datetime, until: datetime, kind: str = "completions") -> dict[str, int]:
        """Normalized token totals: uncached input, cache read, cache write, output, requests."""
        t: dict[str, int] = defaultdict(int)
        for u in self.usage:
            f = self._frac(u.day, since, until)
            if u.kind != kind or not f:
                continue
            inp, cached, write = (int(u.input_tokens * f), int(u.cached * f), int(u.cache_write * f))
            t["input"] += inp - cached - write
            t["cache_read"] += cached
            t["cache_write"] += write
            t["output"] += int(u.output * f)
            t["requests"] += int(u.requests * f)
        return dict(t)

    @staticmethod
    def _scaled_amount(c: CostRow, f: Decimal) -> Decimal:
        return ((c.parts[0] + c.parts[1]) * f).quantize(Decimal("1e-10"))

    # ---- HTTP ---------------------------------------------------------------------------
    @staticmethod
    def error(status: int, message: str, type_: str, param: str | None = None,
              code: str | None = None, headers: dict[str, str] | None = None) -> FakeResponse:
        return FakeResponse.json_({"error": {"message": message, "type": type_, "param": param, "code": code}},
                                  status, headers)

    def handle(self, req: FakeRequest) -> FakeResponse:
        auth = req.header("authorization") or ""
        if not auth.startswith("Bearer "):
            return self.error(401, "You didn't provide an API key. You need to provide your API key in an "
                              "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                              "invalid_request_error")
        key = auth[7:]
        if key == PROJECT_KEY:
            return self.error(403, "You have insufficient permissions for this operation. Missing scopes: "
                              "api.usage.read. Check that you have the correct role in your organization.",
                              "invalid_request_error")
        if key != ADMIN_KEY:
            return self.error(401, f"Incorrect API key provided: {key[:8]}****{key[-4:]}.",
                              "invalid_request_error", code="invalid_api_key")
        if req.method != "GET":
            return self.error(405, "Method not allowed", "invalid_request_error")
        if req.path == "/v1/organization/costs":
            return self._page(req, "costs", COST_GROUPS, ("1d",), (7, 180))
        kind = req.path.removeprefix("/v1/organization/usage/")
        if kind in USAGE_GROUPS:
            return self._page(req, kind, USAGE_GROUPS[kind], ("1m", "1h", "1d"), None)
        return self.error(404, f"Invalid URL (GET {req.path})", "invalid_request_error")

    def _page(self, req: FakeRequest, kind: str, allowed: set[str], widths: tuple[str, ...],
              limits: tuple[int, int] | None) -> FakeResponse:
        start_s = req.param("start_time")
        if start_s is None:
            return self.error(400, "Missing required parameter: 'start_time'.", "invalid_request_error",
                              "start_time", "missing_required_parameter")
        try:
            start = int(start_s)
            end = int(req.param("end_time") or 2**40)
        except ValueError:
            return self.error(400, f"Invalid value for 'start_time': {start_s}.", "invalid_request_error",
                              "start_time", "invalid_value")
        if self.reject_future_end and req.param("end_time") is not None and end > int(self.now.timestamp()):
            return self.error(400, f"Invalid value for 'end_time': {end}.", "invalid_request_error",
                              "end_time", "invalid_value")
        width = req.param("bucket_width") or "1d"
        if width not in widths:
            return self.error(400, f"Invalid value for 'bucket_width': {width}.", "invalid_request_error",
                              "bucket_width", "invalid_value")
        default, maximum = limits or LIMITS[width]
        limit = int(req.param("limit") or default)
        if not 1 <= limit <= maximum:
            return self.error(400, f"Invalid 'limit': must be between 1 and {maximum}.", "invalid_request_error",
                              "limit", "invalid_value")
        if width != "1d":
            return self.error(400, "this fake only serves 1d buckets", "invalid_request_error", "bucket_width")
        groups = set(req.params("group_by"))
        if groups - allowed:
            bad = sorted(groups - allowed)[0]
            return self.error(400, f"Invalid value for 'group_by': {bad}.", "invalid_request_error", "group_by")
        offset = 0
        if req.param("page"):
            state = decode_cursor(req.param("page") or "")
            if state is None:
                return self.error(400, "Invalid 'page' cursor.", "invalid_request_error", "page")
            offset = state["offset"]
        buckets = day_buckets(start, end, int(self.now.timestamp()))
        chunk = buckets[offset:offset + limit]
        has_more = offset + limit < len(buckets)
        data = [{"object": "bucket", "start_time": s, "end_time": e,
                 "results": self._results(kind, s, e, groups)} for s, e in chunk]
        next_page = encode_cursor({"offset": offset + limit, "k": kind}) if has_more else None
        if self.disagree and has_more:
            next_page = None
        return FakeResponse.json_({"object": "page", "data": data, "has_more": has_more, "next_page": next_page})

    def _results(self, kind: str, s: int, e: int, groups: set[str]) -> list[dict[str, Any]]:
        d = datetime.fromtimestamp(s, tz=timezone.utc).date()
        hi = min(e, int(self.now.timestamp()))
        ds = s - s % DAY
        f = fraction(ds, s, hi)
        if kind == "costs":
            return self._cost_results(d, f, groups)
        agg: dict[tuple[Any, ...], dict[str, int]] = {}
        for u in self.usage:
            if u.day != d or u.kind != kind:
                continue
            key = (u.project if "project_id" in groups else None, u.model if "model" in groups else None,
                   u.batch if "batch" in groups else None, u.tier if "service_tier" in groups else None)
            a = agg.setdefault(key, defaultdict(int))  # type: ignore[arg-type]
            a["input_tokens"] += int(u.input_tokens * f)
            a["input_cached_tokens"] += int(u.cached * f)
            a["input_cache_write_tokens"] += int(u.cache_write * f)
            a["output_tokens"] += int(u.output * f)
            a["num_model_requests"] += int(u.requests * f)
        old_shape = d.toordinal() % 2 == 1
        out = []
        for (project, model, batch, tier), a in agg.items():
            r: dict[str, Any] = {"object": f"organization.usage.{kind}.result", "input_tokens": a["input_tokens"],
                                 "num_model_requests": a["num_model_requests"]}
            if kind == "completions":
                r["output_tokens"] = a["output_tokens"]
                r["input_cached_tokens"] = a["input_cached_tokens"]
                r["input_audio_tokens"] = 0
                r["output_audio_tokens"] = 0
                if not old_shape:  # the 2026 split fields; absent on odd days (old shape)
                    r["input_cache_write_tokens"] = a["input_cache_write_tokens"]
                    r["input_uncached_tokens"] = (a["input_tokens"] - a["input_cached_tokens"]
                                                  - a["input_cache_write_tokens"])
                r["batch"] = batch
                r["service_tier"] = tier
            r.update({"project_id": project, "user_id": None, "api_key_id": None, "model": model})
            out.append(r)
        return out

    def _cost_results(self, d: date, f: Decimal, groups: set[str]) -> list[dict[str, Any]]:
        agg: dict[tuple[Any, Any], list[CostRow]] = defaultdict(list)
        for c in self.costs:
            if c.day == d:
                agg[(c.project if "project_id" in groups else None,
                     c.line_item if "line_item" in groups else None)].append(c)
        out = []
        for (project, line_item), rows in agg.items():
            if f == 1:
                value = sum(float(c.parts[0]) + float(c.parts[1]) for c in rows)
            else:
                value = float(sum((self._scaled_amount(c, f) for c in rows), Decimal(0)))
            out.append({"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
                        "line_item": line_item, "project_id": project,
                        "api_key_id": "key_fake" if "api_key_id" in groups else None,
                        "quantity": None, "quantity_unit": None})
        if self.null_amounts and out:
            out.append({"object": "organization.costs.result", "amount": None,
                        "line_item": "web search tool calls" if "line_item" in groups else None,
                        "project_id": out[0]["project_id"], "api_key_id": None,
                        "quantity": 3 if "line_item" in groups else None, "quantity_unit": None})
        return out


class ListSink(list[list[Any]]):
    """PageSink collecting pages; `fail_on` raises on that page number (1-based) to test aborts."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__()
        self.fail_on = fail_on

    def __call__(self, records: list[Any]) -> None:
        if self.fail_on is not None and len(self) + 1 == self.fail_on:
            raise RuntimeError("sink failed")
        self.append(list(records))

    @property
    def records(self) -> list[Any]:
        return [r for page in self for r in page]


def table_pricer(prices: dict[str, tuple[str, str]], long_context_models: frozenset[str] = frozenset()) -> Any:
    """Pricer from {model: (input $/Mtok, output $/Mtok)}; cache reads 10 %, writes 125 %; batch/flex half.

    `long_context=True` on a model in `long_context_models` bills inputs x2 and output x1.5 (the
    published Sonnet 4 premium above 200k); every other model ignores it, like the catalog.
    """
    from aicost_desktop.domain.enums import ServiceTier

    def price(model: str | None, usage: Any, tier: ServiceTier, day: date, *,
              long_context: bool | None = None) -> Decimal | None:
        if model not in prices:
            return None
        pin, pout = (Decimal(p) / 1_000_000 for p in prices[model])
        if long_context and model in long_context_models:
            pin, pout = pin * 2, pout * Decimal("1.5")
        cost = (usage.input_tokens * pin + usage.cache_read_tokens * pin / 10
                + usage.cache_write_tokens * pin * Decimal("1.25") + usage.billable_output_tokens * pout)
        if tier in (ServiceTier.BATCH, ServiceTier.FLEX):
            cost /= 2
        return cost.quantize(Decimal("1e-10"))

    return price
