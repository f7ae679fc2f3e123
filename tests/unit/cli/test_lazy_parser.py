"""The parser loads only the invoked command's module, and parses exactly as the full parser does."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from aicost_desktop.cli.main import COMMAND_MODULES, COMMANDS, UsageError, _command_word, build_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_command_map_names_every_registered_command_and_its_module() -> None:
    full = _commands(build_parser())
    assert set(COMMANDS) == set(full)
    assert set(COMMANDS.values()) <= set(COMMAND_MODULES)
    for name, module in COMMANDS.items():
        alone = _commands(build_parser([name]))
        assert name in alone, f"{module} does not register {name}"
        assert alone[name].format_help() == full[name].format_help()


@pytest.mark.parametrize("argv, word", [
    (["import", "claude-code"], "import"),
    (["--home", "/h", "--tz", "UTC", "-v", "report"], "report"),
    (["--db=sqlite:///x", "cost"], "cost"),
    (["--ho", "/h", "report"], None),        # abbreviated: let the full parser decide
    (["--help"], None), ([], None), (["--home"], None),
])
def test_command_word(argv: list[str], word: str | None) -> None:
    assert _command_word(argv) == word


def test_an_import_loads_no_other_command_module(tmp_path) -> None:
    code = ("import sys; from aicost_desktop.cli.main import main; "
            f"rc = main(['--home', {str(tmp_path / 'h')!r}, 'import', 'codex', '--path', {str(tmp_path)!r}]); "
            "print(sorted(m for m in sys.modules if m.startswith('aicost_desktop.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = out.stdout.strip().splitlines()[-1]
    assert "aicost_desktop.cli.imports" in loaded
    for other in ("budgets", "analytics", "export", "accounts", "prices"):
        assert f"aicost_desktop.cli.{other}'" not in loaded


def test_the_listing_is_the_full_parsers_and_the_table_is_what_the_modules_register() -> None:
    full, listed = build_parser(), build_parser(["--help"])
    assert listed.format_help() == full.format_help()
    assert build_parser([]).format_help() == full.format_help()
    assert list(_commands(listed)) == list(_commands(full))  # the same commands, in the same order
    for argv in (["reprot"], ["--tz", "UTC", "nosuch", "--json"]):
        with pytest.raises(UsageError) as listed_err:
            build_parser(argv).parse_args(argv)
        with pytest.raises(UsageError) as full_err:
            full.parse_args(argv)
        assert str(listed_err.value) == str(full_err.value) and "invalid choice" in str(full_err.value)


@pytest.mark.parametrize("argv", [["--help"], [], ["reprot"]], ids=["--help", "bare", "mistyped"])
def test_listing_the_commands_loads_no_command_module(argv: list[str]) -> None:
    code = ("import contextlib, io, sys; from aicost_desktop.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "    try:\n        main(sys.argv[1:])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('aicost_desktop.cli.')))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    loaded = out.stdout.strip().splitlines()[-1]
    for module in COMMAND_MODULES:
        assert f"aicost_desktop.cli.{module}'" not in loaded
