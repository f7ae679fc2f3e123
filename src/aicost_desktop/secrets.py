"""SecretStore: API keys and passwords in the OS keychain via keyring; the database keeps only a reference."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import OperationError

if TYPE_CHECKING:  # keyring itself is imported on first use
    from keyring.backend import KeyringBackend

log = logging.getLogger("aicost.secrets")
SERVICE = "aicost_desktop"
WRITE_ATTEMPTS = 4  # a keychain write the Secret Service refused for a moment is tried again (50, 100, 200 ms)


class NoKeychainError(OperationError):
    """No usable OS keychain: we refuse to store a secret anywhere else silently."""


class SecretStore(ABC):
    """get/set/delete secrets by reference (e.g. 'account:3'). Values never reach logs or messages:
    every implementation registers each value it reads or writes with `domain.redact`."""

    @abstractmethod
    def get(self, ref: str) -> str | None: ...

    @abstractmethod
    def set(self, ref: str, secret: str) -> None: ...

    @abstractmethod
    def delete(self, ref: str) -> None: ...

    def describe(self) -> str:
        return type(self).__name__

    def available(self) -> bool:
        return True


class MemorySecretStore(SecretStore):
    """For tests and the --demo session: secrets live only in this process."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, ref: str) -> str | None:
        with self._lock:
            value = self._data.get(ref)
        redact.register(value)
        return value

    def set(self, ref: str, secret: str) -> None:
        redact.register(secret)
        with self._lock:
            self._data[ref] = secret

    def delete(self, ref: str) -> None:
        with self._lock:
            self._data.pop(ref, None)

    def describe(self) -> str:
        return "in-memory (not persisted)"


class KeyringSecretStore(SecretStore):
    """The OS keychain through `keyring` (honours PYTHON_KEYRING_BACKEND)."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def _backend(self) -> KeyringBackend:
        # lazy: keyring (~0.1 s to import) loads when a key is first used, not with every module naming SecretStore
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        # The fail and null backends mean "no keychain": say so instead of pretending.
        names = {type(b).__module__ for b in getattr(backend, "backends", [backend])}
        if isinstance(backend, fail.Keyring) or names <= {"keyring.backends.fail", "keyring.backends.null"}:
            raise NoKeychainError(
                "no usable OS keychain found (keyring backend: "
                f"{type(backend).__module__}.{type(backend).__name__}); install and unlock one "
                "(e.g. gnome-keyring / KWallet, macOS Keychain, Windows Credential Locker) or set "
                "PYTHON_KEYRING_BACKEND")
        return backend

    def available(self) -> bool:
        try:
            self._backend()
            return True
        except NoKeychainError:
            return False

    def describe(self) -> str:
        try:
            b = self._backend()
            return f"{type(b).__module__}.{type(b).__name__}"
        except NoKeychainError:
            return "none"

    def get(self, ref: str) -> str | None:
        from keyring.errors import KeyringError  # lazy: keyring loads on first use (see _backend)

        try:
            value = self._backend().get_password(self.service, ref)
        except KeyringError as exc:
            raise NoKeychainError(f"keychain read failed for {ref}: {exc.__class__.__name__}") from None
        redact.register(value)  # from here on, no log line, status or message of this process shows it
        return value

    def set(self, ref: str, secret: str) -> None:
        from keyring.errors import KeyringError  # lazy: keyring loads on first use (see _backend)

        redact.register(secret)  # before the write: a failing backend's error must not show it either
        for attempt in range(WRITE_ATTEMPTS):
            try:
                self._backend().set_password(self.service, ref, secret)
                return
            except KeyringError as exc:
                raise NoKeychainError(f"keychain write failed for {ref}: {exc.__class__.__name__}") from None
            except Exception as exc:  # noqa: BLE001 - the Secret Service's own (D-Bus) errors are not KeyringErrors
                # gnome-keyring answers "Item does not exist" to one of several processes writing items at once:
                # a moment later the same write goes through.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise NoKeychainError(f"keychain write failed for {ref}: {exc.__class__.__name__}") from None
                time.sleep(0.05 * 2 ** attempt)

    def delete(self, ref: str) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError  # lazy: keyring loads on first use (see _backend)

        try:
            self._backend().delete_password(self.service, ref)
        except PasswordDeleteError:
            pass
        except KeyringError as exc:
            raise NoKeychainError(f"keychain delete failed for {ref}: {exc.__class__.__name__}") from None
