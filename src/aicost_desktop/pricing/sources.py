"""The catalog's three price sources: the LiteLLM snapshot, the retired-models table, user overrides."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from aicost_desktop.pricing.model import (CACHE_READ, CACHE_WRITE_1H, CACHE_WRITE_5M, INPUT, OUTPUT, ModelPrice,
                                          RateKey, plain, rates_from_compact, rates_from_litellm)
from aicost_desktop.pricing.normalize import clean

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.pricing")

DOC_ENTRY = "sample_spec"  # LiteLLM's documentation pseudo-entry, not a model
BUNDLED = "model_prices.json"


def _data_bytes(name: str) -> bytes:
    return resources.files("aicost_desktop.pricing").joinpath("data", name).read_bytes()


@dataclass(frozen=True)
class SnapshotInfo:
    """Provenance of the price map in use: the bundled LiteLLM copy or a user-installed file."""

    source: str
    snapshot_date: date | None
    sha256: str
    model_count: int
    path: str
    bundled: bool

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "snapshot_date": self.snapshot_date, "sha256": self.sha256,
                "model_count": self.model_count, "path": self.path, "bundled": self.bundled}


def model_entries(doc: Any) -> dict[str, Mapping[str, Any]]:
    """The model entries of a LiteLLM-format document (dict values only, doc entry skipped)."""
    if not isinstance(doc, dict):
        raise ValueError("price map must be a JSON object of model -> entry")
    return {k: v for k, v in doc.items() if k != DOC_ENTRY and isinstance(v, dict)}


def _index_of(entries: Mapping[str, Any]) -> dict[str, str]:
    return {clean(k): k for k in entries}


_bundled_lock = threading.Lock()
_bundled_map: tuple[SnapshotInfo, dict[str, Mapping[str, Any]], dict[str, str]] | None = None


def _bundled() -> tuple[SnapshotInfo, dict[str, Mapping[str, Any]], dict[str, str]]:
    """The bundled map, parsed once per process: it ships with the code and is only read, and each catalog
    (every CLI command, every reload after a price change) would otherwise parse its 3 MB again (~40 ms)."""
    global _bundled_map
    with _bundled_lock:
        if _bundled_map is None:
            meta = json.loads(_data_bytes("SNAPSHOT.json"))
            entries = model_entries(json.loads(_data_bytes(BUNDLED)))
            info = SnapshotInfo(meta["source"], date.fromisoformat(meta["snapshot_date"]), meta["sha256"],
                                len(entries), f"<bundled>/{BUNDLED}", bundled=True)
            _bundled_map = (info, entries, _index_of(entries))
        return _bundled_map


class Snapshot:
    """A LiteLLM-format price map, parsed on first use so `aicost --help` never pays for 3 MB of JSON."""

    def __init__(self, user_file: Path | None = None) -> None:
        self._user_file = user_file
        self._lock = threading.Lock()
        self._entries: dict[str, Mapping[str, Any]] | None = None
        self._index: dict[str, str] = {}
        self._prices: dict[str, ModelPrice] = {}
        self._info: SnapshotInfo | None = None

    def _ensure(self) -> dict[str, Mapping[str, Any]]:
        if self._entries is None:
            with self._lock:
                if self._entries is None:
                    self._load()
        assert self._entries is not None
        return self._entries

    def _load(self) -> None:
        if self._user_file is not None and self._user_file.exists():
            try:
                raw = self._user_file.read_bytes()
                entries = model_entries(json.loads(raw))
                self._info = SnapshotInfo(f"user file {self._user_file}", None, hashlib.sha256(raw).hexdigest(),
                                          len(entries), str(self._user_file), bundled=False)
                self._set(entries)
                return
            except (OSError, ValueError, RecursionError) as exc:
                # `prices update` validates before installing, so this is a damaged file: keep
                # pricing with the bundled copy rather than leaving every model unpriced.
                log.warning("ignoring price catalog %s (%s); using the bundled snapshot", self._user_file, exc)
        self._info, self._entries, self._index = _bundled()

    def _set(self, entries: dict[str, Mapping[str, Any]]) -> None:
        self._index = _index_of(entries)
        self._entries = entries

    @property
    def info(self) -> SnapshotInfo:
        self._ensure()
        assert self._info is not None
        return self._info

    def keys(self) -> list[str]:
        return list(self._ensure())

    def find(self, cleaned: str) -> str | None:
        """The catalog key spelled `cleaned` after normalization, if present."""
        self._ensure()
        return self._index.get(cleaned)

    def price(self, key: str) -> ModelPrice:
        cached = self._prices.get(key)
        if cached is None:
            entry = self._ensure()[key]
            rates = rates_from_litellm(entry)
            if entry.get("litellm_provider") == "deepseek":
                # DeepSeek bills cache hits and cache misses only; LiteLLM's
                # `cache_creation_input_token_cost: 0.0` on some DeepSeek keys would make
                # cache writes free on one spelling and input-priced on another.
                rates = {k: v for k, v in rates.items() if k.kind not in (CACHE_WRITE_5M, CACHE_WRITE_1H)}
            cached = ModelPrice(key=key, source="snapshot" if self.info.bundled else "user_file",
                                rates=rates, provider=entry.get("litellm_provider"),
                                mode=entry.get("mode"), note=None,
                                extra={k: entry[k] for k in ("source", "deprecation_date", "max_input_tokens")
                                       if k in entry})
            self._prices[key] = cached
        return cached


@dataclass(frozen=True)
class RetiredPeriod:
    effective_from: date
    rates: Mapping[RateKey, Decimal]
    note: str | None
    fast: Decimal | None = None  # fast-mode multiplier of every rate, when the provider publishes one


def _fast_multiplier(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"{where}: fast={raw!r}: must be a number (multiplier of standard rates)") from None
    if not value.is_finite() or value < 1:
        raise ValueError(f"{where}: fast={raw!r}: must be a multiplier of at least 1")
    return plain(value)


@dataclass(frozen=True)
class RetiredModel:
    key: str
    provider: str
    source: str
    aliases: tuple[str, ...]
    periods: tuple[RetiredPeriod, ...]  # ascending by effective_from
    note: str | None = None

    def price_at(self, at: date) -> ModelPrice:
        """The period in force on `at`; dates before the first period use the first (launch) price."""
        chosen = self.periods[0]
        for period in self.periods:
            if period.effective_from <= at:
                chosen = period
        return ModelPrice(key=self.key, source="retired", rates=chosen.rates, provider=self.provider,
                          mode="chat", effective_from=chosen.effective_from,
                          note=chosen.note or self.note, extra={"source": self.source},
                          fast_multiplier=chosen.fast)


class RetiredTable:
    """Curated provider-published prices (`data/retired_models.json`).

    Holds the models the snapshot pruned, and the published rates LiteLLM lacks or gets wrong
    for current models (long-context tiers, fast-mode multipliers, dated price changes); the
    catalog prefers it to the snapshot for the spellings it lists.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.models: dict[str, RetiredModel] = {}
        self._index: dict[str, str] = {}
        for key, raw in doc["models"].items():
            where = f"retired_models.json {key}"
            periods = tuple(sorted(
                (RetiredPeriod(date.fromisoformat(p["effective_from"]), rates_from_compact(p["rates"], where),
                               p.get("note"), _fast_multiplier(p.get("fast"), where))
                 for p in raw["prices"]), key=lambda p: p.effective_from))
            if not periods:
                raise ValueError(f"retired_models.json {key}: no prices")
            model = RetiredModel(key, raw["provider"], raw.get("source", ""), tuple(raw.get("aliases", ())),
                                 periods, raw.get("note"))
            self.models[key] = model
            for name in (key, *model.aliases):
                self._index[clean(name)] = key

    @classmethod
    def bundled(cls) -> "RetiredTable":
        return cls(json.loads(_data_bytes("retired_models.json")))

    def find(self, cleaned: str) -> str | None:
        return self._index.get(cleaned)

    def names(self) -> list[str]:
        return list(self._index)


