"""Import entry points for the CLI and GUI: one call per source, plus the scheduled auto-import."""

from __future__ import annotations

import logging
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from sqlalchemy import or_, select

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.importers.base import PAGE_SIZE, Billing, ImportReport, ingest, parse_billing
from aicost_desktop.importers.claude_code import ClaudeCodeImporter, discover_roots, roots_for_path
from aicost_desktop.importers.claude_read import ReadAhead
from aicost_desktop.importers.codex import CodexImporter, dirs_for_path, discover_homes, legacy_keys, session_dirs
from aicost_desktop.importers.csv_anthropic import AnthropicCostCsv, AnthropicUsageCsv
from aicost_desktop.importers.csv_common import CsvFormat, iter_csv
from aicost_desktop.importers.csv_generic import AccountResolver, GenericCsv, parse_mapping
from aicost_desktop.importers.csv_openai import OpenAICostsCsv
from aicost_desktop.importers.kinds import CSV_FORMATS, LOG_KINDS
from aicost_desktop.notify.alerts import raise_unpriced_written
from aicost_desktop.storage.ledger import delete_where
from aicost_desktop.storage.tables import Account, ImportSource, UsageRow
from aicost_desktop.sync.base import Pricer

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.importers")

# A first Claude Code import writes one row per request (tens of thousands): big pages mean fewer
# commits and WAL checkpoints (half the write time of 1,000-row pages), ~10 MB of records at once.
CLAUDE_PAGE_SIZE = 10_000


def import_claude_code(db: "Database", pricer: Pricer, path: Path | None = None,
                       billing: Billing | str = Billing.PER_TOKEN, workspace_id: int | None = None,
                       page_size: int = CLAUDE_PAGE_SIZE, ahead: ReadAhead | None = None) -> ImportReport:
    """Import Claude Code transcripts from `path` (config or projects dir) or the default roots; only
    what changed since the last import is read (unchanged files are skipped, grown ones read from
    where the last import stopped). `ahead`: the same roots being read already (claude_read.read_ahead);
    the import closes it."""
    roots = roots_for_path(Path(path).expanduser()) if path else discover_roots()
    report = ImportReport()
    if not roots:
        if ahead is not None:
            ahead.close()
        report.warnings.append("no Claude Code logs found (~/.claude/projects, ~/.config/claude/projects)")
        return report
    importer = ClaudeCodeImporter(roots, pricer, report, parse_billing(billing), workspace_id, ahead=ahead)
    started = datetime.now(timezone.utc)
    importer.import_into(db, page_size)
    return _alert_unpriced(db, started, report)


def import_codex(db: "Database", pricer: Pricer, path: Path | None = None,
                 billing: Billing | str = Billing.PER_TOKEN, workspace_id: int | None = None,
                 page_size: int = PAGE_SIZE) -> ImportReport:
    """Import Codex CLI sessions from `path` (Codex home or sessions dir) or $CODEX_HOME / ~/.codex."""
    dirs = dirs_for_path(Path(path).expanduser()) if path else session_dirs(discover_homes())
    report = ImportReport()
    if not dirs:
        report.warnings.append("no Codex sessions found ($CODEX_HOME or ~/.codex)")
        return report
    importer = CodexImporter(dirs, pricer, report, parse_billing(billing), workspace_id)
    _ingest(db, importer.records(), report, page_size)
    _retire_legacy_codex_rows(db, importer.stems, report)
    return report


def _retire_legacy_codex_rows(db: "Database", stems: set[str], report: ImportReport) -> None:
    """Delete rows an older version keyed by file and line for the files just imported: their
    requests now live under per-request digest keys, and keeping both would count them twice.
    Runs only after the new rows are stored, so an interrupted import never loses spend."""
    patterns = legacy_keys(stems)
    removed = 0
    for i in range(0, len(patterns), 200):
        chunk = patterns[i:i + 200]
        removed += delete_where(db, UsageRow.source == DataSource.LOG.value,
                                or_(*(UsageRow.dedup_key.like(p, escape="\\") for p in chunk)))
    if removed:
        report.warnings.append(f"replaced {removed} row(s) written by an older version of the Codex import")


def csv_format(fmt: str, pricer: Pricer, mapping: Sequence[str] = (), tz: tzinfo = timezone.utc,
               db: "Database | None" = None) -> CsvFormat:
    """The parser for a `--format` name; `mapping` (col=field items) only for generic."""
    if fmt != "generic" and mapping:
        raise InputError("map", ", ".join(mapping), f"--map is only for --format generic, not {fmt}")
    if fmt == "openai-costs":
        return OpenAICostsCsv()
    if fmt == "anthropic-usage":
        return AnthropicUsageCsv(pricer)
    if fmt == "anthropic-cost":
        return AnthropicCostCsv()
    if fmt == "generic":
        return GenericCsv(parse_mapping(mapping), pricer, tz, _account_resolver(db) if db else None)
    raise InputError("format", fmt, f"use one of {', '.join(CSV_FORMATS)}")


