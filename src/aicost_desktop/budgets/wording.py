"""Budgets in words: "Anthropic", "this month", "over budget by $3.20 (132%)" instead of scope keys and dates."""

from __future__ import annotations

from aicost_desktop.budgets.spend import Scope
from aicost_desktop.sync.registry import PROVIDERS

PERIOD_WORDS = {"daily": "today", "weekly": "this week", "monthly": "this month", "quarterly": "this quarter",
                "yearly": "this year"}
# A budget's state as the Budgets table and `aicost budgets status` say it.
STATE_WORDS = {"ok": "On track", "at_risk": "Projected over", "warning": "Warning", "exceeded": "Exceeded"}
SOURCE_WORDS = {"api": "provider API usage", "import": "imported usage", "log": "agent logs",
                "manual": "manual entries", "subscription": "subscriptions", "proxy": "gateway requests"}


# Providers the ledger holds rows of without a sync of their own (logs, CSV imports, subscriptions, the demo),
# as their makers write them: "google" beside "OpenAI" in one list read like a typo.
OTHER_LABELS = {"google": "Google", "github": "GitHub", "cursor": "Cursor", "replicate": "Replicate",
                "midjourney": "Midjourney", "mistral": "Mistral", "xai": "xAI", "groq": "Groq",
                "perplexity": "Perplexity", "cohere": "Cohere", "together": "Together AI", "fireworks": "Fireworks AI"}


def provider_label(name: str) -> str:
    """'anthropic' -> 'Anthropic' (the registry's label), 'github' -> 'GitHub', an unknown provider as written."""
    spec = PROVIDERS.get(name)
    return spec.label if spec else OTHER_LABELS.get(name, name)


def scope_words(scope: Scope) -> str:
    """What a budget counts, as a person would say it: 'everything', 'Anthropic', 'project alpha'."""
    v = scope.value or ""
    if scope.kind == "all" or not v:
        return "everything"
    if scope.kind == "provider":
        return provider_label(v)
    if scope.kind == "source":
        return SOURCE_WORDS.get(v, v)
    if scope.kind == "model":
        return v
    return f"{scope.kind} {v}"


def period_words(kind: str) -> str:
    """'monthly' -> 'this month', 'daily' -> 'today'."""
    return PERIOD_WORDS.get(kind, f"this {kind}")


