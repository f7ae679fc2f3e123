"""Streaming exports of the ledger (CSV, JSON array, NDJSON); no Qt."""

from aicost_desktop.export.writer import (ALL_COLUMNS, DEFAULT_COLUMNS, FORMATS, ExportCancelled, ExportResult,
                                          ExportSpec, export, parse_columns)

__all__ = ["ALL_COLUMNS", "DEFAULT_COLUMNS", "FORMATS", "ExportCancelled", "ExportResult", "ExportSpec", "export",
           "parse_columns"]
