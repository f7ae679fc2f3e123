"""Money helpers: Decimal parsing, quantization and the currencies we accept."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from aicost_desktop.domain.errors import InputError

ZERO = Decimal(0)
# Ledger scale: 10 decimal places is enough for a single token at per-token prices.
SCALE = 10
QUANT = Decimal(1).scaleb(-SCALE)
# The ledger stores money as a signed 64-bit count of 1e-10 units: +-922,337,203.68 at most.
MAX_AMOUNT = Decimal(2**63 - 1).scaleb(-SCALE).to_integral_value(rounding="ROUND_FLOOR")

# ISO 4217 codes we accept for manual entries and subscriptions. Conversion to the display
# currency uses the user's fx_rates setting, so every code here needs a default rate there.
CURRENCIES = frozenset({"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "INR", "SEK",
                        "NOK", "DKK", "PLN", "RSD", "NZD", "BRL", "MXN", "SGD", "HKD", "KRW"})


def money(value: object) -> Decimal:
    """Convert an int, str or Decimal (never float noise) to a Decimal at ledger scale."""
    if isinstance(value, float):
        # Provider JSON sends floats (0.5470000000000001); go through repr to keep intent.
        value = repr(value)
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(QUANT)


def parse_amount(text: object, field: str = "amount", *, allow_zero: bool = False,
                 allow_negative: bool = False) -> Decimal:
    """Parse a user-typed amount; raise InputError naming the field on anything but a number."""
    try:
        d = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise InputError(field, text, "must be a decimal number such as 12.50") from None
    if not d.is_finite():
        raise InputError(field, text, "must be a finite number")
    if abs(d) > MAX_AMOUNT:
        raise InputError(field, text, f"is outside the ledger's range of -{MAX_AMOUNT:,} .. {MAX_AMOUNT:,}")
    if d < 0 and not allow_negative:
        raise InputError(field, text, "must not be negative")
    if d == 0 and not allow_zero:
        raise InputError(field, text, "must be greater than zero")
    exponent = d.as_tuple().exponent  # an int: d is finite (a letter code only for NaN/Infinity)
    if isinstance(exponent, int) and exponent < -SCALE:
        raise InputError(field, text, f"has more than {SCALE} decimal places")
    return d.quantize(QUANT)


def validate_currency(code: str, field: str = "currency") -> str:
    """Return the upper-cased ISO code, or raise InputError for an unknown currency."""
    c = (code or "").strip().upper()
    if c not in CURRENCIES:
        raise InputError(field, code, f"unknown currency; use one of {', '.join(sorted(CURRENCIES))}")
    return c


def fmt_money(value: Decimal | None, currency: str = "USD", places: int = 2) -> str:
    """Human display: '$12.34' for USD, '12.34 EUR' otherwise; tiny non-zero amounts keep digits."""
    if value is None:
        return "unpriced"
    q = Decimal(1).scaleb(-places)
    shown = value.quantize(q)
    if shown == 0 and value != 0:
        shown = value.quantize(Decimal("0.0001"))
    text = f"{shown:,}"
    return f"${text}" if currency == "USD" else f"{text} {currency}"


def to_str(value: Decimal | None, places: int | None = None) -> str | None:
    """Exact decimal string for JSON (no exponent, trailing zeros trimmed to `places` if given)."""
    if value is None:
        return None
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
        return f"{value:f}"
    text = f"{value.normalize():f}"
    return text


def parse_fx_rates(raw: dict[str, object] | None) -> dict[str, Decimal]:
    """The `fx_rates` setting (codes -> decimal strings) as Decimals; USD is always 1, bad entries skipped."""
    out: dict[str, Decimal] = {}
    for code, value in (raw or {}).items():
        try:
            out[str(code).upper()] = Decimal(str(value))
        except ArithmeticError:
            continue
    out.setdefault("USD", Decimal(1))
    return out


def format_money(value: Decimal | None, currency: str = "USD") -> str:
    """The one money format of tables and messages: '$1,234.56', '-$3.00', '12.50 EUR'.

    A non-zero amount that rounds to zero cents keeps two significant digits ('$0.0012', '$0.000003'),
    so a tiny cost never reads as nothing; None (no price) is 'unpriced'."""
    if value is None:
        return "unpriced"
    shown = value.quantize(Decimal("0.01"))
    if shown == 0 and value != 0:
        places = min(SCALE, 1 - value.adjusted())
        shown = value.quantize(Decimal(1).scaleb(-places)).normalize()
    if shown == 0:
        shown = abs(shown)  # no '-$0.00'
    text = f"{abs(shown):,f}"
    if "." not in text or len(text.rsplit(".", 1)[1]) < 2:
        text = f"{abs(shown):,.2f}"
    sign = "-" if shown < 0 else ""
    return f"{sign}${text}" if currency == "USD" else f"{sign}{text} {currency}"


def money_json(value: Decimal | None) -> str | None:
    """The one money format of JSON: the exact amount as a string with at least two decimals and no
    trailing zeros past them ('30.00', '0.001', '16.843331'); None stays null."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    if text.startswith("-") and value == 0:
        text = text[1:]
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac:0<2}"
