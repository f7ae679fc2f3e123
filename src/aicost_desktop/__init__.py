"""AI Cost Tracker Desktop: a local-first ledger of AI spend with budgets, alerts and analytics."""

__version__ = "0.1.0"
APP_NAME = "AI Cost Tracker"
APP_ID = "aicost_desktop"
ORG_NAME = "aicost"
