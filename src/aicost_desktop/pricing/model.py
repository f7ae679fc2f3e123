"""A model's price as a table of per-million-token rates keyed by token kind, tier and prompt threshold."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from aicost_desktop.domain.enums import ServiceTier

# Token kinds in the order cost lines are printed.
INPUT = "input"
CACHE_READ = "cache_read"
CACHE_WRITE_5M = "cache_write_5m"
CACHE_WRITE_1H = "cache_write_1h"
OUTPUT = "output"
KINDS = (INPUT, CACHE_READ, CACHE_WRITE_5M, CACHE_WRITE_1H, OUTPUT)

MTOK = Decimal(1_000_000)

# Request speeds (Anthropic `usage.speed`). Fast mode bills a per-model multiple of every
# standard rate (cache and long-context rates included), so it is a property of the price,
# not a tier: it stacks with tiers and long-context tiers.
STANDARD_SPEED = "standard"
FAST = "fast"
SPEEDS = (STANDARD_SPEED, FAST)

# LiteLLM field stems -> our kinds. `cache_creation_input_token_cost_above_1hr` is the 1-hour
# TTL cache write (not a long-context tier), so it must be matched before the plain stem.
_LITELLM_STEMS = {
    "input_cost_per_token": INPUT,
    "output_cost_per_token": OUTPUT,
    "cache_read_input_token_cost": CACHE_READ,
    "cache_creation_input_token_cost_above_1hr": CACHE_WRITE_1H,
    "cache_creation_input_token_cost": CACHE_WRITE_5M,
}
_LITELLM_FIELD = re.compile(
    r"^(?P<stem>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost_above_1hr|cache_creation_input_token_cost)"
    r"(?:_above_(?P<k>\d+)k_tokens)?(?:_(?P<tier>batches|priority|flex))?$"
)
_LITELLM_TIERS = {None: ServiceTier.STANDARD, "batches": ServiceTier.BATCH,
                  "priority": ServiceTier.PRIORITY, "flex": ServiceTier.FLEX}
# Our compact rate keys in retired_models.json: kind[@tier][>threshold].
_COMPACT_KEY = re.compile(r"^(?P<kind>[a-z_0-9]+)(?:@(?P<tier>[a-z]+))?(?:>(?P<thr>\d+))?$")


@dataclass(frozen=True, order=True)
class RateKey:
    """Which rate: token kind, service tier, and the prompt size above which it applies (0 = base)."""

    kind: str
    tier: ServiceTier = ServiceTier.STANDARD
    above_tokens: int = 0

    def label(self) -> str:
        tier = "" if self.tier is ServiceTier.STANDARD else f"@{self.tier.value}"
        thr = f">{self.above_tokens}" if self.above_tokens else ""
        return f"{self.kind}{tier}{thr}"


@dataclass(frozen=True)
class ModelPrice:
    """The rates of one model (USD per million tokens) and where they came from.

    `source` is "override", "snapshot", "user_file" or "retired"; `effective_from` is set for
    overrides and retired-table periods (snapshot prices carry no dates).
    """

    key: str
    source: str
    rates: Mapping[RateKey, Decimal]
    provider: str | None = None
    mode: str | None = None
    effective_from: date | None = None
    note: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # What fast mode costs as a multiple of these rates (None: no published fast price).
    fast_multiplier: Decimal | None = None
    # The speed these rates are for, and what the breakdown should say about it.
    speed: str = STANDARD_SPEED
    speed_note: str | None = None

    def rate(self, kind: str, tier: ServiceTier = ServiceTier.STANDARD, above_tokens: int = 0) -> Decimal | None:
        return self.rates.get(RateKey(kind, tier, above_tokens))

    @property
    def input_per_mtok(self) -> Decimal | None:
        return self.rate(INPUT)

    @property
    def output_per_mtok(self) -> Decimal | None:
        return self.rate(OUTPUT)

    @property
    def thresholds(self) -> list[int]:
        """Long-context thresholds (prompt tokens) this price has rates for, ascending."""
        return sorted({k.above_tokens for k in self.rates if k.above_tokens})

    @property
    def has_token_prices(self) -> bool:
        """False for image/audio/per-second entries: they have no input or output token rate."""
        return self.input_per_mtok is not None or self.output_per_mtok is not None

    @property
    def anthropic_style(self) -> bool:
        """Claude models bill cache writes at a premium over input (1.25x for 5m, 2x for 1h)."""
        return "claude" in self.key or (self.provider or "").startswith("anthropic")

    @property
    def cache_writes_at_input(self) -> bool:
        """DeepSeek has no cache-write price: what others call a cache write it bills as cache-miss input."""
        return self.provider == "deepseek"

    def at_speed(self, speed: str) -> "ModelPrice":
        """These rates for a request made at `speed` ("standard" or "fast").

        Fast mode multiplies every rate by the model's published multiplier; a model without
        one keeps its standard rates and says so (a floor, never a hidden zero).
        """
        speed = check_speed(speed)
        if speed == self.speed or speed == STANDARD_SPEED:
            return self
        m = self.fast_multiplier
        if m is None:
            return replace(self, speed=FAST,
                           speed_note=f"no fast-mode price for {self.key}: standard price used")
        return replace(self, rates={k: plain(v * m) for k, v in self.rates.items()}, speed=FAST,
                       speed_note=f"fast mode: {plain(m)}x standard rates")


def check_speed(speed: str) -> str:
    """`speed` lower-cased, or ValueError naming it when it is not standard or fast."""
    s = str(speed).strip().lower()
    if s not in SPEEDS:
        raise ValueError(f"speed={speed!r}: must be one of {', '.join(SPEEDS)}")
    return s


def plain(value: Decimal) -> Decimal:
    """Normalized without exponent form: 10 stays Decimal('10'), not Decimal('1E+1')."""
    d = value.normalize()
    exponent = d.as_tuple().exponent  # a letter code for NaN/Infinity, which have no plainer form
    return d.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else d


MAX_PER_TOKEN = Decimal(1000)  # USD per token above which a price map's value is a mistake, not a price


def per_mtok_from_token_float(value: object) -> Decimal | None:
    """LiteLLM stores USD per token as floats; go through repr so 3e-06 stays exactly 3e-06."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not d.is_finite() or d < 0 or d > MAX_PER_TOKEN:  # 1e30 per token is no price (and no 28-digit Decimal)
        return None
    return plain(d * MTOK)


