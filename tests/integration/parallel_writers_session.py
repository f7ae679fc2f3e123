"""Runs inside a dbus session with an unlocked gnome-keyring: starts the writers, releases them at
once, and prints one JSON line with every writer's results and what the ledger holds afterwards."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(home: str, writers: int, rounds: int) -> None:
    procs = [subprocess.Popen([sys.executable, str(HERE / "parallel_writer_script.py"), home, str(w), str(rounds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(writers)]
    # Wait until every writer has imported the app, then release all of them together.
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()  # type: ignore[union-attr]
    for p in procs:
        p.stdin.write("go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    results, crashes = [], []
    for p in procs:
        out, err = p.communicate(timeout=600)
        if p.returncode != 0:
            crashes.append(err[-2000:])
        else:
            results.extend(json.loads(out.strip().splitlines()[-1]))
    db = sqlite3.connect(Path(home) / "ledger.sqlite3")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("accounts", "workspaces", "price_overrides")}
    print(json.dumps({"results": results, "crashes": crashes, "counts": counts}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
