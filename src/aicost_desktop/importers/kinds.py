"""The import sources the app knows, by the names the CLI, the GUI and the stored sources use."""

from __future__ import annotations

LOG_KINDS = ("claude-code", "codex")
CSV_FORMATS = ("openai-costs", "anthropic-usage", "anthropic-cost", "generic")
