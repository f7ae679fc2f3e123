"""Anomaly -> `anomaly` alert through the alert engine's raise_alert (dedup per series and day, outbox)."""

from __future__ import annotations

from typing import Any

from aicost_desktop.storage.db import Database


def raise_anomaly(db: Database, anomaly: Any) -> bool:
    """Raise one alert per (series, day); True when it was new."""
    from aicost_desktop.notify.alerts import raise_alert

    alert = raise_alert(db, "anomaly", anomaly.dedup_key, anomaly.explanation,
                        current_usage=anomaly.actual, currency="USD", workspace_id=db.default_workspace_id())
    return alert is not None
