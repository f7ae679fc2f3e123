"""ExportService: an export is a runtime job with progress and a result; cancelling leaves no file."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.export.writer import ExportSpec
from tests.unit.budgets.helpers import spend_on


def test_export_runs_as_a_job_and_reports(ctx, runtime, tmp_path: Path) -> None:
    for i in range(5):
        spend_on(ctx.db, date(2025, 3, 1) + timedelta(days=i), "1.25", f"k{i}")
    done = threading.Event()
    results: list[object] = []
    seen: list[object] = []
    runtime.exports.exported.connect(seen.append)
    progress: list[tuple[int, int]] = []
    job = runtime.exports.start(ExportSpec(fmt="csv", path=tmp_path / "out.csv"),
                                on_done=lambda r: (results.append(r), done.set()),
                                on_progress=lambda d, t: progress.append((d, t)))
    assert done.wait(15) and job.wait(5)
    [result] = results
    assert result.rows == 5 and seen == [result]  # type: ignore[attr-defined]
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").count("\n") == 6
    assert progress and progress[-1][0] == 5


def test_a_bad_spec_is_refused_before_any_job(runtime, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        runtime.exports.start(ExportSpec(fmt="xml", path=tmp_path / "x"))  # type: ignore[arg-type]
    assert runtime.jobs.active() == 0


def test_stopping_the_runtime_cancels_an_export_and_leaves_no_file(ctx, runtime, tmp_path: Path,
                                                                    monkeypatch) -> None:
    from aicost_desktop.runtime import export as module

    entered = threading.Event()
    errors: list[BaseException] = []
    failed = threading.Event()
    real = module.export

    def gated(db, tz, spec, progress=None, cancelled=None):  # type: ignore[no-untyped-def]
        entered.set()
        cancelled.__self__.wait(10)  # the job's cancel event: go on once stop() has set it
        return real(db, tz, spec, progress=progress, cancelled=cancelled)

    monkeypatch.setattr(module, "export", gated)
    spend_on(ctx.db, date(2025, 3, 1), "1", "k")
    runtime.exports.start(ExportSpec(fmt="csv", path=tmp_path / "out.csv"),
                          on_error=lambda e: (errors.append(e), failed.set()))
    assert entered.wait(10)
    assert runtime.stop(wait_s=10)
    assert failed.wait(5) and errors
    assert not (tmp_path / "out.csv").exists()
