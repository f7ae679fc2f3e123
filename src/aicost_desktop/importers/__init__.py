"""Local agent logs (Claude Code, Codex) and console CSV exports into the ledger."""
