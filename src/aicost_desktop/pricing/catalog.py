"""The price catalog: user overrides, then curated provider prices, then the LiteLLM snapshot, by effective date."""

from __future__ import annotations

import difflib
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.compute import CostBreakdown, compute_cost
from aicost_desktop.pricing.model import FAST, INPUT, STANDARD_SPEED, ModelPrice, RateKey, check_speed, plain
from aicost_desktop.pricing.normalize import DATE_SUFFIX, candidates, clean
from aicost_desktop.pricing.sources import OverrideRow, RetiredTable, Snapshot, SnapshotInfo, load_overrides

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

# A resolved chain: override keys to consult (by date), then (source, key, shown key) hits in
# priority order. A curated entry matched under a spelling the snapshot also lists is shown
# under that spelling (`claude-sonnet-4-5` stays `claude-sonnet-4-5`, not the entry's dated key).
_Chain = tuple[list[str], list[tuple[str, str, str]]]
# How Anthropic's own model ids name fast mode in logs and ledgers (`claude-opus-4-6-fast`).
FAST_SUFFIX = "-fast"
# A platform's Claude price relative to Anthropic's (Bedrock and Vertex regional endpoints
# charge 10% more; global and in-region ones the same). Outside this range the snapshot key is
# taken to be another price entirely, and no published rate is scaled onto it.
_UPLIFT_RANGE = (Decimal(1), Decimal("1.25"))


