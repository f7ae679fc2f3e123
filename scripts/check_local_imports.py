"""List function-local imports that do not say why they are not at the top: python scripts/check_local_imports.py [DIR...]

An import inside a function body (at any depth; `if TYPE_CHECKING:` blocks excepted) needs a comment
that names its reason, either at the end of the import's first line or on the line directly above it.
A run of consecutive import statements shares the comment above its first one. The comment must
contain one of these tags, followed by at least two words of explanation:

    # cycle: <the modules of the import cycle it breaks>
    # lazy: <what stays fast because the module loads only when needed (start-up, a command)>
    # optional: <the optional dependency and who needs it>
    # platform: <the platform the module exists on>
    # worker: <the worker process that must import little>

Anything else ("# noqa", "# local import", a bare tag) is reported, as is an import with no comment.
The rule is textual: it cannot prove the reason true, so reviewers still read it. Exit status 1 when
anything is reported; standard library only.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

TAGS = ("cycle", "lazy", "optional", "platform", "worker")
_REASON = re.compile(r"#.*?\b(?:%s):\s*\S+\s+\S+" % "|".join(TAGS))


def _comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line number -> (comment text, whether the comment is the line's only content)."""
    found: dict[int, tuple[str, bool]] = {}
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = (tok.string, False)
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER, tokenize.ENCODING):
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    return {line: (text, line not in code_lines) for line, (text, _) in found.items()}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _local_imports(tree: ast.AST) -> list[tuple[ast.stmt, list[ast.stmt]]]:
    """Each function-local import with the statement list (body) it sits in."""
    out: list[tuple[ast.stmt, list[ast.stmt]]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            if field == "body" and isinstance(node, ast.If) and _is_type_checking(node.test):
                continue
            for child in block:
                if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                    out.append((child, block))
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                walk(child, inner)

    walk(tree, False)
    return out


def _segment(lines: list[str], node: ast.stmt) -> str:
    """ast.get_source_segment from the module's lines, split once (it splits the whole source per call)."""
    end = node.end_lineno or node.lineno
    part = lines[node.lineno - 1:end]
    if node.end_col_offset is not None:
        part[-1] = part[-1].encode()[:node.end_col_offset].decode()  # the offsets count UTF-8 bytes
    part[0] = part[0].encode()[node.col_offset:].decode()
    return "\n".join(part)


def check_source(source: str, name: str = "<source>") -> list[str]:
    """Problems in one module's source, as `name:line: message` lines."""
    tree = ast.parse(source, name)
    found = _local_imports(tree)
    if not found:
        return []  # tokenizing is most of the check's time: only for modules that have local imports
    comments = _comments(source)
    lines = source.splitlines()
    problems = []
    for node, block in found:
        text = comments.get(node.lineno, ("", False))[0]
        if not text:
            # The first import of the run of consecutive import lines this one belongs to.
            i = block.index(node)
            while i > 0 and isinstance(block[i - 1], (ast.Import, ast.ImportFrom)) \
                    and (block[i - 1].end_lineno or block[i - 1].lineno) == block[i].lineno - 1:
                i -= 1
            above = comments.get(block[i].lineno - 1)
            if above and above[1]:
                text = above[0]
        shown = " ".join(_segment(lines, node).split())
        if not text:
            problems.append(f"{name}:{node.lineno}: function-local import without a reason: {shown}")
        elif not _REASON.search(text):
            problems.append(f"{name}:{node.lineno}: the comment names no reason "
                            f"({'/'.join(t + ':' for t in TAGS)} ...): {shown}  {text}")
    return problems


def check_tree(root: Path) -> list[str]:
    """Problems in every .py file under root, paths relative to root's parent."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        problems += check_source(path.read_text(encoding="utf-8"), str(path.relative_to(root.parent)))
    return problems


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path(__file__).resolve().parent.parent / "src" / "aicost_desktop"]
    problems = [p for root in roots for p in check_tree(root)]
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} function-local import(s) without a reason", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
