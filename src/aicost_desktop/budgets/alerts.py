"""Alert entry points for other subsystems (the sync runner imports them from here); see notify.alerts."""

from aicost_desktop.notify.alerts import (clear_sync_failure, raise_alert, raise_anomaly, raise_sync_failure,
                                          raise_unpriced_models)

__all__ = ["clear_sync_failure", "raise_alert", "raise_anomaly", "raise_sync_failure", "raise_unpriced_models"]
