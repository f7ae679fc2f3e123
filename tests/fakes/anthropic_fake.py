"""Fake Anthropic Admin API (cost report + messages usage report) over real HTTP with exact expected totals."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse
from tests.fakes.openai_fake import DAY, decode_cursor, encode_cursor, fraction

ADMIN_KEY = "sk-ant-admin01-fake000000"
WORKSPACE_KEY = "sk-ant-api03-fake000000"
# model -> (display name, input, output $/Mtok); cost in cents per token = $/Mtok * 100 / 1e6
MODELS = {"claude-sonnet-4-20250514": ("Claude Sonnet 4", Decimal(3), Decimal(15)),
          "claude-opus-4-1-20250805": ("Claude Opus 4.1", Decimal(15), Decimal(75)),
          "claude-3-5-haiku-20241022": ("Claude Haiku 3.5", Decimal("0.8"), Decimal(4))}
TOKEN_TYPES = {  # token_type -> (description suffix, multiple of the input price; output uses 1)
    "uncached_input_tokens": ("Input Tokens", Decimal(1)),
    "cache_read_input_tokens": ("Cache Read Input Tokens", Decimal("0.1")),
    "cache_creation.ephemeral_5m_input_tokens": ("5m Cache Write Input Tokens", Decimal("1.25")),
    "cache_creation.ephemeral_1h_input_tokens": ("1h Cache Write Input Tokens", Decimal(2)),
    "output_tokens": ("Output Tokens", Decimal(1)),
}
USAGE_GROUPS = {"api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo",
                "speed", "account_id", "service_account_id"}
COST_GROUPS = {"workspace_id", "description"}
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
COST_LIMITS = {"1d": (7, 31)}


# Long-context (prompt > 200k) multiples of the base rates for models with a 1M window: Sonnet 4 is
# published at $6 in / $22.50 out above 200k (x2 every input kind, x1.5 output).
LONG_CONTEXT_MODELS = {"claude-sonnet-4-20250514"}
LONG_INPUT, LONG_OUTPUT = Decimal(2), Decimal("1.5")


@dataclass(frozen=True)
class Usage:
    day: date
    workspace: str | None  # None = the default workspace
    model: str
    tier: str
    tokens: tuple[int, int, int, int, int]  # uncached, cache_read, 5m, 1h, output
    web_searches: int
    context_window: str = "0-200k"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(v: str) -> int | None:
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(dt.timestamp()) if dt.tzinfo else None


class AnthropicFake(FakeHTTPServer):
    """Seeded org over `days` days ending on `now`'s day; every 5th day empty; priority usage never costed.

    `now` is the fake clock (today's bucket holds the elapsed share). Sonnet 4 has `200k-1M`
    context-window usage every third day (costed at long-context rates); the named workspace has
    `priority_on_demand` Sonnet usage. `costed_tiers`: the service tiers whose money the cost report
    carries (default the documented `standard`/`batch`; add e.g. `priority_on_demand` to have the
    report carry it). `ending_at` at or before `starting_at` is a 400; `reject_future_end` also
    400s an `ending_at` after the clock (Anthropic's behaviour there is unconfirmed: strict on
    purpose). Modes: `disagree` (has_more without next_page) and `throttle_after` (429 with
    retry-after once N requests were served).
    """

    def __init__(self, now: datetime, days: int = 30, seed: int = 11,
                 workspaces: tuple[str | None, ...] = (None, "wrkspc_01Fake")) -> None:
        super().__init__()
        self.now = now
        self.disagree = False
        self.throttle_after: int | None = None
        self.reject_future_end = False
        self.costed_tiers = {"standard", "batch"}
        rng = random.Random(seed)
        today = now.astimezone(timezone.utc).date()
        self.usage: list[Usage] = []
        for i in range(days):
            d = today - timedelta(days=days - 1 - i)
            if i % 5 == 2:
                continue
            for ws in workspaces:
                for m in MODELS:
                    for tier in ("standard", "batch", "priority"):
                        if tier == "batch" and ws is None:
                            continue
                        toks = (rng.randint(0, 300_000), rng.randint(0, 2_000_000), rng.randint(0, 90_000),
                                rng.randint(0, 40_000), rng.randint(1, 60_000))
                        self.usage.append(Usage(d, ws, m, tier, toks, rng.randint(0, 5) if tier == "standard" else 0))
                        if m in LONG_CONTEXT_MODELS and tier != "batch" and i % 3 == 0:
                            long_toks = (rng.randint(200_001, 4_000_000), rng.randint(0, 1_000_000),
                                         rng.randint(0, 50_000), 0, rng.randint(1, 400_000))
                            self.usage.append(Usage(d, ws, m, tier, long_toks, 0, "200k-1M"))
                if ws is not None:
                    toks = (rng.randint(0, 100_000), rng.randint(0, 500_000), 0, 0, rng.randint(1, 20_000))
                    self.usage.append(Usage(d, ws, "claude-sonnet-4-20250514", "priority_on_demand", toks, 0))

    # ---- expected values ----------------------------------------------------------------
    def _f(self, d: date, lo: datetime, hi: datetime) -> Decimal:
        ds = int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())
        return fraction(ds, int(lo.timestamp()), min(int(hi.timestamp()), int(self.now.timestamp())))

    def _cost_lines(self, u: Usage, f: Decimal) -> list[tuple[dict[str, Any], Decimal]]:
        """(dimension fields, cents) of a usage row; tiers outside `costed_tiers` are not in the cost report."""
        if u.tier not in self.costed_tiers:
            return []
        name, pin, pout = MODELS[u.model]
        discount = Decimal("0.5") if u.tier == "batch" else Decimal(1)
        long = u.context_window == "200k-1M"
        if long:
            pin, pout = pin * LONG_INPUT, pout * LONG_OUTPUT
        out = []
        for (ttype, (suffix, mult)), n in zip(TOKEN_TYPES.items(), u.tokens):
            per_tok = (pout if ttype == "output_tokens" else pin * mult) * discount / 10_000  # cents/token
            desc = f"{name} Usage - {suffix}" + (" (Long Context)" if long else "")  # wording unconfirmed
            out.append(({"description": desc, "cost_type": "tokens", "model": u.model,
                         "token_type": ttype, "context_window": u.context_window, "service_tier": u.tier},
                        int(n * f) * per_tok))
        if u.web_searches and int(u.web_searches * f):
            out.append(({"description": "Web Search Usage", "cost_type": "web_search", "model": None,
                         "token_type": None, "context_window": None, "service_tier": None},
                        Decimal(int(u.web_searches * f))))  # $10 / 1000 searches = 1 cent each
        return out

    def expected_cost(self, since: datetime, until: datetime) -> Decimal:
        """Exact dollars in the cost report for [since, until) at the current clock."""
        cents = sum((c for u in self.usage if (f := self._f(u.day, since, until)) for _, c in self._cost_lines(u, f)),
                    Decimal(0))
        return cents / 100

    def expected_tokens(self, since: datetime, until: datetime, tier: str | None = None,
                        context_window: str | None = None) -> tuple[int, ...]:
        """Token sums (uncached, cache_read, 5m, 1h, output), optionally for one service tier / window."""
        t = [0] * 5
        for u in self.usage:
            f = self._f(u.day, since, until)
            if f and (tier is None or u.tier == tier) and context_window in (None, u.context_window):
                for i, n in enumerate(u.tokens):
                    t[i] += int(n * f)
        return tuple(t)

    # ---- HTTP ----------------------------------------------------------------------------
    @staticmethod
    def error(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> FakeResponse:
        return FakeResponse.json_({"type": "error", "error": {"type": type_, "message": message},
                                   "request_id": "req_" + uuid.uuid4().hex[:24]}, status, headers)

    def handle(self, req: FakeRequest) -> FakeResponse:
        key = req.header("x-api-key")
        if key is None:
            return self.error(401, "authentication_error", "x-api-key header is required")
        if req.header("anthropic-version") is None:
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        if key == WORKSPACE_KEY:
            return self.error(403, "permission_error", "This endpoint requires an Admin API key.")
        if key != ADMIN_KEY:
            return self.error(401, "authentication_error", "invalid x-api-key")
        if self.throttle_after is not None and len(self.requests) > self.throttle_after:
            self.throttle_after = None
            return self.error(429, "rate_limit_error", "Number of requests has exceeded your rate limit",
                              {"retry-after": "60"})
        if req.path == "/v1/organizations/cost_report":
            return self._page(req, "cost", COST_GROUPS, COST_LIMITS)
        if req.path == "/v1/organizations/usage_report/messages":
            return self._page(req, "usage", USAGE_GROUPS, USAGE_LIMITS)
        return self.error(404, "not_found_error", f"Not found: {req.path}")

    def _page(self, req: FakeRequest, kind: str, allowed: set[str],
              limits: dict[str, tuple[int, int]]) -> FakeResponse:
        raw = req.param("starting_at")
        if raw is None:
            return self.error(400, "invalid_request_error", "starting_at: Field required")
        start = _parse(raw)
        end = _parse(req.param("ending_at") or "2100-01-01T00:00:00Z")
        if start is None or end is None:
            return self.error(400, "invalid_request_error", "starting_at: Input should be a valid datetime")
        width = req.param("bucket_width") or "1d"
        if width not in limits:
            return self.error(400, "invalid_request_error", f"bucket_width: Input should be {', '.join(limits)}")
        if width != "1d":
            return self.error(400, "invalid_request_error", "this fake only serves 1d buckets")
        default, maximum = limits[width]
        limit = int(req.param("limit") or default)
        if not 1 <= limit <= maximum:
            return self.error(400, "invalid_request_error", f"limit: must be between 1 and {maximum}")
        groups = set(req.params("group_by"))
        if groups - allowed:
            return self.error(400, "invalid_request_error", f"group_by: invalid value {sorted(groups - allowed)[0]}")
        offset = 0
        if req.param("page"):
            state = decode_cursor(req.param("page") or "")
            if state is None:
                return self.error(400, "invalid_request_error", "page: invalid cursor")
            offset = state["offset"]
        start -= start % DAY  # snapped down to the bucket boundary
        now = int(self.now.timestamp())
        if req.param("ending_at") is not None:
            if end <= start:
                return self.error(400, "invalid_request_error", "ending_at: must be after starting_at")
            if self.reject_future_end and end > now:
                return self.error(400, "invalid_request_error", "ending_at: cannot be in the future")
        buckets = [(t, t + DAY) for t in range(start, min(end, now), DAY) if t + DAY <= end]
        chunk = buckets[offset:offset + limit]
        has_more = offset + limit < len(buckets)
        data = [{"starting_at": _iso(s), "ending_at": _iso(e), "results": self._results(kind, s, groups)}
                for s, e in chunk]
        next_page = encode_cursor({"offset": offset + limit, "k": kind}) if has_more and not self.disagree else None
        return FakeResponse.json_({"data": data, "has_more": has_more, "next_page": next_page})

    def _results(self, kind: str, s: int, groups: set[str]) -> list[dict[str, Any]]:
        d = datetime.fromtimestamp(s, tz=timezone.utc).date()
        f = fraction(s, s, min(s + DAY, int(self.now.timestamp())))
        rows = [u for u in self.usage if u.day == d]
        if kind == "cost":
            agg: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
            dims: dict[tuple[Any, ...], dict[str, Any]] = {}
            for u in rows:
                for fields, cents in self._cost_lines(u, f):
                    shown = {"workspace_id": u.workspace if "workspace_id" in groups else None}
                    shown.update({k: (v if "description" in groups else None) for k, v in fields.items()})
                    key = tuple(shown.values())
                    agg[key] += cents
                    dims[key] = shown
            return [{"currency": "USD", "amount": f"{agg[k]:f}", **dims[k], "inference_geo": None} for k in agg]
        tok: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 6)
        for u in rows:
            key = (u.workspace if "workspace_id" in groups else None, u.model if "model" in groups else None,
                   u.tier if "service_tier" in groups else None,
                   u.context_window if "context_window" in groups else None)
            for i, n in enumerate((*u.tokens, u.web_searches)):
                tok[key][i] += int(n * f)
        out = []
        for (ws, model, tier, cw), t in tok.items():
            r: dict[str, Any] = {
                "api_key_id": None, "workspace_id": ws, "model": model, "service_tier": tier,
                "context_window": cw,
                "uncached_input_tokens": t[0], "cache_read_input_tokens": t[1], "output_tokens": t[4],
                "cache_creation": {"ephemeral_5m_input_tokens": t[2], "ephemeral_1h_input_tokens": t[3]},
                "server_tool_use": {"web_search_requests": t[5]},
            }
            if d.toordinal() % 3 == 0:  # older rows: no server_tool_use at all
                r.pop("server_tool_use")
            out.append(r)
        return out
