"""The pull-request coverage comment (scripts/coverage_comment.py) read from a Cobertura report."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "coverage_comment.py"


def _module():
    spec = importlib.util.spec_from_file_location("coverage_comment", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _report(path: Path, rate: str, hits: dict[str, list[int]]) -> Path:
    classes = "".join(
        f'<class filename="{name}"><lines>' + "".join(f'<line number="{i}" hits="{h}"/>' for i, h in enumerate(lines, 1))
        + "</lines></class>" for name, lines in hits.items())
    path.write_text(textwrap.dedent(f"""<?xml version="1.0" ?>
        <coverage line-rate="{rate}"><packages><package name="p"><classes>{classes}</classes></package></packages></coverage>"""))
    return path


def test_comment_has_marker_total_change_and_packages_lowest_first(tmp_path: Path) -> None:
    mod = _module()
    now = _report(tmp_path / "now.xml", "0.75", {"src/a/x.py": [1, 1, 1, 0], "src/b/y.py": [1, 0, 0, 0],
                                                   "src/a/z.py": [1, 1, 1, 1]})
    base = _report(tmp_path / "base.xml", "0.8", {"src/a/x.py": [1]})
    text = mod.render(now, base)
    assert text.startswith(mod.MARKER + "\n**Coverage: 75.0%** (-5.00 points against the base branch)")
    assert text.index("`src/b` | 4 | 25.0%") < text.index("`src/a` | 8 | 87.5%")


def test_a_missing_report_is_one_error_line(tmp_path: Path, capsys) -> None:
    assert _module().main([str(tmp_path / "none.xml")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
