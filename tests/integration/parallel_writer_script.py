"""One of the parallel writers: says "ready", waits for "go" on stdin, then runs `prices set` and `accounts add`
N times in a row through the CLI's main() (a fresh context and engine per command, as separate
`aicost` runs have). Prints one JSON line: exit code and stderr of every command."""

from __future__ import annotations

import contextlib
import io
import json
import sys

from aicost_desktop.cli.main import main


def cli(*args: str) -> dict[str, object]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(list(args))
    return {"args": list(args[2:5]), "code": code, "err": err.getvalue()}


def run(home: str, worker: int, rounds: int) -> list[dict[str, object]]:
    print("ready", flush=True)
    sys.stdin.readline()  # the barrier: every writer starts at once
    results = []
    for i in range(rounds):
        results.append(cli("--home", home, "prices", "set", f"model-{worker}-{i}", "--input-per-mtok", "1",
                           "--output-per-mtok", "2"))
        results.append(cli("--home", home, "accounts", "add", "--provider", "openai", "--name", f"acct-{worker}-{i}",
                           "--key-env", "WRITER_KEY", "--workspace", f"team-{worker}-{i}"))
    return results


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
