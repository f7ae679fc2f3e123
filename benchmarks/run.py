"""One command printing every figure: ingest vs raw sqlite3, year-by-provider query, CSV export vs the
sqlite3 shell (time and peak RSS growth), dock query time, GUI start / dock refresh / UI stalls on the real
window, first sync from the local fake provider, alert delivery (sync to Slack latency, exactly once through a
failing Slack), forecast MAPE, anomaly precision/recall.

    .venv/bin/python -m benchmarks [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def line(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52} {value:>22}   {target}", flush=True)


def raw_ingest(path: Path, rows: list[tuple]) -> float:
    """Baseline: plain sqlite3 executemany of the same pre-converted rows into the same schema."""
    from sqlalchemy import create_engine

    from aicost_desktop.storage.tables import Base

    eng = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(eng)
    eng.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    cols = list(rows[0][1].keys())
    sql = f"INSERT INTO usage_records ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
    t = time.perf_counter()
    for i in range(0, len(rows), 2000):
        with con:
            con.executemany(sql, [tuple(r[1].values()) for r in rows[i:i + 2000]])
    el = time.perf_counter() - t
    con.close()
    return el


def band_text(m: dict) -> str:
    """80% bands: how often the actual fell inside (target ~80%) and how wide they are (share of forecast)."""
    return (f"80% band holds total {m['band_coverage']:.0f}% (width {m['band_width']:.0f}%), "
            f"days {m['daily_band_coverage']:.0f}% (width {m['daily_band_width']:.0f}%)")


def sqlish(row: dict) -> dict:
    from decimal import Decimal

    from aicost_desktop.storage.types import money_to_units

    out = {}
    for k, v in row.items():
        if isinstance(v, Decimal):
            v = money_to_units(v)
        elif isinstance(v, datetime):
            v = v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        elif hasattr(v, "value"):
            v = v.value
        out[k] = v
    return out


EXPORT_CHILD = r"""
import sys, time, json
sys.path.insert(0, {src!r})
def hwm():
    for l in open('/proc/self/status'):
        if l.startswith('VmHWM'): return int(l.split()[1])
