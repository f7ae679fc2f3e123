"""The price catalog: user overrides, then the LiteLLM snapshot, then retired models, by effective date."""

from __future__ import annotations

import difflib
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.compute import CostBreakdown, compute_cost
from aicost_desktop.pricing.model import RateKey, ModelPrice
from aicost_desktop.pricing.normalize import DATE_SUFFIX, candidates, clean
from aicost_desktop.pricing.sources import OverrideRow, RetiredTable, Snapshot, SnapshotInfo, load_overrides

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

# A resolved chain: override keys to consult (by date), then (source, key) pairs in priority order.
_Chain = tuple[list[str], list[tuple[str, str]]]


class PriceCatalog:
    """Answers "what does this model cost on this date?".

    Precedence for a date: a user override effective on that date (latest `effective_from`
    not after it) wins; then the snapshot (bundled LiteLLM copy, or the user's file that
    replaces it); then the retired-models table by effective dates. A model none of them
    knows is unpriced (None), never $0. Thread-safe for concurrent lookups from sync workers.
    """

    def __init__(self, snapshot: Snapshot, retired: RetiredTable,
                 overrides: Iterable[OverrideRow] | Callable[[], Iterable[OverrideRow]] = ()) -> None:
        self._snapshot = snapshot
        self._retired = retired
        self._override_source = overrides
        self._overrides: dict[str, list[OverrideRow]] | None = None
        self._chains: dict[str, _Chain] = {}
        self._undated: dict[str, str] | None = None
        self._lock = threading.RLock()
        self._generation = 0  # bumped when overrides change, so a racing resolution is not cached

    @classmethod
    def load(cls, user_file: Path | None = None, db: "Database | None" = None) -> "PriceCatalog":
        """Catalog over the bundled snapshot (or `user_file` when it exists) plus `db`'s overrides.

        Nothing is read here: the JSON and the override table load on first lookup.
        """
        overrides: Callable[[], Iterable[OverrideRow]] | tuple[()] = (lambda: load_overrides(db)) if db else ()
        return cls(Snapshot(user_file), RetiredTable.bundled(), overrides)

    # -- overrides -------------------------------------------------------------------------

    def _override_index(self) -> dict[str, list[OverrideRow]]:
        if self._overrides is None:
            with self._lock:
                if self._overrides is None:
                    src = self._override_source
                    rows = list(src() if callable(src) else src)
                    index: dict[str, list[OverrideRow]] = {}
                    for row in rows:
                        index.setdefault(clean(row.model_key), []).append(row)
                    for lst in index.values():
                        lst.sort(key=lambda r: r.effective_from)
                    self._overrides = index
        return self._overrides

    def set_overrides(self, rows: Iterable[OverrideRow] | Callable[[], Iterable[OverrideRow]]) -> None:
        """Replace the override set (e.g. after `prices set` in the GUI); cached resolutions are dropped."""
        with self._lock:
            self._override_source = rows
            self._overrides = None
            self._generation += 1
            self._chains.clear()

    def reload_overrides(self) -> None:
        """Re-read overrides from the same source on next lookup."""
        self.set_overrides(self._override_source)

    def overrides_for(self, model: str) -> list[OverrideRow]:
        """Every override row that applies to `model` under any of its spellings, oldest first."""
        keys, _ = self._chain(model)
        index = self._override_index()
        return sorted((r for k in keys for r in index[k]), key=lambda r: r.effective_from)

    # -- resolution ------------------------------------------------------------------------

    def _undated_map(self) -> dict[str, str]:
        """`claude-sonnet-4` -> `claude-sonnet-4-20250514` for undated names whose only key is dated."""
        if self._undated is None:
            with self._lock:
                if self._undated is None:
                    names = [clean(k) for k in self._snapshot.keys()] + self._retired.names()
                    present = set(names)
                    mapping: dict[str, str] = {}
                    for name in sorted(names):  # ascending, so the newest date wins
                        m = DATE_SUFFIX.search(name)
                        if m and name[: m.start()] not in present:
                            mapping[name[: m.start()]] = name
                    self._undated = mapping
        return self._undated

    def _chain(self, model: str) -> _Chain:
        chain = self._chains.get(model)
        if chain is not None:
            return chain
        generation = self._generation
        cands = candidates(model)
        undated = self._undated_map()
        cands += [undated[c] for c in cands if c in undated]
        index = self._override_index()
        override_keys = [c for c in dict.fromkeys(cands) if c in index]
        if not any(DATE_SUFFIX.search(c) for c in cands):
            # An undated name (`claude-sonnet-4-5`, `anthropic/claude-sonnet-4.5`) means the
            # current version, so a price the user set on a dated key of it applies too. A dated
            # name never borrows another date's price.
            for c in list(override_keys) + cands:
                override_keys += sorted((k for k in index if DATE_SUFFIX.search(k)
                                         and DATE_SUFFIX.sub("", k) == c), reverse=True)
            override_keys = list(dict.fromkeys(override_keys))
        hits: list[tuple[str, str]] = []
        for c in cands:
            snap = self._snapshot.find(c)
            if snap is not None:
                hits.append(("snapshot", snap))
            ret = self._retired.find(c)
            if ret is not None:
                hits.append(("retired", ret))
        chain = (override_keys, list(dict.fromkeys(hits)))
        with self._lock:
            if generation == self._generation:
                self._chains[model] = chain
        return chain

    def resolve_key(self, model: str) -> str | None:
        """The catalog key `model` stands for (override key, snapshot key or retired key), or None."""
        override_keys, hits = self._chain(model)
        if override_keys:
            return override_keys[0]
        return hits[0][1] if hits else None

    def _base_price(self, model: str, at: date) -> ModelPrice | None:
        for source, key in self._chain(model)[1]:
            price = self._snapshot.price(key) if source == "snapshot" else self._retired.models[key].price_at(at)
            if price.has_token_prices:
                return price
        return None

    def lookup(self, model: str | None, at: date) -> ModelPrice | None:
        """The price of `model` on `at` with token rates, or None when unpriced."""
        if not model or not model.strip():
            return None
        base = self._base_price(model, at)
        override = self._override_at(model, at)
        if override is None:
            return base
        # An override sets base (standard-tier) rates; kinds it leaves empty inherit the
        # catalog's standard rate. Tier and long-context rates are not inherited: they belong
        # to the old price, so the compute fallbacks derive them from the override instead.
        rates = override.rates()
        if base is not None:
            for key, value in base.rates.items():
                if key.tier is ServiceTier.STANDARD and not key.above_tokens and key not in rates:
                    rates[RateKey(key.kind)] = value
        price = ModelPrice(key=override.model_key, source="override", rates=rates,
                           provider=base.provider if base else None, mode=base.mode if base else None,
                           effective_from=override.effective_from, note=override.note)
        return price if price.has_token_prices else base

    def _override_at(self, model: str, at: date) -> OverrideRow | None:
        index = self._override_index()
        for key in self._chain(model)[0]:
            effective = [r for r in index[key] if r.effective_from <= at]
            if effective:
                return effective[-1]
        return None

    def suggest(self, model: str, n: int = 5) -> list[str]:
        """Up to `n` known names close to `model` (for "did you mean")."""
        query = candidates(model)
        if not query:
            return []
        pool = ([k for k in self._snapshot.keys() if self._snapshot.price(k).has_token_prices]
                + list(self._retired.models) + list(self._override_index()))
        by_clean = {clean(k): k for k in pool}
        # Match the vendor id without its router prefix too: `openrouter/gpt-4o-mni` ~ `gpt-4o-mini`.
        names = list(by_clean)
        found: list[str] = []
        for q in dict.fromkeys([query[0], query[0].rsplit("/", 1)[-1]]):
            found += difflib.get_close_matches(q, names, n=n, cutoff=0.6)
            if len(q) >= 3 and len(found) < n:  # a fragment such as "sonnet" or "flash"
                found += sorted((k for k in names if q in k), key=lambda k: (len(k), k))[:n]
            if not found:
                found += difflib.get_close_matches(q, names, n=n, cutoff=0.45)
        return [by_clean[c] for c in dict.fromkeys(found)][:n]

    def snapshot_keys(self) -> list[str]:
        """Every model key of the snapshot in use (for update checks and pickers)."""
        return self._snapshot.keys()

    def snapshot_price(self, key: str) -> ModelPrice:
        """The snapshot's own price for an exact key, ignoring overrides and dates."""
        return self._snapshot.price(key)

    @property
    def snapshot_info(self) -> SnapshotInfo:
        """Source, date, sha256 and model count of the price map in use."""
        return self._snapshot.info

    # -- pricing ---------------------------------------------------------------------------

    def breakdown(self, model: str | None, usage: TokenUsage, tier: ServiceTier = ServiceTier.STANDARD,
                  at: date | None = None, long_context: bool | None = None) -> CostBreakdown | None:
        """Cost lines for `usage` of `model` on `at` (default today), or None when unpriced."""
        price = self.lookup(model, at or date.today())
        return None if price is None else compute_cost(price, usage, tier, long_context)

    def cost_of(self, model: str | None, usage: TokenUsage, tier: ServiceTier, at: date) -> Decimal | None:
        """The `Pricer` used by syncs and importers: total cost, or None for an unpriced model."""
        result = self.breakdown(model, usage, tier, at)
        return None if result is None else result.total
