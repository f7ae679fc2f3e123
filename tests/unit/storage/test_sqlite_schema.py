"""A new SQLite ledger built from the schema dump is the ledger the migrations build, row for row."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

from sqlalchemy import create_engine

from aicost_desktop.storage import migrate, sqlite_schema, sqlite_schema_head
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.revision import HEAD


def _dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())  # schema, data and AUTOINCREMENT counters, in name order
    finally:
        con.close()


def test_the_dump_is_current() -> None:
    fresh = sqlite_schema.migrated_statements()
    assert sqlite_schema_head.REVISION == HEAD, "run: python -m aicost_desktop.storage.sqlite_schema"
    assert list(sqlite_schema_head.STATEMENTS) == fresh, "run: python -m aicost_desktop.storage.sqlite_schema"
    assert sqlite_schema.render(fresh) == sqlite_schema.HEAD_MODULE.read_text(encoding="utf-8")


def test_a_new_ledger_from_the_dump_equals_one_from_the_migrations(tmp_path: Path) -> None:
    dumped, migrated = tmp_path / "dumped.sqlite3", tmp_path / "migrated.sqlite3"
    for path, from_dump in ((dumped, True), (migrated, False)):
        engine = create_engine(f"sqlite:///{path}")
        assert migrate.upgrade(engine, from_dump=from_dump)
        assert not migrate.upgrade(engine)  # at head now: nothing more to do
        engine.dispose()
    assert _dump(dumped) == _dump(migrated)
    # And the app opens it as any ledger (the default workspace, ids from the AUTOINCREMENT counters).
    db = Database.open(f"sqlite:///{dumped}")
    assert db.default_workspace_id() == 1
    db.dispose()


def test_the_dump_does_not_load_alembic(tmp_path: Path) -> None:
    import subprocess

    code = ("import sys; from aicost_desktop.storage.db import Database;"
            f"Database.open('sqlite:///{tmp_path / 'l.sqlite3'}').dispose();"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_database_with_tables_of_its_own_is_migrated_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (body TEXT)")
    con.execute("INSERT INTO notes VALUES ('keep me')")
    con.commit()
    con.close()
    Database.open(f"sqlite:///{path}").dispose()
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT body FROM notes").fetchall() == [("keep me",)]
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    finally:
        con.close()


def test_processes_creating_one_ledger_at_once_create_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Database.open(url).dispose()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    race, fresh = _dump(tmp_path / "race.sqlite3"), _dump_of_fresh(tmp_path)
    assert _workspaces(race) == _workspaces(fresh) == ["default"]  # one default workspace, not six
    assert [s for s in race if "workspaces\" VALUES" not in s] == [s for s in fresh if "workspaces\" VALUES" not in s]


def _dump_of_fresh(tmp_path: Path) -> list[str]:
    path = tmp_path / "fresh.sqlite3"
    Database.open(f"sqlite:///{path}").dispose()
    return _dump(path)


def _workspaces(dump: list[str]) -> list[str]:
    # INSERT INTO "workspaces" VALUES(1,'default','<created at>');
    return [s.split(",")[1].strip("'") for s in dump if s.startswith('INSERT INTO "workspaces" VALUES')]
