"""Benchmark (b) at small scale: 100 alerts over 5 routes to Slack webhooks failing 30% of requests (500 and 429
with Retry-After), two delivery loops at once: every alert reaches its route's webhook exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.delivery_bench import exactly_once


# Not traced for coverage (pytest-cov's no_cover): it runs code the other tests cover, many times over, and
# under the tracer took twice as long.
@pytest.mark.no_cover
def test_100_alerts_through_a_flaky_slack_are_each_delivered_exactly_once(tmp_path: Path) -> None:
    r = exactly_once(tmp_path, alerts=100, routes=5, fail_rate=0.3, loops=2, seed=11)
    assert r.failed["500"] > 5 and r.failed["429"] > 5  # the fake did fail, both ways
    assert r.requests == 100 + r.failed["500"] + r.failed["429"]  # each failure retried until it got through
    hooks = sorted({hook for hook, _ in r.delivered})
    assert len(hooks) == 5
    # Alert i belongs to route i % 5: one message, on that route's webhook; none lost, none twice.
    assert r.delivered == Counter({(hooks[i % 5], i): 1 for i in range(100)})
    assert r.duplicates == 0 and r.missing == 0 and r.statuses == Counter({"sent": 100}) and r.exactly_once
