"""Error types: bad input (exit 2, names field and value) versus a failed operation (exit 1)."""

from __future__ import annotations


class InputError(ValueError):
    """User-supplied input is invalid; the message names the field and the offending value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={shown(value)}: {reason}")


# A 100,000-character value must not become a 100,000-character error line.
_SHOWN = 200
_CUT = 60


def shown(value: object) -> str:
    """The repr of a value for an error message, cut to its first characters when long."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr by default (CVE-2020-10735)
        return "<a number of more than 4,300 digits>"
    if len(text) <= _SHOWN:
        return text
    size = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[:_CUT]}... ({size:,} characters)"


class OperationError(RuntimeError):
    """An operation could not complete (network, provider, keychain, storage)."""
