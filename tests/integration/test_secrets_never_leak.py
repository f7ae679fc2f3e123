"""No secret anywhere, whatever it looks like: a gateway that echoes every request's credentials into
its 400 errors, keys of six shapes added through the real CLI, an SMTP server that echoes the login;
afterwards no key or password is in any file of the home (database bytes included), stdout or stderr.
The GUI's sync path (Accounts dock) is run too and its log file searched."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.fakes.echo_fake import EchoingGatewayFake, credential

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent

# Six shapes; only the first is caught by a pattern alone. provider -> (route on the gateway, key).
KEYS: dict[str, tuple[str, str, str]] = {
    "ant": ("anthropic", "anthropic", "sk-ant-admin01-" + "Q7vL2xN9pR4tK8mW3zB6yH1cF5gJ0dS" * 3 + "-AA"),
    "oai": ("openai", "openai", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJnYXRld2F5LXVzZXIifQ.5mN2"
                                "xQ8rT1vW4yZ7bC0eF3hJ6kL9nP2sU5wX8"),
    "or": ("openrouter", "openrouter", "3f2b8c1e-9a4d-4e7f-b1c2-5d6e7f8a9b0c"),
    "ds": ("deepseek", "deepseek", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"),
    "ms": ("moonshot", "moonshot", "gw_Ab3$x9!k2"),
    "gw": ("openai", "gateway", "Re.g*x+p?(1)[2]{3}|^$"),
}
SMTP_USER = "alerts@example.com"
SMTP_PASSWORD = "Tr0ub4dor&3-horse"


def forms(secret: str) -> set[str]:
    """How a secret could show up: itself, URL-quoted, JSON-escaped, inside HTTP Basic base64, and
    (for long ones) its first half, which is what a cut through an echo leaves."""
    out = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
           base64.b64encode(f"apikey:{secret}".encode()).decode()[8:-4]}
    if len(secret) >= 24:
        out.add(secret[: len(secret) // 2])
    return {f for f in out if f}


def secret_forms() -> dict[str, set[str]]:
    found = {name: forms(key) for name, (_, _, key) in KEYS.items()}
    found["smtp"] = forms(SMTP_PASSWORD) | {
        base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()[:-4]}
    return found


def leaks(blobs: dict[str, bytes]) -> list[str]:
    """`where: which secret (form)` for every hit of any form of any secret in any blob."""
    hits = []
    for where, data in blobs.items():
        for name, fs in secret_forms().items():
            for f in fs:
                if f.encode() in data:
                    hits.append(f"{where}: {name} ({f[:6]}…)")
    return hits


def home_files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


@pytest.fixture
def gateway() -> Iterator[EchoingGatewayFake]:
    with EchoingGatewayFake() as fake:
        yield fake


@pytest.fixture
def smtp_echo() -> Iterator[tuple[int, list[tuple[bytes, bytes]]]]:
    """A real SMTP server (aiosmtpd) that refuses every login and echoes the credentials it got."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd not installed (pip install .[test])")
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        raw = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
        return AuthResult(success=False, handled=False, message=(
            f"535 5.7.8 Authentication failed for {data.login.decode()}:{data.password.decode()} "
            f"(AUTH {mechanism} {raw})"))

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = Controller(Sink(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    ctl.start()
    try:
        yield port, seen
    finally:
        ctl.stop()


def test_cli_sync_test_and_check_leak_no_key_of_any_shape(tmp_path: Path, gateway: EchoingGatewayFake,
                                                          smtp_echo: tuple[int, list[tuple[bytes, bytes]]]) -> None:
    smtp_port, smtp_seen = smtp_echo
    home = tmp_path / "home"
    plan = {"accounts": [{"provider": p, "name": name, "base_url": gateway.base_for(route), "key": key}
                         for name, (p, route, key) in KEYS.items()],
            "smtp_port": smtp_port, "smtp_user": SMTP_USER, "smtp_password": SMTP_PASSWORD}
    env = dict(os.environ, LEAK_HOME=str(home), LEAK_PLAN=json.dumps(plan), AICOST_TZ="UTC",
               PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
               AICOST_TEST_KEYRING_FILE=str(tmp_path / "keychain.json"),  # the "OS keychain", outside home
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(HERE / "secrets_cli_script.py")], env=env, cwd=str(tmp_path),
                          capture_output=True, timeout=300)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, err[-3000:]
    codes = json.loads(out.strip().splitlines()[-1].removeprefix("EXIT-CODES "))

    # It really happened: every account was added and sent its key; every sync and test failed on the echo;
    # the alert email tried to log in with the password.
    assert codes["add"] == [0] * len(KEYS) and codes["manual"] == 0 and codes["budget"] == 0
    assert codes["sync"] == 1 and codes["test"] == [1] * len(KEYS) and codes["check"] == 0
    assert codes["list"] == [0, 0, 0, 0]
    sent = {credential(r) for r in gateway.requests}
    assert {key for _, _, key in KEYS.values()} <= sent
    assert (SMTP_USER.encode(), SMTP_PASSWORD.encode()) in smtp_seen
    for name in KEYS:
        assert f"error: {name}: " in err  # sync's and test's error lines, with the provider's message
    assert "HTTP 400" in err and "[redacted]" in err

    import sqlite3

    with sqlite3.connect(home / "ledger.sqlite3") as con:
        statuses = dict(con.execute("SELECT name, status_message FROM accounts").fetchall())
        last_errors = [r[0] for r in con.execute("SELECT last_error FROM sync_state")]
        alerts = [r[0] for r in con.execute("SELECT message FROM cost_alerts WHERE type = 'sync_failure'")]
        outbox = [r[0] for r in con.execute("SELECT last_error FROM alert_outbox WHERE channel = 'email'")]
    assert set(statuses) == set(KEYS) and all("HTTP 400" in m and "[redacted]" in m for m in statuses.values())
    assert len(last_errors) == len(KEYS) and all(last_errors)
    assert len(alerts) == len(KEYS)
    assert outbox and all("535" in (e or "") for e in outbox)

    found = leaks({"stdout": proc.stdout, "stderr": proc.stderr, **home_files(home)})
    assert found == [], "\n".join(found)
    assert {"ledger.sqlite3", "settings.json"} <= set(home_files(home))


def test_gui_accounts_dock_sync_logs_no_key(qtbot: Any, tmp_path: Path, gateway: EchoingGatewayFake) -> None:
    from PySide6.QtCore import QThreadPool

    from aicost_desktop.accounts import add_account
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.domain import redact
    from aicost_desktop.secrets import MemorySecretStore
    from aicost_desktop.sync.http import HttpPolicy
    from aicost_desktop.ui.app import setup_logging
    from aicost_desktop.ui.bus import LedgerBus
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.ui.docks.accounts import AccountsPanel
    from aicost_desktop.ui.services import build_services

    home = tmp_path / "gui-home"
    ctx = AppContext(home=home, tz="UTC", secrets=MemorySecretStore())
    ids = [add_account(ctx.db, ctx.secrets, p, name, key, gateway.base_for(route))
           for name, (p, route, key) in KEYS.items()]
    redact.clear()  # the app restarted: it knows the keys only once it reads them from the keychain
    handlers = setup_logging(ctx.paths.log_file)
    pool, bus = QThreadPool(), LedgerBus(delay_ms=20)
    pool.setMaxThreadCount(2)
    runtime = Runtime(ctx, policy=HttpPolicy(sleep=lambda s: None, max_attempts=2))
    services = build_services(ctx, runtime, pool=pool, bus=bus)
    scheduler = services.sync
    panel = AccountsPanel(ctx, services)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.refreshed, timeout=5000):
            panel.refresh()
        done: list[Any] = []
        scheduler.finished.connect(lambda _id, outcome: done.append(outcome))
        for acc_id in ids:
            assert panel.select(acc_id)
            panel.sync_selected()  # what the dock's Sync button does
        qtbot.waitUntil(lambda: len(done) == len(ids), timeout=30_000)
        assert not any(o.ok for o in done) and all("HTTP 400" in o.message for o in done)
        tested: list[tuple[int, bool, str]] = []
        panel.tested.connect(lambda i, ok, text: tested.append((i, ok, text)))
        for acc_id in ids:
            assert panel.select(acc_id)
            panel.test_selected()  # the dock's Test connection button
        qtbot.waitUntil(lambda: len(tested) == len(ids), timeout=30_000)
        assert not any(ok for _, ok, _ in tested)
        assert not leaks({f"test {i}": text.encode() for i, _, text in tested}), tested
    finally:
        runtime.stop(wait_s=10)
        services.close()
        pool.waitForDone(10_000)
        bus.close()
        for h in handlers:
            logging.getLogger("aicost").removeHandler(h)
            h.close()
        ctx.close()
    log_text = ctx.paths.log_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(ctx.paths.log_file.stat().st_mode) == 0o600 or os.name != "posix"
    assert log_text.count("HTTP 400") >= len(ids)  # the failures were logged, with the provider's words
    found = leaks(home_files(home))
    assert found == [], "\n".join(found)
