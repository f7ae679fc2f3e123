"""Price catalog (LiteLLM snapshot + retired models + user overrides) and token cost computation."""

from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.pricing.compute import CostBreakdown, CostLine, compute_cost
from aicost_desktop.pricing.model import ModelPrice, RateKey
from aicost_desktop.pricing.sources import OverrideRow, SnapshotInfo
from aicost_desktop.pricing.update import UpdateSummary, install_catalog, validate_update

__all__ = ["PriceCatalog", "CostBreakdown", "CostLine", "compute_cost", "ModelPrice", "RateKey",
           "OverrideRow", "SnapshotInfo", "UpdateSummary", "install_catalog", "validate_update"]
