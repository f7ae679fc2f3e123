"""Sync benchmark: 90 days x 20 models from the local OpenAI fake into a fresh SQLite ledger (target <= 2 s)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = tuple(f"gpt-4o-mini-bench-{i:02d}" for i in range(19)) + ("gpt-4o-2024-08-06",)


def run_once(workdir: Path) -> tuple[float, int]:
    """Seconds for one full first sync (HTTP + parsing + pricing + ledger writes), and rows written."""
    sys.path.insert(0, str(ROOT))
    from aicost_desktop.accounts import add_account
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.domain import ServiceTier, TokenUsage
    from aicost_desktop.secrets import MemorySecretStore
    from aicost_desktop.sync.http import HttpPolicy
    from aicost_desktop.account_sync import sync_account
    from tests.fakes.openai_fake import ADMIN_KEY, OpenAIFake

    now = datetime.now(timezone.utc)
    ctx = AppContext(home=workdir, tz="UTC", secrets=MemorySecretStore())
    # Load the catalog outside the timed part, as a running app already has it.
    ctx.catalog.cost_of("gpt-4o-mini", TokenUsage(), ServiceTier.STANDARD, now.date())
    with OpenAIFake(now=now, days=90, projects=("proj_a",), models=MODELS) as fake:
        acc = add_account(ctx.db, ctx.secrets, "openai", "bench", ADMIN_KEY, fake.base_url + "/v1")
        t = time.perf_counter()
        out = sync_account(ctx, acc, since=now - timedelta(days=90), policy=HttpPolicy(sleep=lambda s: None))
        elapsed = time.perf_counter() - t
    ctx.close()
    if not out.ok:
        raise RuntimeError(out.message)
    return elapsed, out.written.added


def main(line=print, repeat: int = 3) -> None:  # type: ignore[no-untyped-def]
    times, rows = [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            t, rows = run_once(Path(d))
            times.append(t)
    line("sync 90 days x 20 models (OpenAI fake -> SQLite)", f"{statistics.median(times):.2f} s ({rows} rows)",
         "target <= 2 s")


if __name__ == "__main__":
    main(lambda name, value, target="": print(f"  {name:<52} {value:>22}   {target}"))
