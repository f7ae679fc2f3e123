"""Every function-local import in src/aicost_desktop says why it is not at the top (scripts/check_local_imports.py)."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_local_imports.py"
SRC = ROOT / "src" / "aicost_desktop"


def _checker():
    spec = importlib.util.spec_from_file_location("check_local_imports", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_function_local_import_names_its_reason() -> None:
    problems = _checker().check_tree(SRC)
    assert not problems, "function-local imports need a `# cycle:/lazy:/optional:/platform:/worker:` reason " \
        "or a place at the top of the module:\n" + "\n".join(problems)


def test_the_checker_flags_missing_and_empty_reasons_and_accepts_named_ones() -> None:
    source = textwrap.dedent("""\
        from typing import TYPE_CHECKING
        import os  # module level: fine


        def f():
            import json
            import csv  # local import
            import sqlite3  # lazy: the report command does not open the ledger
            # cycle: accounts -> sync.registry -> accounts
            from a import b
            from c import d

            import zlib
            # optional:
            import psycopg
            if TYPE_CHECKING:
                import decimal
            def g():
                import winreg  # platform: Windows only
                import fcntl
    """)
    problems = _checker().check_source(source, "m.py")
    assert [p.split(":")[1] for p in problems] == ["6", "7", "13", "15", "20"], problems
    assert "without a reason" in problems[0] and "names no reason" in problems[1]
