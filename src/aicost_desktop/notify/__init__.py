"""Alert routing: raising alerts once, the outbox with retries and rate limits, tray and email channels."""

from aicost_desktop.notify.alerts import (ALERT_TYPES, AlertView, acknowledge, clear_sync_failure, list_alerts,
                                          raise_alert, raise_anomaly, raise_sync_failure, raise_unpriced_models)

__all__ = ["ALERT_TYPES", "AlertView", "acknowledge", "clear_sync_failure", "list_alerts", "raise_alert",
           "raise_anomaly", "raise_sync_failure", "raise_unpriced_models"]