def rates_from_litellm(entry: Mapping[str, Any]) -> dict[RateKey, Decimal]:
    """Pick the token rates we understand out of a LiteLLM entry (other fields are ignored)."""
    rates: dict[RateKey, Decimal] = {}
    for name, value in entry.items():
        m = _LITELLM_FIELD.match(name)
        if not m:
            continue
        per_mtok = per_mtok_from_token_float(value)
        if per_mtok is None:
            continue
        thr = int(m["k"]) * 1000 if m["k"] else 0
        rates[RateKey(_LITELLM_STEMS[m["stem"]], _LITELLM_TIERS[m["tier"]], thr)] = per_mtok
    return rates


def rates_from_compact(raw: Mapping[str, str], where: str) -> dict[RateKey, Decimal]:
    """Parse `{"input@batch>200000": "1.5"}` style rates (per MTok, decimal strings)."""
    rates: dict[RateKey, Decimal] = {}
    for name, text in raw.items():
        m = _COMPACT_KEY.match(name)
        if not m or m["kind"] not in KINDS:
            raise ValueError(f"{where}: rate key {name!r}: expected kind[@tier][>tokens] with kind in {KINDS}")
        try:
            tier = ServiceTier(m["tier"]) if m["tier"] else ServiceTier.STANDARD
            value = Decimal(str(text))
        except (ValueError, InvalidOperation):
            raise ValueError(f"{where}: rate {name!r}={text!r}: bad tier or price") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{where}: rate {name!r}={text!r}: must be a non-negative number")
        rates[RateKey(m["kind"], tier, int(m["thr"] or 0))] = plain(value)
    return rates
