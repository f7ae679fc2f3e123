"""`ExportService`: streaming exports as runtime jobs (progress, cancel, result), for the GUI and a headless host."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Callable

from aicost_desktop.analytics.dashboard import convert
from aicost_desktop.domain.money import format_money
from aicost_desktop.export.writer import ExportResult, ExportSpec, export
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.jobs import Job, Jobs

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext


class ExportService:
    """Starts exports on the runtime's threads; stopping the runtime cancels a running one (no file is left).

    Events: exported(ExportResult) after every finished export.
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.exported: Event[[ExportResult]] = Event("export.exported")

    def start(self, spec: ExportSpec, *, on_done: Callable[[ExportResult], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> Job:
        """Validate `spec` now (raises InputError naming the field) and export on a job thread; the callbacks
        run on that thread. `job.cancel()` stops the export at its next page and removes the partial file."""
        spec.validate()
        db, tz = self.ctx.db, self.ctx.tz

        def job(progress: Callable[[int, int], None], cancel: threading.Event) -> ExportResult:
            return export(db, tz, spec, progress=progress, cancelled=cancel.is_set)

        def done(result: ExportResult) -> None:
            if on_done is not None:
                on_done(result)
            self.exported.emit(result)

        return self.jobs.submit(job, name=f"export {spec.path.name}", on_done=done, on_error=on_error,
                                on_progress=on_progress)

    def run(self, spec: ExportSpec, progress: Callable[[int, int], None] | None = None) -> ExportResult:
        """Export on the calling thread (the CLI)."""
        spec.validate()
        return export(self.ctx.db, self.ctx.tz, spec, progress=progress)


def cost_summary(result: ExportResult, currency: str, fx: dict[str, Decimal]) -> str:
    """The exported cost in words: in the file's currency when there is one and it is `currency` ('$12.34');
    otherwise their total in `currency` at the user's rates, naming the rates, then each currency as recorded
    ('63.26 EUR at your rates (1 EUR = 1.08 USD); in the file, each row in its own currency: 54.00 EUR + $10.00')."""
    totals = result.totals
    if not totals or list(totals) == [currency]:
        return result.cost_text(currency)
    missing = sorted(c for c in {*totals, currency} if c not in fx)
    if missing:
        return (f"no total: Settings has no exchange rate for {', '.join(missing)}; in the file, each row in its "
                f"own currency: {result.cost_text()}")
    total = sum((convert(v, c, currency, fx) for c, v in totals.items()), Decimal(0))
    # The rates are to USD, as Settings holds them; USD itself needs none.
    rates = ", ".join(f"1 {c} = {fx[c].normalize():f} USD" for c in sorted({*totals, currency}) if c != "USD")
    return (f"{format_money(total, currency)} at your rates ({rates}); in the file, each row in its own currency: "
            f"{result.cost_text()}")
