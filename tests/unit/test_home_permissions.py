"""The home is 0700 and its files 0600 (ledger, -wal, -shm, settings, logs, backups, exports), under any
umask, and files an older version left 0644 are tightened on start."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from aicost_desktop.app_context import AppContext
from aicost_desktop.domain.private_files import private_dir
from aicost_desktop.domain.private_log import PrivateRotatingFileHandler
from aicost_desktop.secrets import MemorySecretStore
from aicost_desktop.storage.db import Database

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes [ci-ok]")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The usual umask, and the most permissive one: the modes must not depend on it."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_new_home_is_private(tmp_path: Path, umask: int) -> None:
    from aicost_desktop.ui.app import setup_logging  # Qt-free function; Qt is imported only by main()

    existing = tmp_path / "existing"
    existing.mkdir()
    os.chmod(existing, 0o755)
    home = existing / "deep" / "home"
    ctx = AppContext(home=home, tz="UTC", secrets=MemorySecretStore())
    handlers = setup_logging(ctx.paths.log_file)
    try:
        logging.getLogger("aicost.test").warning("a line so the log exists")
        ctx.settings.set("theme", "dark")
        ctx.db  # creates the ledger; WAL mode keeps -wal and -shm while a connection is open
        with ctx.db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            paths = ctx.paths
            for d in (home, home.parent, paths.logs, paths.backups):
                assert mode(d) == 0o700, d
            files = [paths.database, paths.database.with_name("ledger.sqlite3-wal"),
                     paths.database.with_name("ledger.sqlite3-shm"), paths.settings, paths.log_file]
            for f in files:
                assert f.exists() and mode(f) == 0o600, (f, oct(mode(f)))
    finally:
        for h in handlers:
            logging.getLogger("aicost").removeHandler(h)
            h.close()
        ctx.close()
    assert mode(existing) == 0o755  # a parent that existed keeps its own mode


def test_existing_0644_files_and_0755_folders_are_tightened_on_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ctx = AppContext(home=home, tz="UTC", secrets=MemorySecretStore())
    ctx.settings.set("theme", "dark")
    ctx.db
    ctx.close()
    # What an older version left behind, everything readable by every local user.
    extra = [home / "logs" / "aicost.log", home / "logs" / "aicost.log.1", home / "backups" / "old.sqlite3",
             home / "exports" / "costs.csv", home / "model_prices.json", home / "ledger.sqlite3-wal",
             home / "ledger.sqlite3-shm"]
    (home / "exports").mkdir()
    for f in extra:
        f.write_text("x")
    for f in [home / "ledger.sqlite3", home / "settings.json", *extra]:
        os.chmod(f, 0o644)
    for d in (home, home / "logs", home / "backups", home / "exports"):
        os.chmod(d, 0o755)

    ctx = AppContext(home=home, tz="UTC", secrets=MemorySecretStore())
    try:
        for d in (home, home / "logs", home / "backups", home / "exports"):
            assert mode(d) == 0o700, d
        for f in [home / "ledger.sqlite3", home / "settings.json", *extra]:
            assert mode(f) == 0o600, (f, oct(mode(f)))
    finally:
        ctx.close()


def test_database_elsewhere_is_private_and_tightened(tmp_path: Path) -> None:
    ledger = tmp_path / "shared" / "team.sqlite3"
    db = Database.open(f"sqlite:///{ledger}")
    db.dispose()
    assert mode(ledger) == 0o600 and mode(ledger.parent) == 0o700
    os.chmod(ledger, 0o644)
    Database.open(f"sqlite:///{ledger}").dispose()
    assert mode(ledger) == 0o600


def test_migration_backup_is_private(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from aicost_desktop.storage import migrate

    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a ledger an older version left at the first revision
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    os.chmod(tmp_path / "l.sqlite3", 0o644)
    old = os.umask(0)
    try:
        Database.open(url, backup_dir=tmp_path / "backups").dispose()  # migrates, after the backup
    finally:
        os.umask(old)
    [backup] = list((tmp_path / "backups").glob("*.sqlite3"))
    assert mode(backup) == 0o600 and mode(tmp_path / "backups") == 0o700


def test_rotated_logs_stay_private(tmp_path: Path) -> None:
    logs = private_dir(tmp_path / "logs")
    old = os.umask(0)
    h = PrivateRotatingFileHandler(logs / "aicost.log", maxBytes=200, backupCount=2, encoding="utf-8")
    try:
        rec = logging.LogRecord("aicost", logging.INFO, __file__, 1, "x" * 150, None, None)
        for _ in range(5):
            h.emit(rec)
    finally:
        h.close()
        os.umask(old)
    files = sorted(logs.iterdir())
    assert [f.name for f in files] == ["aicost.log", "aicost.log.1", "aicost.log.2"]
    assert all(mode(f) == 0o600 for f in files)


def test_symlinked_file_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}")
    os.chmod(outside, 0o644)
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").symlink_to(outside)
    AppContext(home=home, tz="UTC", secrets=MemorySecretStore()).close()
    assert mode(outside) == 0o644  # not ours to change through a link


def test_window_layout_file_is_private(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    from aicost_desktop.ui.main_window import WINDOW_INI, window_settings

    ctx = AppContext(home=tmp_path / "home", tz="UTC", secrets=MemorySecretStore())
    old = os.umask(0)
    try:
        s = window_settings(ctx)
        s.setValue("window/geometry", b"x" * 10)
        s.sync()
    finally:
        os.umask(old)
        ctx.close()
    ini = tmp_path / "home" / WINDOW_INI
    assert "geometry" in ini.read_text() and mode(ini) == 0o600
