"""Delivery benchmark: (a) sync -> budget alert -> Slack POST latency after the sync's last page (target <= 5 s);
(b) 1,000 alerts over 5 routes to a Slack fake failing 30% of requests (500 / 429 + Retry-After) end delivered
exactly once, by two delivery loops at once on a simulated clock.

    .venv/bin/python -m benchmarks.delivery_bench [--alerts 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.fakes.http_fake import FakeRequest, FakeResponse  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402
from tests.unit.integrations.fakes.slack import SlackFake, text  # noqa: E402

LATENCY_TARGET_S = 5.0
ALERT = re.compile(r"bench alert (\d+)\b")


def _quiet_resets(server: Any) -> None:
    """A client closing its kept-alive connection (a manager closed) is no error worth a traceback."""
    httpd = server._httpd
    shown = httpd.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            shown(request, client_address)

    httpd.handle_error = handle_error


def _no_delay(h: Any) -> None:
    """The fakes write a response's headers and body in two sends: with Nagle on, a kept-alive connection then
    waits for the client's delayed ACK (~40 ms a request), which is the fake's cost, not ours."""
    try:
        h.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class TimedOpenAI(OpenAIFake):
    """The OpenAI Admin API fake, noting when it finished writing each page (the sync's last one counts)."""

    last_served = 0.0
    pages = 0

    def start(self) -> "TimedOpenAI":
        super().start()
        _quiet_resets(self)
        return self

    def _dispatch(self, h: Any) -> None:
        _no_delay(h)
        super()._dispatch(h)
        self.last_served, self.pages = time.perf_counter(), self.pages + 1


class QuietSlack(SlackFake):
    """The Slack fake without the ~40 ms delayed-ACK stall per request (see `_no_delay`)."""

    def start(self) -> "QuietSlack":
        super().start()
        _quiet_resets(self)
        return self

    def _dispatch(self, h: Any) -> None:
        _no_delay(h)
        super()._dispatch(h)


class TimedSlack(QuietSlack):
    """The Slack fake, noting when the first message reached a webhook."""

    def __init__(self) -> None:
        super().__init__()
        self.first_post: float | None = None
        self.posted_event = threading.Event()

    def _webhook(self, req: FakeRequest) -> FakeResponse:
        resp = super()._webhook(req)
        if resp.status == 200 and self.first_post is None:
            self.first_post = time.perf_counter()
            self.posted_event.set()
        return resp


def sync_to_slack(workdir: Path) -> tuple[float, int]:
    """Seconds from the sync's last page served to the alert's Slack POST received, and the pages served."""
    from aicost_desktop.accounts import add_account
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.integrations.routing import DestinationSpec, add_route
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.secrets import MemorySecretStore
    from tests.fakes.openai_fake import ADMIN_KEY

    now = datetime.now(timezone.utc)
    ctx = AppContext(home=workdir, tz="UTC", secrets=MemorySecretStore())
    # 31 days end today (day 30 is not one of the fake's empty days), 4 models: this month's spend is non-zero.
    with TimedOpenAI(now=now, days=31, projects=("proj_a",)) as provider, TimedSlack() as slack:
        spent = provider.expected_cost(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), now)
        if spent < Decimal("0.05"):
            raise RuntimeError(f"this month's fake spend is only ${spent}: run again in a few minutes")
        acc = add_account(ctx.db, ctx.secrets, "openai", "bench", ADMIN_KEY, provider.base_url + "/v1")
        # The synced spend lands at 90%: one threshold alert (80%), one Slack message.
        add_budget(ctx.db, BudgetSpec.build(name="AI spend", amount=(spent / Decimal("0.9")).quantize(Decimal("0.01")),
                                            thresholds="80"))
        m = IntegrationManager(ctx.db, ctx.secrets)
        m.connect("slack", {"webhook_url": slack.webhook_url()}, name="slack-ai-costs")
        m.close()
        add_route(ctx.db, "threshold", [DestinationSpec("slack-ai-costs", "post_message")], min_percent=80)
        rt = Runtime(ctx, alert_interval_s=3600)
        first = threading.Event()
        rt.alerts.evaluated.connect(lambda _r: first.set())
        try:
            rt.start(first_tick_ms=3_600_000)  # the app is running; its first evaluation finds nothing to say
            if not first.wait(30):
                raise RuntimeError("the runtime's first budget evaluation did not finish")
            rt.sync.sync_account(acc)
            if not slack.posted_event.wait(60):
                raise RuntimeError("no Slack message within 60 s of the sync")
        finally:
            rt.stop(wait_s=10)
        assert slack.first_post is not None
        latency, pages = slack.first_post - provider.last_served, provider.pages
        posts = len(slack.webhook_posts)
    ctx.close()
    if posts != 1:
        raise RuntimeError(f"{posts} Slack messages for one threshold crossing")
    return latency, pages


