"""A keyring backend for subprocess tests: a JSON file (outside the app's home) plays the OS keychain.

Select it with PYTHON_KEYRING_BACKEND=tests.fakes.file_keyring.FileKeyring and name the file in
AICOST_TEST_KEYRING_FILE; without that variable it is not viable, so keyring never picks it on its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

ENV = "AICOST_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    """{service: {username: password}} in the file named by AICOST_TEST_KEYRING_FILE."""

    @classmethod
    def _path(cls) -> Path:
        name = os.environ.get(ENV)
        if not name:
            raise RuntimeError(f"{ENV} is not set (test-only backend)")
        return Path(name)

    @properties.classproperty
    def priority(cls) -> float:  # not viable (RuntimeError) unless a test names the file
        cls._path()
        return 0.1

    def _load(self) -> dict[str, dict[str, str]]:
        p = self._path()
        return json.loads(p.read_text()) if p.exists() else {}

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        self._path().write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(username)
        del data[service][username]
        self._save(data)
