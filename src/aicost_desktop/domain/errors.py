"""Error types: bad input (exit 2, names field and value) versus a failed operation (exit 1)."""

from __future__ import annotations


class InputError(ValueError):
    """User-supplied input is invalid; the message names the field and the offending value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class OperationError(RuntimeError):
    """An operation could not complete (network, provider, keychain, storage)."""
