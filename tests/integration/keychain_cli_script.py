"""Run inside a dbus session with an unlocked gnome-keyring: the CLI adds accounts (keys to the real
keychain), syncs them against local fakes and reports. Prints one JSON line with what it saw."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import keyring

from aicost_desktop.cli.main import main


def cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_in = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = old_in
    return code, out.getvalue(), err.getvalue()


def run() -> dict[str, object]:
    home = os.environ["KC_HOME"]
    result: dict[str, object] = {"backend": f"{type(keyring.get_keyring()).__module__}"}
    # A bare SecretStore round trip on the real keychain.
    from aicost_desktop.secrets import KeyringSecretStore

    store = KeyringSecretStore(service="aicost_desktop_test")
    store.set("probe", "s3cret-value")
    result["roundtrip"] = store.get("probe") == "s3cret-value"
    store.delete("probe")
    result["deleted"] = store.get("probe") is None

    h = ("--home", home)
    result["add_openai"] = cli(*h, "accounts", "add", "--provider", "openai", "--name", "org",
                               "--base-url", os.environ["OPENAI_BASE"], "--key-env", "OPENAI_ADMIN_KEY")[0]
    result["add_anthropic"] = cli(*h, "accounts", "add", "--provider", "anthropic", "--name", "ant",
                                  "--base-url", os.environ["ANTHROPIC_BASE"], "--key-stdin",
                                  stdin=os.environ["ANT_KEY"] + "\n")[0]
    reports = []
    for _ in range(2):
        code, out, err = cli(*h, "sync")
        reports.append({"sync": code, "err": err})
        rng = ("--from", os.environ["FROM"], "--to", os.environ["TO"])
        reports[-1]["openai_total"] = json.loads(cli(*h, "report", "--json", "--provider", "openai", *rng)[1])["total"]
        reports[-1]["anthropic_reported"] = json.loads(
            cli(*h, "report", "--json", "--provider", "anthropic", "--mode", "reported", *rng)[1])["total_exact"]
        reports[-1]["anthropic_auto"] = json.loads(
            cli(*h, "report", "--json", "--provider", "anthropic", *rng)[1])["total_exact"]
    result["reports"] = reports
    code, out, _ = cli(*h, "accounts", "list", "--json")
    result["accounts"] = [a["status"] for a in json.loads(out)]
    # The key is in the keychain, not in the database file.
    db = open(os.path.join(home, "ledger.sqlite3"), "rb").read()
    result["key_in_db"] = os.environ["OPENAI_ADMIN_KEY"].encode() in db or os.environ["ANT_KEY"].encode() in db
    result["remove"] = cli(*h, "accounts", "remove", "org")[0]
    return result


if __name__ == "__main__":
    print(json.dumps(run()))