class PriceCatalog:
    """Answers "what does this model cost on this date?".

    Precedence for a date: a user override effective on that date (latest `effective_from`
    not after it) wins; then, spelling by spelling, the curated table of provider-published
    prices (`retired_models.json`: retired models and the published rates LiteLLM lacks, by
    effective dates) before the snapshot (bundled LiteLLM copy, or the user's file that
    replaces it), because where the two disagree the provider's published price is what is
    billed. A model none of them knows is unpriced (None), never $0. Thread-safe for
    concurrent lookups from sync workers.

    Every spelling of one model lands on one price: dated/undated, `anthropic/`, Vertex `@`,
    Bedrock `anthropic.` ids resolve to the same curated entry or to a platform entry whose
    missing long-context rates are filled from the published ones (times the platform's
    regional uplift, read off its own base price). `<model>-fast` means fast mode.
    """

    def __init__(self, snapshot: Snapshot, retired: RetiredTable,
                 overrides: Iterable[OverrideRow] | Callable[[], Iterable[OverrideRow]] = ()) -> None:
        self._snapshot = snapshot
        self._retired = retired
        self._override_source = overrides
        self._overrides: dict[str, list[OverrideRow]] | None = None
        self._chains: dict[str, _Chain] = {}
        self._undated: dict[str, str] | None = None
        self._curated_keys: dict[str, str | None] = {}  # snapshot key -> curated entry it spells
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
        hits: list[tuple[str, str, str]] = []
        for c in cands:
            ret = self._retired.find(c)
            snap = self._snapshot.find(c)
            if ret is not None:
                hits.append(("retired", ret, snap or ret))
            if snap is not None:
                hits.append(("snapshot", snap, snap))
        chain = (override_keys, list(dict.fromkeys(hits)))
        with self._lock:
            if generation == self._generation:
                self._chains[model] = chain
        return chain

    def _resolve_key(self, model: str) -> str | None:
        override_keys, hits = self._chain(model)
        if override_keys:
            return override_keys[0]
        return hits[0][2] if hits else None

    def resolve_key(self, model: str) -> str | None:
        """The catalog key `model` stands for (override key, snapshot key or retired key), or None.

        `<model>-fast` stands for `<model>`'s key when the name itself is not priced.
        """
        name, _ = self._split_speed(model, None)
        return self._resolve_key(name)

    def _split_speed(self, model: str, speed: str | None) -> tuple[str, str]:
        """(model name to price, speed). A `-fast` suffix means fast mode unless the user priced
        that exact name (then their price is the fast price) or the name without it is unknown."""
        speed = STANDARD_SPEED if speed is None else check_speed(speed)
        c = clean(model)
        if not c.endswith(FAST_SUFFIX) or self._chain(model)[0]:
            return model, speed
        base = c.removesuffix(FAST_SUFFIX)
        if base and self._resolve_key(base) is not None:
            return base, FAST
        return model, speed

    def _curated_price(self, key: str, at: date) -> ModelPrice | None:
        """The curated (published) price of the model a platform snapshot `key` is a spelling of."""
        if key not in self._curated_keys:
            found = next((f for f in map(self._retired.find, candidates(key)) if f is not None), None)
            self._curated_keys[key] = found  # a benign race: both writers store the same value
        found = self._curated_keys[key]
        return None if found is None else self._retired.models[found].price_at(at)

    def _with_published_thresholds(self, price: ModelPrice, at: date) -> ModelPrice:
        """A snapshot Claude price with the published long-context rates it lacks.

        LiteLLM lists Sonnet 4.5's >200k rates on some Bedrock/Vertex keys and not on others;
        the same request must cost the same on each. Missing threshold rates are the published
        ones times this key's uplift (its base input over the published base input), so a
        regional Bedrock key keeps its +10% and a global one does not.
        """
        if not price.anthropic_style:
            return price
        published = self._curated_price(price.key, at)
        if published is None or not published.thresholds:
            return price
        mine, theirs = price.rate(INPUT), published.rate(INPUT)
        if not mine or not theirs or not (_UPLIFT_RANGE[0] <= mine / theirs <= _UPLIFT_RANGE[1]):
            return price
        uplift = mine / theirs
        added = {k: plain(v * uplift) for k, v in published.rates.items()
                 if k.above_tokens and k.tier is ServiceTier.STANDARD and k not in price.rates}
        if not added:
            return price
        note = (f"long-context rates: Anthropic's published price"
                + ("" if uplift == 1 else f" x{plain(uplift)} (this platform's uplift)"))
        return ModelPrice(key=price.key, source=price.source, rates={**price.rates, **added},
                          provider=price.provider, mode=price.mode, effective_from=price.effective_from,
                          note=_join_notes(price.note, note), extra=price.extra,
                          fast_multiplier=price.fast_multiplier)

    def _with_snapshot_tiers(self, price: ModelPrice, rest: list[tuple[str, str, str]]) -> ModelPrice:
        """A curated price plus the snapshot's batch/priority/flex rates for the same model.

        The curated table lists standard rates; the snapshot's tier rates are kept when the
        snapshot agrees with the provider on the base input price (same model, same price)."""
        companion = next((self._snapshot.price(k) for src, k, _ in rest if src == "snapshot"), None)
        if companion is None or companion.rate(INPUT) != price.rate(INPUT):
            return price
        levels = {0, *price.thresholds}
        added = {k: v for k, v in companion.rates.items()
                 if k.tier is not ServiceTier.STANDARD and k.above_tokens in levels and k not in price.rates}
        if not added:
            return price
        return ModelPrice(key=price.key, source=price.source, rates={**price.rates, **added},
                          provider=price.provider, mode=price.mode, effective_from=price.effective_from,
                          note=price.note, extra=price.extra, fast_multiplier=price.fast_multiplier)

    def _base_price(self, model: str, at: date) -> ModelPrice | None:
        chain = self._chain(model)[1]
        for i, (source, key, shown) in enumerate(chain):
            if source == "snapshot":
                price = self._snapshot.price(key)
                if price.has_token_prices:
                    return self._with_published_thresholds(price, at)
            else:
                price = self._retired.models[key].price_at(at)
                if price.has_token_prices:
                    if shown != key:
                        price = replace(price, key=shown)
                    return self._with_snapshot_tiers(price, chain[i + 1:])
        return None

    def lookup(self, model: str | None, at: date, *, speed: str | None = None) -> ModelPrice | None:
        """The price of `model` on `at` with token rates, or None when unpriced.

        `speed="fast"` (or a `<model>-fast` name) returns fast-mode rates: every rate times
        the model's published fast multiplier (standard rates, with a note, when there is none).
        """
        if not model or not model.strip():
            return None
        name, speed = self._split_speed(model, speed)
        price = self._standard_price(name, at)
        return None if price is None else price.at_speed(speed)

    def _standard_price(self, model: str, at: date) -> ModelPrice | None:
        base = self._base_price(model, at)
        override = self._override_at(model, at)
        if override is None:
            return base
        # An override sets base (standard-tier) rates; kinds it leaves empty inherit the
        # catalog's standard rate. Tier and long-context rates are not inherited: they belong
        # to the old price, so the compute fallbacks derive them from the override instead.
        # Fast mode is a published multiple of whatever the standard price is, so it carries over.
        rates = override.rates()
        if base is not None:
            for key, value in base.rates.items():
                if key.tier is ServiceTier.STANDARD and not key.above_tokens and key not in rates:
                    rates[RateKey(key.kind)] = value
        price = ModelPrice(key=override.model_key, source="override", rates=rates,
                           provider=base.provider if base else None, mode=base.mode if base else None,
                           effective_from=override.effective_from, note=override.note,
                           fast_multiplier=base.fast_multiplier if base else None)
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
                  at: date | None = None, long_context: bool | None = None, *,
                  speed: str | None = None) -> CostBreakdown | None:
        """Cost lines for `usage` of `model` on `at` (default today), or None when unpriced.

        `long_context`: None judges a single request (`usage.requests == 1`) by its prompt size
        and bills an aggregate at base rates; True/False says which side of the threshold an
        aggregate is on. `speed`: "standard" or "fast" (a `<model>-fast` name means fast too).
        """
        price = self.lookup(model, at or date.today(), speed=speed)
        return None if price is None else compute_cost(price, usage, tier, long_context)

    def cost_of(self, model: str | None, usage: TokenUsage, tier: ServiceTier, at: date, *,
                long_context: bool | None = None, speed: str | None = None) -> Decimal | None:
        """The `Pricer` used by syncs and importers: total cost, or None for an unpriced model.

        The four positional arguments are the `Pricer` signature; an aggregate that knows its
        context-window bucket passes `long_context=`, a request with a speed passes `speed=`.
        """
        result = self.breakdown(model, usage, tier, at, long_context, speed=speed)
        return None if result is None else result.total


def _join_notes(*notes: str | None) -> str | None:
    parts = [n for n in notes if n]
    return "; ".join(parts) if parts else None
