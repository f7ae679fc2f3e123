"""Run in a subprocess by test_secrets_never_leak: drives the real `aicost` CLI against the echoing
gateway. Each command runs as a fresh process would (no registered secret, no log handler left from
the previous one); all output goes to this process's real stdout/stderr, which the test reads.
The last stdout line is `EXIT-CODES <json>`."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import keyring

from aicost_desktop.cli.main import main
from aicost_desktop.config import Settings
from aicost_desktop.domain import redact
from aicost_desktop.notify.email import SMTP_SECRET_KEY
from aicost_desktop.secrets import SERVICE


def cli(*args: str, stdin: str | None = None) -> int:
    redact.clear()  # a new `aicost` process knows no secret until it reads one from the keychain
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.WARNING)
    old_in = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(args))
    finally:
        sys.stdin = old_in
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def run() -> dict[str, object]:
    home = os.environ["LEAK_HOME"]
    plan = json.loads(os.environ["LEAK_PLAN"])
    h = ("--home", home)
    codes: dict[str, object] = {}
    # What the settings dialog stores: SMTP server in settings.json, its password in the keychain;
    # the provider request/response debug log on.
    settings = Settings(Path(home) / "settings.json")
    settings.set("smtp", {"host": "127.0.0.1", "port": plan["smtp_port"], "security": "none",
                          "user": plan["smtp_user"], "from": "tracker@example.com", "timeout": 10})
    settings.set("http_debug_log", True)
    keyring.set_password(SERVICE, SMTP_SECRET_KEY, plan["smtp_password"])
    codes["add"] = [cli(*h, "accounts", "add", "--provider", a["provider"], "--name", a["name"],
                        "--base-url", a["base_url"], "--key-stdin", stdin=a["key"] + "\n")
                    for a in plan["accounts"]]
    today = datetime.now(timezone.utc).date().isoformat()
    codes["manual"] = cli(*h, "manual", "add", "--service", "Gateway", "--amount", "50", "--date", today)
    codes["budget"] = cli(*h, "budgets", "add", "--name", "Team", "--amount", "10", "--email", "me@example.com")
    codes["sync"] = cli("-v", *h, "sync")
    codes["test"] = [cli("-v", *h, "accounts", "test", a["name"]) for a in plan["accounts"]]
    codes["check"] = cli("-v", *h, "check")
    codes["list"] = [cli(*h, "accounts", "list"), cli(*h, "accounts", "list", "--json"),
                     cli(*h, "alerts", "list"), cli(*h, "alerts", "list", "--json")]
    return codes


if __name__ == "__main__":
    result = run()
    print("EXIT-CODES " + json.dumps(result))
