"""Which Claude Code transcript files an import reads, and the key of each: standard library only, so
the CLI can tell that nothing changed since the last import without loading the ledger's machinery."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from aicost_desktop.domain.errors import InputError

KIND = "claude-code"
# Bump when parsing rules change: every file is then read again and its rows rewritten.
PARSER_VERSION = "1"


def settings_key(billing: object, workspace_id: int | None) -> str:
    """What a file's stored state was read under: a change of parser, billing or workspace rereads it."""
    value = getattr(billing, "value", billing)
    return f"v{PARSER_VERSION}:{value}:{workspace_id or ''}"


def file_keys(roots: Sequence[Path]) -> list[tuple[str, str]]:
    """(state key, file path) of every transcript under the roots, as the import keys them."""
    listing = list_files(roots)
    return list(zip(state_keys(roots, listing), (full for _root, full, _rel in listing)))


def state_keys(roots: Sequence[Path], listing: Sequence[tuple[Path, object, str]]) -> list[str]:
    """The state key of each file of a `walk` or `list_files` listing: its path below the resolved root."""
    # os.path.join of the resolved root and `rel` (relative, no leading separator), as one concatenation:
    # thousands of files, and join's own checks were a sixth of a re-import with nothing new.
    prefix = {root: os.path.join(str(root.resolve()), "") for root in roots}
    return [prefix[root] + rel for root, _path, rel in listing]


def discover_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The `projects/` directories ccusage reads, in its order.

    CLAUDE_CONFIG_DIR (comma-separated; each a config dir containing `projects/` or the
    `projects/` dir itself) replaces the defaults and must name at least one valid directory.
    Otherwise `$XDG_CONFIG_HOME/claude/projects` (default `~/.config/claude/projects`) and
    `~/.claude/projects`, whichever exist.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    roots: list[Path] = []
    raw = env.get("CLAUDE_CONFIG_DIR")
    if raw is not None and raw.strip():
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            path = home / part[2:] if part.startswith("~/") else (home if part == "~" else Path(part))
            if path.name == "projects" and path.is_dir():
                path = path.parent
            projects = path / "projects"
            if projects.is_dir() and projects not in roots:
                roots.append(projects)
        if not roots:
            raise InputError("CLAUDE_CONFIG_DIR", raw,
                             "no directory there contains projects/ (nor is a projects/ directory)")
        return roots
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    for base in (xdg / "claude", home / ".claude"):
        projects = base / "projects"
        if projects.is_dir() and projects not in roots:
            roots.append(projects)
    return roots


def roots_for_path(path: Path) -> list[Path]:
    """--path: a Claude config dir (with projects/) or a projects dir; InputError if missing."""
    if not path.exists():
        raise InputError("path", str(path), "does not exist")
    if not path.is_dir():
        raise InputError("path", str(path), "is not a directory")
    return [path / "projects"] if (path / "projects").is_dir() else [path]


def usage_files(roots: Sequence[Path]) -> list[tuple[Path, Path]]:
    """Every `*.jsonl` under the roots, recursively, as (root, file) sorted by path; a root reached
    twice (a symlink to another root) is read once."""
    return [(root, path) for root, path, _rel in walk(roots)]


def walk(roots: Sequence[Path]) -> list[tuple[Path, Path, str]]:
    """(root, file, path relative to the root) of every `*.jsonl`, sorted by path (see list_files)."""
    return [(root, Path(full), rel) for root, full, rel in list_files(roots)]


def list_files(roots: Sequence[Path]) -> list[tuple[Path, str, str]]:
    """(root, file path text, path relative to the root) of every `*.jsonl`, sorted by path. scandir and
    string joins instead of Path.rglob/relative_to: a re-import with nothing new is mostly this
    listing, and pathlib's per-file parsing was most of its time on thousands of files. Like
    rglob, symlinked folders below a root are not followed (no loops); the scandir entries' cached
    types save a stat per file."""
    found: list[tuple[str, Path, str]] = []  # (file, root, relative path)
    seen: set[Path] = set()
    for root in roots:
        real = root.resolve()
        if real in seen:
            continue
        seen.add(real)
        base = str(root)
        cut = len(base) + (0 if base.endswith(os.sep) else 1)
        stack = [base]
        while stack:
            try:
                it = os.scandir(stack.pop())
            except OSError:
                continue
            with it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.endswith(".jsonl") and entry.is_file():
                        found.append((entry.path, root, entry.path[cut:]))
    found.sort(key=lambda f: f[0])
    return [(root, full, rel) for full, root, rel in found]
