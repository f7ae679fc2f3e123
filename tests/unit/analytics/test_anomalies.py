"""Anomaly detection: warm-up, dollar floor, spikes and drops, explanations, alerts, precision/recall."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from aicost_desktop.analytics.anomalies import baseline, baselines, detect, find_anomalies, raise_alerts
from aicost_desktop.analytics.synthetic import clean_series, evaluate
from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.tables import CostAlert
from tests.unit.analytics.ledger_data import add_account


def flat(n: int, level: float = 20.0) -> np.ndarray:
    return np.full(n, level) * (1 + 0.05 * np.sin(np.arange(n)))


def test_vectorized_baselines_equal_the_per_day_baseline() -> None:
    """The detector uses `baselines` (all days at once); it must agree with `baseline` day by day on dense,
    intermittent, tied and late-starting series, including histories shorter than the seasonal minimum."""
    rng = np.random.default_rng(3)
    checked = 0
    for t in range(120):
        n = int(rng.integers(15, 160))
        y = rng.gamma(2, 10, n)
        if t % 4 == 1:
            y[rng.random(n) < 0.7] = 0
        elif t % 4 == 2:
            y = np.round(y)
        elif t % 4 == 3:
            y[: int(rng.integers(0, n // 2))] = 0
        nz = np.flatnonzero(y)
        first = int(nz[0])
        wd = (int(rng.integers(0, 7)) + np.arange(n)) % 7
        idx = np.arange(first + 1, n)
        exps, scales = baselines(y, wd, first, idx)
        for k, i in enumerate(idx):
            lo = max(first, i - 56)
            exp, scale = baseline(y[lo:i], wd[lo:i], int(wd[i]))
            assert abs(exps[k] - exp) < 1e-9 * max(1.0, exp), (t, i)
            assert abs(scales[k] - scale) < 1e-9 * max(1.0, scale), (t, i)
            checked += 1
    assert checked > 5000


def test_spike_and_drop_are_flagged_after_warmup() -> None:
    y = flat(60)
    y[40], y[50] = 120.0, 0.0
    flags = detect(y)
    assert [(f.index, f.kind) for f in flags] == [(40, "spike"), (50, "drop")]


def test_no_flag_during_warmup_or_below_the_dollar_floor() -> None:
    y = flat(60)
    y[10] = 500.0                      # inside the 14-day warm-up
    assert detect(y) == []
    small = flat(60, level=0.5)
    small[40] = 4.0                    # 8x, but only +$3.50
    assert detect(small) == []
    assert [f.index for f in detect(small, min_dollars=1)] == [40]


def test_a_new_series_starts_its_own_warmup() -> None:
    y = np.concatenate([np.zeros(40), flat(20)])
    y[45] = 200.0  # 5 days after the model was first used: new, not anomalous
    assert detect(y) == []


def test_weekly_pattern_is_not_anomalous() -> None:
    t = np.arange(120)
    y = np.where(t % 7 >= 5, 2.0, 40.0) * (1 + 0.05 * np.cos(t))
    assert detect(y) == []


def test_clean_series_false_positive_rate_is_under_ten_percent() -> None:
    rng = np.random.default_rng(11)
    flagged = sum(bool(detect(clean_series(rng, 120))) for _ in range(60))
    assert flagged / 60 < 0.10


def test_precision_and_recall_on_injected_anomalies() -> None:
    s = evaluate(n_series=60, days=100, seed=5)
    assert s.recall >= 0.7 and s.precision >= 0.8
    assert s.clean_series_fp_rate < 0.10 and s.clean_day_fp_rate < 0.01


def test_find_anomalies_explains_top_contributors_and_raises_alerts(sqlite_db) -> None:
    prod = add_account(sqlite_db, "prod", "openai")
    dev = add_account(sqlite_db, "dev", "openai")
    start = date(2026, 1, 1)
    recs = []
    for i in range(60):
        d = start + timedelta(days=i)
        at = datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc)
        big = i == 50
        for model, acc, amt in (("gpt-5", prod, 10 + (40 if big else 0) + i % 3), ("gpt-4o", dev, 5 + (i % 2)),
                                ("gpt-4o", prod, 3 + (10 if big else 0))):
            recs.append(UsageRecord(DataSource.API, f"{d}-{model}-{acc}", "openai", at, at, model=model,
                                    account_id=acc, reported_cost=Decimal(amt)))
    recs.append(UsageRecord(DataSource.MANUAL, "m", "midjourney", datetime(2026, 2, 20, tzinfo=timezone.utc),
                            datetime(2026, 2, 21, tzinfo=timezone.utc), reported_cost=Decimal("500")))
    upsert_records(sqlite_db, recs)
    found = find_anomalies(sqlite_db, ZoneInfo("UTC"), date(2026, 2, 1), date(2026, 3, 1))
    day = start + timedelta(days=50)
    by = {(a.dimension, a.key): a for a in found}
    assert {a.day for a in found} == {day}
    assert ("provider", "midjourney") not in by   # manual entries are planned, not anomalies
    prov = by[("provider", "openai")]
    assert prov.kind == "spike" and prov.delta >= Decimal("45")
    assert prov.contributors[0].model == "gpt-5" and prov.contributors[0].account == "prod"
    assert "% from gpt-5 on account prod" in prov.explanation and prov.explanation.startswith("provider openai")
    assert ("account", "prod") in by and ("model", "gpt-5") in by and ("account", "dev") not in by
    assert raise_alerts(sqlite_db, found) == len(found)
    assert raise_alerts(sqlite_db, found) == 0  # deduplicated per series and day
    with sqlite_db.session() as s:
        alerts = list(s.scalars(select(CostAlert).where(CostAlert.type == "anomaly")))
    assert len(alerts) == len(found) and any("gpt-5" in a.message for a in alerts)


def test_explanation_leaves_out_contributors_that_round_to_zero_percent() -> None:
    from aicost_desktop.analytics.anomalies import Anomaly, Contributor

    a = Anomaly(date(2026, 11, 9), "provider", "openai", Decimal("85.44"), Decimal("15.60"), 9.0,
                [Contributor("gpt-5", "prod", 69.8, 0.998), Contributor("gpt-4o-mini", "prod", 0.1, 0.002)])
    assert a.explanation.endswith("100% from gpt-5 on account prod")


def test_explanation_of_a_model_series_names_the_account_only() -> None:
    from aicost_desktop.analytics.anomalies import Anomaly, Contributor

    a = Anomaly(date(2026, 11, 9), "model", "gpt-5", Decimal("52.52"), Decimal("7.22"), 9.0,
                [Contributor("gpt-5", "OpenAI (demo)", 45.3, 1.0)])
    assert a.explanation.endswith(", 100% from account OpenAI (demo)")


def test_a_day_not_over_yet_is_never_a_drop_but_can_already_be_a_spike(sqlite_db) -> None:
    """Just after midnight every series is 'down' on a full day's expectation: that is no anomaly."""
    start = date(2026, 1, 1)
    recs = []
    for i in range(40):
        d = start + timedelta(days=i)
        at = datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc)
        recs.append(UsageRecord(DataSource.API, f"{d}", "openai", at, at, model="gpt-5",
                                reported_cost=Decimal(20 + i % 3)))
    upsert_records(sqlite_db, recs)
    today = start + timedelta(days=40)  # nothing spent yet today
    tz = ZoneInfo("UTC")
    assert find_anomalies(sqlite_db, tz, today - timedelta(days=9), today, today=today) == []
    # The same day judged once it is over (a day later) is the drop it is.
    over = find_anomalies(sqlite_db, tz, today - timedelta(days=9), today, today=today + timedelta(days=1))
    assert over and {a.kind for a in over} == {"drop"} and {a.day for a in over} == {today}
    # A morning that already spent five days' worth is a spike before the day ends.
    at = datetime(today.year, today.month, today.day, 1, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [UsageRecord(DataSource.API, "burst", "openai", at, at, model="gpt-5",
                                           reported_cost=Decimal(100))])
    early = find_anomalies(sqlite_db, tz, today - timedelta(days=9), today, today=today)
    assert early and {a.kind for a in early} == {"spike"} and {a.day for a in early} == {today}
