"""A keychain write the Secret Service refuses for a moment (gnome-keyring under parallel writers) is retried."""

from __future__ import annotations

from typing import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from aicost_desktop.secrets import KeyringSecretStore, NoKeychainError


class ItemNotFoundException(Exception):
    """What secretstorage raises when gnome-keyring loses an item another writer was replacing."""


class _Flaky(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures, self.stored = failures, {}  # type: ignore[var-annotated]

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ItemNotFoundException("Item does not exist!")
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


@pytest.fixture
def flaky() -> Iterator[type[_Flaky]]:
    previous = keyring.get_keyring()
    try:
        yield _Flaky
    finally:
        keyring.set_keyring(previous)


def test_a_write_refused_for_a_moment_goes_through(flaky: type[_Flaky]) -> None:
    backend = flaky(failures=2)
    keyring.set_keyring(backend)
    store = KeyringSecretStore()
    store.set("account:1", "sk-flaky-key-123456")
    assert store.get("account:1") == "sk-flaky-key-123456"


def test_a_write_refused_every_time_is_one_keychain_error_without_the_key(flaky: type[_Flaky]) -> None:
    keyring.set_keyring(flaky(failures=99))
    with pytest.raises(NoKeychainError) as exc:
        KeyringSecretStore().set("account:1", "sk-flaky-key-123456")
    assert str(exc.value) == "keychain write failed for account:1: ItemNotFoundException"
