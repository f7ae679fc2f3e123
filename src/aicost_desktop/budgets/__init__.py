"""Budgets: calendar periods in the user's zone, spend per scope, forecast, and the alerting engine (no Qt)."""
