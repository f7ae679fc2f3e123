"""Suite-wide fixtures: every test gets a private home, database and keychain; CI turns skips into failures."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

# Qt tests run offscreen unless a test starts its own X display; set before Qt is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("AICOST_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the real settings, database or keychain (napari/Vorta style)."""
    home = tmp_path_factory.mktemp("aicost-home")
    monkeypatch.setenv("AICOST_HOME", str(home))
    monkeypatch.delenv("AICOST_DATABASE_URL", raising=False)
    monkeypatch.setenv("AICOST_TZ", "UTC")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    # keyring's own switch: the fail backend guarantees no test writes to a real keychain by accident.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    """Registered secrets are process-wide: each test starts with none, as a new process does."""
    from aicost_desktop.domain import redact

    redact.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """In CI nothing may be skipped for a missing service: a skip there is a failure
    (a skip whose reason contains "[ci-ok]" is a deliberate one, e.g. a Windows-only test)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "[ci-ok]" not in reason:
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, where every service must be present: {reason}"


def _postgres_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL not available: set AICOST_TEST_POSTGRES_URL (.ci/run starts a server)")
    return PG_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema-less database per test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = _postgres_url()
    name = f"aicost_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a storage test against both backends (PostgreSQL skips locally without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from aicost_desktop.storage.db import Database

    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    from aicost_desktop.storage.db import Database

    database = Database.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An AppContext on a private home with an in-memory secret store."""
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.secrets import MemorySecretStore

    context = AppContext(home=tmp_path / "home", tz="UTC", secrets=MemorySecretStore())
    yield context
    context.close()