def import_csv(db: "Database", pricer: Pricer, path: Path, fmt: str, mapping: Sequence[str] = (),
               role: CostRole | str = CostRole.SPEND, tz: tzinfo = timezone.utc,
               workspace_id: int | None = None, page_size: int = PAGE_SIZE) -> ImportReport:
    """Import one console export or mapped CSV file; re-importing the same file changes nothing."""
    try:
        cost_role = CostRole(role)
    except ValueError:
        raise InputError("role", role, "must be spend or detail") from None
    if cost_role is CostRole.COVERED:
        raise InputError("role", role, "must be spend or detail")
    parser = csv_format(fmt, pricer, mapping, tz, db)
    report = ImportReport()
    records = iter_csv(Path(path).expanduser(), parser, report, cost_role=cost_role,
                       workspace_id=workspace_id)
    first = next(records, None)  # header problems raise here, before any write
    if first is None:
        return report
    return _ingest(db, _chain(first, records), report, page_size)


def _ingest(db: "Database", records: Iterator[UsageRecord], report: ImportReport, page_size: int) -> ImportReport:
    """`ingest`, then one unpriced-model alert per model this import wrote rows of without a price."""
    started = datetime.now(timezone.utc)
    ingest(db, records, report, page_size)
    return _alert_unpriced(db, started, report)


def _alert_unpriced(db: "Database", started: datetime, report: ImportReport) -> ImportReport:
    """One unpriced-model alert per model the import wrote rows of (since `started`) without a price."""
    if report.added or report.updated:
        try:
            raise_unpriced_written(db, started)
        except Exception:  # the rows are committed: a failed alert must not make the import look failed
            log.exception("could not record unpriced-model alerts")
    return report


def _chain(first: UsageRecord, rest: Iterator[UsageRecord]) -> Iterator[UsageRecord]:
    yield first
    yield from rest


def _account_resolver(db: "Database") -> AccountResolver:
    cache: dict[str, int | None] = {}

    def resolve(name: str) -> int | None:
        if name not in cache:
            with db.session() as s:
                cache[name] = s.scalar(select(Account.id).where(Account.name == name))
        return cache[name]

    return resolve


def remember_source(db: "Database", kind: str, path: Path, billing: Billing | str,
                    auto_import: bool = True, workspace_id: int | None = None) -> int:
    """Create or update the `import_sources` row for a log folder; returns its id."""
    if kind not in LOG_KINDS:
        raise InputError("kind", kind, f"use one of {', '.join(LOG_KINDS)}")
    b = parse_billing(billing)
    text = str(Path(path).expanduser().resolve())
    with db.session() as s:
        row = s.scalar(select(ImportSource).where(ImportSource.kind == kind, ImportSource.path == text))
        if row is None:
            row = ImportSource(kind=kind, path=text, workspace_id=workspace_id or db.default_workspace_id())
            s.add(row)
        row.billing, row.auto_import = b.value, auto_import
        s.flush()
        return row.id


def run_scheduled_imports(ctx: "AppContext") -> dict[int, ImportReport]:
    """Import every `import_sources` row with auto_import, so history outlives the tools' own
    30-day log deletion. A failing source is recorded in its `last_result` and does not stop
    the others. Returns each source id's report."""
    db, pricer = ctx.db, ctx.catalog.cost_of
    with db.session() as s:
        sources = [(r.id, r.kind, r.path, r.billing, r.workspace_id)
                   for r in s.scalars(select(ImportSource).where(ImportSource.auto_import.is_(True))
                                      .order_by(ImportSource.id))]
    reports: dict[int, ImportReport] = {}
    for sid, kind, path, billing, ws in sources:
        run = import_claude_code if kind == "claude-code" else import_codex if kind == "codex" else None
        try:
            if run is None:
                raise InputError("kind", kind, f"use one of {', '.join(LOG_KINDS)}")
            report = run(db, pricer, Path(path), billing, ws)
            result = report.summary()
        except (InputError, OSError) as exc:
            log.warning("scheduled import %s %s failed: %s", kind, path, exc)
            report, result = ImportReport(), f"error: {exc}"
            report.warnings.append(result)
        reports[sid] = report
        with db.session() as s:
            row = s.get(ImportSource, sid)
            if row is not None:
                row.last_import_at = datetime.now(timezone.utc)
                row.last_result = result
    return reports
