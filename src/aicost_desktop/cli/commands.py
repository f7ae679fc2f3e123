"""The `aicost` commands: which module registers each, and the line `aicost --help` shows for it."""

from __future__ import annotations

# Each top-level command: (the module under aicost_desktop.cli that registers it, its help line), in the
# order `aicost --help` lists them. The modules take their help line from here, so the listing can be
# printed (for `aicost`, `--help` or a mistyped command) without importing any of them.
COMMAND_TABLE: dict[str, tuple[str, str]] = {
    "cost": ("cost", "price a number of tokens of a model"),
    "prices": ("prices", "show, set and update model prices"),
    "manual": ("manual", "manual spend entries"),
    "report": ("report", "what did I spend? (local days, grouped)"),
    "demo": ("demo", "load (or --clear) deterministic sample data marked as demo"),
    "accounts": ("accounts", "provider accounts"),
    "sync": ("accounts", "sync provider accounts now"),
    "import": ("imports", "import agent logs or console CSV exports"),
    "subscriptions": ("subscriptions", "recurring subscriptions (ChatGPT Plus, Claude Pro, ...)"),
    "budgets": ("budgets", "spending limits per period with alerts"),
    "alerts": ("alerts", "the alert log"),
    "check": ("alerts", "evaluate budgets now and deliver alerts (email; tray in the app)"),
    "analytics": ("analytics", "forecast, anomalies and reconciliation"),
    "export": ("export", "export ledger rows to CSV, JSON or NDJSON"),
    "gateway": ("gateway", "run the local metering gateway (OpenAI/Anthropic proxy on 127.0.0.1)"),
    "integrations": ("integrations", "Slack, GitHub, email... as alert destinations"),
    "routes": ("routes", "send alerts to Slack, GitHub, Discord... (rules)"),
    "reports": ("routes", "scheduled spend reports to an integration"),
}


def help_of(command: str) -> str:
    """The help line of a top-level command (what its module registers it with)."""
    return COMMAND_TABLE[command][1]