@dataclass(frozen=True)
class OverrideRow:
    """A user price from `price_overrides` (per MTok); None fields inherit the catalog's price."""

    model_key: str
    effective_from: date
    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cache_read_per_mtok: Decimal | None = None
    cache_write_5m_per_mtok: Decimal | None = None
    cache_write_1h_per_mtok: Decimal | None = None
    note: str | None = None

    @classmethod
    def from_orm(cls, row: Any) -> "OverrideRow":
        return cls(row.model_key, row.effective_from, row.input_per_mtok, row.output_per_mtok,
                   row.cache_read_per_mtok, row.cache_write_5m_per_mtok, row.cache_write_1h_per_mtok, row.note)

    def rates(self) -> dict[RateKey, Decimal]:
        pairs = ((INPUT, self.input_per_mtok), (OUTPUT, self.output_per_mtok), (CACHE_READ, self.cache_read_per_mtok),
                 (CACHE_WRITE_5M, self.cache_write_5m_per_mtok), (CACHE_WRITE_1H, self.cache_write_1h_per_mtok))
        return {RateKey(kind): plain(Decimal(v)) for kind, v in pairs if v is not None}


def load_overrides(db: "Database") -> list[OverrideRow]:
    """Every override row; the table is small (one row per user-set price change)."""
    # lazy: `aicost cost` and `aicost prices` read the catalog without loading SQLAlchemy
    from sqlalchemy import select

    from aicost_desktop.storage.tables import PriceOverride  # lazy: as above (the ORM)

    with db.session() as session:
        return [OverrideRow.from_orm(r) for r in session.scalars(select(PriceOverride))]
