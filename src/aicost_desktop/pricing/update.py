"""`prices update`: sanity checks on a new LiteLLM-format price map and its atomic installation."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.pricing.model import INPUT, OUTPUT, RateKey, rates_from_litellm
from aicost_desktop.pricing.sources import model_entries

if TYPE_CHECKING:
    from aicost_desktop.pricing.catalog import PriceCatalog

FIELD = "--from"
# LiteLLM's own loader refuses a remote map that shrinks far below its backup; we refuse to
# lose more than half the models, and any base price moving 10x, both typical of a wrong file
# (a different format, a per-1k-token file, a truncated download) rather than a real update.
MAX_DROP_FRACTION = Decimal("0.5")
MAX_PRICE_FACTOR = Decimal(10)
_CHECKED = (RateKey(INPUT), RateKey(OUTPUT))


@dataclass
class UpdateSummary:
    """What installing the candidate would change."""

    path: Path
    sha256: str
    models_before: int
    models_after: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    big_moves: list[str] = field(default_factory=list)
    forced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "models_before": self.models_before,
                "models_after": self.models_after, "added": len(self.added), "removed": len(self.removed),
                "changed": len(self.changed), "big_moves": self.big_moves, "forced": self.forced}


def _base_rates(entry: Mapping[str, Any]) -> dict[RateKey, Decimal]:
    rates = rates_from_litellm(entry)
    return {k: rates[k] for k in _CHECKED if k in rates}


def _moved_too_far(old: Decimal, new: Decimal) -> bool:
    if old == new:
        return False
    if old == 0 or new == 0:
        return True  # a price appearing from or vanishing to zero is an unbounded move
    ratio = new / old
    return ratio > MAX_PRICE_FACTOR or ratio < 1 / MAX_PRICE_FACTOR


def validate_update(current: "PriceCatalog", candidate_path: Path, force: bool = False) -> UpdateSummary:
    """Compare the candidate file with the catalog's current snapshot; InputError if it looks wrong.

    A file that is unreadable or not a JSON object of model entries is refused even with
    `force`; a large shrink or a >10x price move is refused unless `force`.
    """
    path = Path(candidate_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(FIELD, str(path), f"cannot read file ({exc.strerror or exc})") from None
    try:
        new = model_entries(json.loads(raw))
    except ValueError as exc:
        # json.JSONDecodeError is a ValueError; so is model_entries' "not an object".
        raise InputError(FIELD, str(path), f"not a LiteLLM price map: {exc}") from None
    except RecursionError:
        raise InputError(FIELD, str(path), "not a LiteLLM price map: JSON nested too deep") from None
    if not new:
        raise InputError(FIELD, str(path), "contains no model entries")

    old_keys = set(current.snapshot_keys())
    summary = UpdateSummary(path, hashlib.sha256(raw).hexdigest(), len(old_keys), len(new), forced=force)
    summary.added = sorted(set(new) - old_keys)
    summary.removed = sorted(old_keys - set(new))
    for key in sorted(old_keys & set(new)):
        rates = current.snapshot_price(key).rates
        before = {k: rates[k] for k in _CHECKED if k in rates}
        after = _base_rates(new[key])
        if before != after:
            summary.changed.append(key)
        for rk in _CHECKED:
            if rk in before and rk in after and _moved_too_far(before[rk], after[rk]):
                summary.big_moves.append(f"{key} {rk.kind} {before[rk]:f} -> {after[rk]:f} per MTok")

    problems: list[str] = []
    if old_keys and len(summary.removed) > len(old_keys) * MAX_DROP_FRACTION:
        problems.append(f"would drop {len(summary.removed)} of {len(old_keys)} models (more than half)")
    if summary.big_moves:
        shown = "; ".join(summary.big_moves[:3])
        more = f" (+{len(summary.big_moves) - 3} more)" if len(summary.big_moves) > 3 else ""
        problems.append(f"moves {len(summary.big_moves)} price(s) by more than 10x: {shown}{more}")
    if problems and not force:
        raise InputError(FIELD, str(path), "; ".join(problems) + "; check the file or pass --force")
    return summary


def install_catalog(candidate_path: Path, target: Path) -> None:
    """Copy the validated file over `target` atomically: readers see the old file or the new one."""
    data = Path(candidate_path).read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".model_prices.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OperationError(f"cannot install price catalog at {target}: {exc}") from exc