class FlakySlack(QuietSlack):
    """Slack webhooks failing `fail_rate` of requests as Slack does: 500 rollup_error, or 429 with Retry-After
    (research/integrations.md 1c). A failed request posts nothing; `accepted` counts what was posted."""

    def __init__(self, fail_rate: float, seed: int = 7) -> None:
        super().__init__()
        self.fail_rate, self.rng, self.rng_lock = fail_rate, random.Random(seed), threading.Lock()
        self.failed = Counter[str]()
        self.accepted = Counter[tuple[str, int]]()  # (hook path, alert number) -> messages posted

    def _webhook(self, req: FakeRequest) -> FakeResponse:
        with self.rng_lock:
            fail, roll = self.rng.random() < self.fail_rate, self.rng.random()
        if fail and req.path in self.hooks:
            if roll < 0.5:
                self.failed["500"] += 1
                return text(500, "rollup_error")
            self.failed["429"] += 1
            return FakeResponse(429, b"rate_limited", {"Content-Type": "text/plain",
                                                        "Retry-After": str(1 + int(roll * 10) % 3)})
        resp = super()._webhook(req)
        if resp.status == 200:
            m = ALERT.search(self.webhook_posts[-1].get("text", ""))
            self.accepted[(req.path, int(m.group(1)) if m else -1)] += 1
        return resp


@dataclass
class ExactlyOnce:
    alerts: int
    routes: int
    requests: int
    failed: Counter[str]
    delivered: Counter[tuple[str, int]]
    statuses: Counter[str]
    simulated: timedelta
    rounds: int
    seconds: float

    @property
    def missing(self) -> int:
        return sum(1 for i in range(self.alerts) if not any(k[1] == i for k in self.delivered))

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.delivered.values() if n > 1)

    @property
    def exactly_once(self) -> bool:
        return (len(self.delivered) == self.alerts and set(self.delivered.values()) == {1}
                and self.statuses == Counter({"sent": self.alerts}))


