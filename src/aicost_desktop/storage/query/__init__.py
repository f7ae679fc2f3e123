"""Public query layer over the ledger and its roll-up: the one filter, local-day windows, display names."""

from aicost_desktop.storage.query.filters import COST_MODES, LedgerFilter, where_clauses
from aicost_desktop.storage.query.names import (NameMaps, check_known, close_matches, display_names,
                                                filter_choices, known_values, unknown_name)
from aicost_desktop.storage.query.windows import (at_column, day_range, local_day_expr, offset_changes,
                                                  source_table, time_window, week_start_of)

__all__ = ["COST_MODES", "LedgerFilter", "NameMaps", "at_column", "check_known", "close_matches", "day_range",
           "display_names", "filter_choices", "where_clauses", "known_values", "local_day_expr",
           "offset_changes", "source_table", "time_window", "unknown_name", "week_start_of"]
