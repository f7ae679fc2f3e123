"""Suite-wide fixtures: every test gets a private home, database and keychain; CI turns skips into failures."""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from contextlib import contextmanager
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


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A `no_cover` test runs untraced in an xdist worker too. There pytest-cov starts two coverage measurements
    (one when it loads, the worker's own at session start) and pauses only the worker's: the first then resumes
    and traces the test, every thread it starts included (the 10,000-request gateway test took 39 s of CPU
    instead of 25). So what still measures after pytest-cov's pause is stopped here, and restarted after."""
    if item.get_closest_marker("no_cover") is None:
        yield
        return
    try:
        import coverage  # lazy: only where pytest-cov is in use (a run with -p no:cov need not have it)
    except ImportError:
        yield
        return
    stopped: list[coverage.Coverage] = []
    while (cov := coverage.Coverage.current()) is not None:
        cov.stop()
        stopped.append(cov)
    try:
        yield
    finally:
        for cov in reversed(stopped):
            cov.start()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (every test item, the imported modules) lives to the end: keep it out of the
    cycle collector's full passes, which otherwise walk it each time (the GUI tests collect after each test)."""
    gc.collect()
    gc.freeze()


def _postgres_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL not available: set AICOST_TEST_POSTGRES_URL (.ci/run starts a server)")
    return PG_URL


@contextmanager
def _fresh_pg_database(template: str | None) -> Iterator[str]:
    """A new database on the test server (a copy of `template` when given), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = _postgres_url()
    name = f"aicost_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema-less database per test, dropped afterwards."""
    with _fresh_pg_database(None) as url:
        yield url


@pytest.fixture(scope="session")
def _pg_ledger_template() -> Iterator[str]:
    """A database migrated to head once per test process (xdist worker), to copy ledgers from: migrating
    a new PostgreSQL ledger is about a second of DDL round trips, copying a database a tenth of that."""
    from sqlalchemy.engine import make_url

    from aicost_desktop.storage.db import Database

    with _fresh_pg_database(None) as url:
        Database.open(url).dispose()  # nothing may stay connected: CREATE DATABASE ... TEMPLATE needs it alone
        yield str(make_url(url).database)


@pytest.fixture
def pg_ledger_url(_pg_ledger_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database already at the head revision (what Database.open makes of an empty one)."""
    with _fresh_pg_database(_pg_ledger_template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a storage test against both backends (PostgreSQL skips locally without a server). The
    PostgreSQL one is a ledger at head already; blank_db_url gives empty databases (migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{_copy_ledger(request.getfixturevalue('_sqlite_ledger_template'), tmp_path)}"
    return request.getfixturevalue("pg_ledger_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: no tables, no revision."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from aicost_desktop.storage.db import Database

    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def _sqlite_ledger_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger migrated to head once per test process, copied for each test that wants a ledger:
    running the migrations for every new ledger was over a minute of the suite."""
    from aicost_desktop.storage.db import Database

    path = tmp_path_factory.mktemp("ledger-template") / "ledger.sqlite3"
    Database.open(f"sqlite:///{path}").dispose()
    # The last connection closed checkpoints the write-ahead log into the file: the file alone is the ledger.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _copy_ledger(template: Path, folder: Path) -> Path:
    """`folder`/ledger.sqlite3 as a copy of the template (private, as the app creates it)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / "ledger.sqlite3"
    shutil.copyfile(template, target)
    target.chmod(0o600)
    return target


@pytest.fixture
def ledger_home(tmp_path: Path, _sqlite_ledger_template: Path) -> Path:
    """tmp_path/home holding a new ledger at head, as `aicost --home` leaves it after a first command."""
    home = tmp_path / "home"
    _copy_ledger(_sqlite_ledger_template, home)
    return home


@pytest.fixture
def sqlite_db(tmp_path: Path, _sqlite_ledger_template: Path):  # type: ignore[no-untyped-def]
    from aicost_desktop.storage.db import Database

    database = Database.open(f"sqlite:///{_copy_ledger(_sqlite_ledger_template, tmp_path)}")
    yield database
    database.dispose()


@pytest.fixture
def ctx(tmp_path: Path, _sqlite_ledger_template: Path):  # type: ignore[no-untyped-def]
    """An AppContext on a private home (its ledger a copy of the template) with an in-memory secret store."""
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.secrets import MemorySecretStore

    _copy_ledger(_sqlite_ledger_template, tmp_path / "home")
    context = AppContext(home=tmp_path / "home", tz="UTC", secrets=MemorySecretStore())
    yield context
    context.close()