class SimClock:
    """The delivery loops' clock: moved forward only between rounds, when no send is in flight."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def exactly_once(workdir: Path, alerts: int = 1000, routes: int = 5, fail_rate: float = 0.3, loops: int = 2,
                 seed: int = 7) -> ExactlyOnce:
    """`alerts` threshold alerts spread over `routes` budgets, each budget's rule posting to its own Slack webhook;
    `loops` RouteDelivery loops (the app and `aicost check`, say) drain the outbox side by side."""
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.integrations.delivery import RouteDelivery
    from aicost_desktop.integrations.http import RetryPolicy
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.integrations.routing import ROUTE_CHANNEL, DestinationSpec, add_route
    from aicost_desktop.notify.alerts import raise_alert
    from aicost_desktop.notify.outbox import outbox_rows
    from aicost_desktop.secrets import MemorySecretStore
    from aicost_desktop.storage.db import Database

    db = Database.open(f"sqlite:///{workdir / 'ledger.sqlite3'}")
    keychain = MemorySecretStore()
    tz = ZoneInfo("UTC")
    clock = SimClock()
    # delivery_policy()'s in-process retries (2 tries, waits up to 5 s), its waits not slept: the clock is simulated.
    policy = RetryPolicy(max_attempts=2, max_wait=5.0, sleep=lambda s: None)
    with FlakySlack(fail_rate, seed) as slack:
        hooks = [f"/services/T0BENCH{r}/B0BENCH{r}/hook{r}secret" for r in range(routes)]
        slack.hooks = {h: f"#route-{r}" for r, h in enumerate(hooks)}
        setup = IntegrationManager(db, keychain)
        budget_ids = []
        for r, hook in enumerate(hooks):
            setup.connect("slack", {"webhook_url": slack.base_url + hook}, name=f"slack-{r}", verify=False)
            budget_ids.append(add_budget(db, BudgetSpec.build(name=f"Team {r}", amount="100", thresholds="80")))
            add_route(db, "threshold", [DestinationSpec(f"slack-{r}", "post_message")], budget=f"Team {r}",
                      name=f"route {r}")
        setup.close()
        for i in range(alerts):
            r = i % routes
            raise_alert(db, "threshold", f"bench:{i}", f"Team {r}: bench alert {i} (80% of budget)", channels=[],
                        budget_id=budget_ids[r], threshold=Decimal(80), current_usage=Decimal(85),
                        budget_limit=Decimal(100), currency="USD")
        managers = [IntegrationManager(db, keychain, policy=policy) for _ in range(loops)]
        workers = [RouteDelivery(db, tz, m, clock=clock) for m in managers]
        start, t0, rounds = clock.now, time.perf_counter(), 0
        try:
            while True:
                rounds += 1
                _round(workers)
                due = workers[0].next_due()
                if due is None:
                    break
                clock.now = max(due, clock.now + timedelta(seconds=1))
                if rounds > 100_000:
                    raise RuntimeError("the outbox does not drain")
        finally:
            for m in managers:
                m.close()
        seconds = time.perf_counter() - t0
        rows = [o for o in outbox_rows(db) if o.channel == ROUTE_CHANNEL]
        requests = sum(1 for q in slack.requests if q.path in slack.hooks)
        out = ExactlyOnce(alerts, routes, requests, Counter(slack.failed), Counter(slack.accepted),
                          Counter(o.status for o in rows), clock.now - start, rounds, seconds)
    db.dispose()
    return out


def _round(workers: list[Any]) -> None:
    """Every loop runs until nothing more is due now, all at the same time (claims race for real)."""
    errors: list[BaseException] = []

    def drain(w: Any) -> None:
        try:
            while True:
                res = w.run_once()
                if not (res.sent or res.retried or res.failed or res.deferred or res.skipped):
                    return
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,), name=f"delivery-{i}") for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def main(line: Callable[..., None] = print, repeat: int = 3, alerts: int = 1000) -> None:
    lat, pages = [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            s, pages = sync_to_slack(Path(d))
            lat.append(s)
    worst = max(lat)
    line("sync's last page -> Slack alert POST (median / worst)",
         f"{statistics.median(lat) * 1000:.0f} / {worst * 1000:.0f} ms",
         f"target <= {LATENCY_TARGET_S:.0f} s: {'OK' if worst <= LATENCY_TARGET_S else 'MISS'} "
         f"({pages} provider pages, {repeat} runs)")
    with tempfile.TemporaryDirectory() as d:
        r = exactly_once(Path(d), alerts=alerts)
    line(f"{r.alerts:,} alerts, {r.routes} routes, Slack failing 30%",
         f"{len(r.delivered):,} delivered, {r.duplicates} dup, {r.missing} lost",
         f"target: each exactly once: {'OK' if r.exactly_once else 'MISS'}")
    line("  requests / injected 500s / injected 429s",
         f"{r.requests:,} / {r.failed['500']:,} / {r.failed['429']:,}",
         f"{100 * (r.failed['500'] + r.failed['429']) / max(1, r.requests):.0f}% failed")
    line("  2 delivery loops: wall time / simulated time",
         f"{r.seconds:.1f} s / {r.simulated.total_seconds() / 60:.0f} min",
         f"{r.rounds} rounds (the per-destination rate limit sets the simulated time)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print("Alert delivery (local OpenAI and Slack fakes)")
    main(lambda name, value, target="": print(f"  {name:<52} {value:>22}   {target}", flush=True), a.repeat, a.alerts)
