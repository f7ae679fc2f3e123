"""Coverage summary for a pull-request comment: coverage.xml (Cobertura, from pytest-cov) -> Markdown.

Usage: python scripts/coverage_comment.py coverage.xml [--base BASE_XML] > comment.md
Lists the total line coverage, the packages from lowest coverage up, and with --base the change.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

MARKER = "<!-- aicost-coverage -->"  # lets the workflow find and update its own comment


def _rates(path: Path) -> tuple[float, dict[str, tuple[int, int]]]:
    """(total line rate, {package: (covered lines, lines)}) of a Cobertura report."""
    root = ET.parse(path).getroot()
    packages: dict[str, tuple[int, int]] = {}
    for cls in root.iter("class"):
        name = cls.get("filename", "?").replace("\\", "/")
        package = "/".join(name.split("/")[:-1]) or "."
        lines = cls.findall("./lines/line")
        hit = sum(1 for line in lines if int(line.get("hits", "0")) > 0)
        covered, total = packages.get(package, (0, 0))
        packages[package] = (covered + hit, total + len(lines))
    return float(root.get("line-rate", "0")), packages


def render(current: Path, base: Path | None = None) -> str:
    rate, packages = _rates(current)
    head = f"**Coverage: {rate:.1%}**"
    if base is not None and base.exists():
        before, _ = _rates(base)
        head += f" ({(rate - before) * 100:+.2f} points against the base branch)"
    rows = sorted(packages.items(), key=lambda kv: (kv[1][0] / kv[1][1]) if kv[1][1] else 1.0)
    table = ["| package | lines | covered |", "| --- | ---: | ---: |"]
    table += [f"| `{name}` | {total:,} | {covered / total:.1%} |" for name, (covered, total) in rows if total]
    return "\n".join([MARKER, head, "", "<details><summary>By package</summary>", "", *table, "", "</details>", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xml", type=Path)
    parser.add_argument("--base", type=Path)
    args = parser.parse_args(argv)
    if not args.xml.exists():
        print(f"error: {args.xml} does not exist (did the test step write --cov-report=xml?)", file=sys.stderr)
        return 2
    sys.stdout.write(render(args.xml, args.base))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