from zoneinfo import ZoneInfo
from pathlib import Path
from aicost_desktop.storage.db import Database
from aicost_desktop.export import ExportSpec, export
db = Database.open({url!r}, migrate_schema=False)
base = hwm()
t = time.perf_counter()
r = export(db, ZoneInfo({tz!r}), ExportSpec('csv', Path({out!r})))
el = time.perf_counter() - t
print(json.dumps({{"seconds": el, "rss_growth_kb": hwm() - base, "rows": r.rows, "cost": str(r.totals.get("USD", 0))}}))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tz", default="Europe/Belgrade")
    ap.add_argument("--claude-lines", type=int, default=300_000, help="lines of the Claude Code folder (0: skip)")
    ap.add_argument("--no-gateway", action="store_true", help="skip the gateway benchmark (and LiteLLM's proxy)")
    ap.add_argument("--no-litellm", action="store_true",
                    help="gateway benchmark without LiteLLM's proxy (no litellm[proxy] install into a scratch venv)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from benchmarks.ledger_gen import records
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.ledger import record_to_row, upsert_records

    tz = ZoneInfo(args.tz)
    work = Path(tempfile.mkdtemp(prefix="aicost-bench-"))
    # The ledger's year ends now, so every dock of the GUI figures has this month and today to show
    # (a fixed end date left the Analytics dock measuring "$0.00" on the big ledger).
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    print(f"AI Cost Tracker benchmarks: {args.rows:,} rows, tz {args.tz}, {os.cpu_count()} CPUs, medians of "
          f"{args.repeat} where repeated; work dir {work}")
    print("Ingest")
    t = time.perf_counter()
    recs = list(records(args.rows, end))
    line("generate records (not counted)", f"{time.perf_counter() - t:.1f} s")
    db = Database.open(f"sqlite:///{work / 'ledger.sqlite3'}")
    ws = db.default_workspace_id()
    rows = [(r, sqlish({**record_to_row(r, ws), "updated_at": end})) for r in recs[: args.rows]]
    raw = raw_ingest(work / "raw.sqlite3", rows)
    del rows
    line("raw sqlite3 executemany (baseline)", f"{raw:.1f} s")
    t = time.perf_counter()
    res = upsert_records(db, recs, page_size=2000)
    ing = time.perf_counter() - t
    line("upsert_records (idempotent, with hourly roll-up)", f"{ing:.1f} s", f"target <= 15 s: {'OK' if ing <= 15 else 'MISS'}")
    line("  ratio vs raw executemany", f"{ing / raw:.2f}x", f"target <= 3x: {'OK' if ing / raw <= 3 else 'MISS'}")
    line("  rows added", f"{res.added:,}")
    del recs
    print("Query: daily spend by provider for a year, local days")
    from aicost_desktop.analytics.series import spend_series

    start_d, end_d = (end - timedelta(days=365)).date(), end.date()
    spend_series(db, tz, start_d, end_d, "day", "provider")  # warm
    ts = []
    for _ in range(max(args.repeat, 5)):
        t = time.perf_counter()
        spend_series(db, tz, start_d, end_d, "day", "provider")
        ts.append(time.perf_counter() - t)
    q = med(ts) * 1000
    line("spend_series(day, provider, 365 days) warm", f"{q:.1f} ms", f"target <= 100 ms: {'OK' if q <= 100 else 'MISS'}")
    from aicost_desktop.analytics.report import spend_report

    spend_report(db, tz, start_d, end_d, ["day", "provider"])  # warm
    ts = []
    for _ in range(max(args.repeat, 5)):
        t = time.perf_counter()
        spend_report(db, tz, start_d, end_d, ["day", "provider"])
        ts.append(time.perf_counter() - t)
    q = med(ts) * 1000
    line("spend_report(group by day, provider, 365 days) warm", f"{q:.1f} ms",
         f"target <= 100 ms: {'OK' if q <= 100 else 'MISS'}")

    rep_total = spend_report(db, tz, date(1970, 1, 2), date(2100, 1, 1)).total
    print("Export: all rows to CSV")
    url = f"sqlite:///{work / 'ledger.sqlite3'}"
    ours, rss, sh = [], [], []
    cols = ("id, bucket_start, provider, account_id, model, source, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_5m_tokens + cache_write_1h_tokens, reported_cost, computed_cost, cost, currency, note")
    info = {}
    for _ in range(max(1, args.repeat // 2 + 1)):
        out = work / "export.csv"
        p = subprocess.run([sys.executable, "-c", EXPORT_CHILD.format(src=str(ROOT / "src"), url=url, tz=args.tz,
                                                                     out=str(out))],
                           capture_output=True, text=True, check=True)
        info = json.loads(p.stdout.strip().splitlines()[-1])
        ours.append(info["seconds"])
        rss.append(info["rss_growth_kb"] / 1024)
        t = time.perf_counter()
        with open(work / "shell.csv", "w") as fh:
            subprocess.run(["sqlite3", "-csv", "-header", str(work / "ledger.sqlite3"),
                            f"SELECT {cols} FROM usage_records ORDER BY id"], stdout=fh, check=True)
        sh.append(time.perf_counter() - t)
    e, b = med(ours), med(sh)
    line("aicost export --format csv (all rows)", f"{e:.2f} s", f"target <= 8 s: {'OK' if e <= 8 else 'MISS'}")
    line("  sqlite3 -csv same rows (baseline)", f"{b:.2f} s")
    line("  ratio vs sqlite3 shell", f"{e / b:.2f}x", f"target <= 3x: {'OK' if e / b <= 3 else 'MISS'}")
    line("  peak RSS growth during export", f"{max(rss):.1f} MB", f"target <= 100 MB: {'OK' if max(rss) <= 100 else 'MISS'}")
    line("  exported rows / sum of cost", f"{info['rows']:,} / {info['cost'][:14]}")
    line("  report total (same ledger)", f"{str(rep_total)[:14]}",
         "equal to the cent: " + ("OK" if abs(float(info['cost']) - float(rep_total)) < 0.005 else "MISS"))
    print("Dock refresh query (Analytics, 90 days, on the big ledger)")
    from aicost_desktop.analytics.dashboard import AnalyticsQuery, load_analytics

    load_analytics(db, tz, AnalyticsQuery(today=end_d, period="90d"))
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        load_analytics(db, tz, AnalyticsQuery(today=end_d, period="90d"))
        ts.append(time.perf_counter() - t)
    line("load_analytics, 90 days (every figure of the dock)", f"{med(ts) * 1000:.0f} ms", "(in a worker)")
    db.dispose()
    print("GUI (real main window in a child process, on a copy of the same ledger)")
    from benchmarks import gui_bench

    gui_bench.report(gui_bench.run(work / "ledger.sqlite3", args.tz), line)
    if args.claude_lines:
        print("Claude Code import vs ccusage (the same generated folder, side by side)")
        from benchmarks import import_bench

        import_bench.run(args.claude_lines, min(args.repeat, 3), line)
    print("Sync (local fake provider)")
    from benchmarks.sync_bench import main as sync_main

    sync_main(line, repeat=args.repeat)
    print("Alert delivery (local OpenAI and Slack fakes)")
    from benchmarks import delivery_bench

    delivery_bench.main(line, repeat=min(args.repeat, 3))
    if not args.no_gateway:
        print("Gateway (local fake upstream; LiteLLM's proxy beside it in the same run)", flush=True)
        from benchmarks import gateway_bench

        gateway_bench.main(["--no-litellm"] if args.no_litellm else [])
    print("Forecast backtest (rolling origin, MAPE)")
    from aicost_desktop.analytics.forecast import backtest_mape, synthetic_trend_series

    y = synthetic_trend_series(240, seed=1)
    for h in (7, 30):
        m = backtest_mape(y, h, step=3)
        line(f"synthetic trend+weekly, {h}-day horizon", f"daily {m['daily_mape']:.1f}% / total {m['total_mape']:.1f}%",
             band_text(m))
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.demo import load_demo
    from aicost_desktop.analytics.series import spend_series as ss

    ctx = AppContext(home=work / "demo-home", tz="UTC")
    today = date(2026, 11, 1)
    load_demo(ctx, days=180, seed=1, today=today)
    demo = [float(v) for v in ss(ctx.db, ZoneInfo("UTC"), today - timedelta(days=179), today - timedelta(days=1)).totals]
    first = (today - timedelta(days=179)).weekday()
    for h in (7, 30):
        m = backtest_mape(demo, h, step=3, first_weekday=first)
        line(f"demo data (180 days), {h}-day horizon", f"daily {m['daily_mape']:.1f}% / total {m['total_mape']:.1f}%",
             band_text(m))
    ctx.close()
    print("Anomaly detection (synthetic series with injected spikes and drops)")
    from aicost_desktop.analytics.synthetic import evaluate

    sc = evaluate(n_series=200, days=120, seed=7)
    line("precision / recall", f"{sc.precision:.2f} / {sc.recall:.2f}", f"{sc.true_positives} of {sc.injected} found")
    line("clean series with any false alarm", f"{100 * sc.clean_series_fp_rate:.1f}%",
         f"target < 10%: {'OK' if sc.clean_series_fp_rate < 0.10 else 'MISS'}")
    line("clean days falsely flagged", f"{100 * sc.clean_day_fp_rate:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
