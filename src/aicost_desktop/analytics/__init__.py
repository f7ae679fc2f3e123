"""Read-side analytics over the ledger: spend reports, series, forecasts, anomalies, reconciliation."""
