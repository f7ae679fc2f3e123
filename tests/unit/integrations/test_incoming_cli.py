"""`aicost integrations listen` as a real process: names each hook, accepts a signed request, answers 401 to an
unsigned one, stops on Ctrl-C; `aicost integrations events` lists both from another process; only 127.0.0.1 binds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from aicost_desktop.integrations.signatures import sign_webhook
from tests.fakes.signals import ctrl_c_works

ROOT = Path(__file__).resolve().parents[3]
SECRET = "cli-webhook-secret-0123456789abcdef"


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, AICOST_TZ="UTC", PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                AICOST_TEST_KEYRING_FILE=str(tmp_path / "keychain.json"), HOOK_SECRET=SECRET, HOOK_URL="https://example.com/hook",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def aicost(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp_path / "home"), *args],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=120)


def test_listen_accepts_signed_refuses_unsigned_and_events_lists_them(tmp_path: Path) -> None:
    done = aicost(tmp_path, "integrations", "connect", "webhook", "--name", "ops hook", "--secret-env", "url=HOOK_URL",
                  "--secret-env", "signing_secret=HOOK_SECRET", "--no-test")
    assert done.returncode == 0, done.stderr
    assert aicost(tmp_path, "integrations", "events").stdout.startswith("no incoming webhook requests yet")
    proc = subprocess.Popen([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp_path / "home"),
                             "integrations", "listen", "--port", "0"],
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_works)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        m = re.match(r"incoming webhooks listening on (http://127\.0\.0\.1:\d+)$", first.strip())
        assert m, first + proc.stderr.read()  # type: ignore[union-attr]
        base = m.group(1)
        hook = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert hook == f"ops hook (webhook): {base}/hooks/ops%20hook  [signing_secret set]"
        body = b'{"data":{"id":7},"event":"alert.threshold"}'
        ok = httpx.post(f"{base}/hooks/ops%20hook", content=body, timeout=10,
                        headers={"X-Aicost-Signature": sign_webhook(SECRET, body), "X-Aicost-Delivery": "d-7",
                                 "Content-Type": "application/json"})
        bad = httpx.post(f"{base}/hooks/ops%20hook", content=body, timeout=10)
        assert (ok.status_code, bad.status_code) == (200, 401)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "ops hook (webhook): accepted 200 alert.threshold d-7" in out
    assert "ops hook (webhook): rejected 401 - X-Aicost-Signature has no t= or v1=" in out
    assert out.rstrip().endswith("incoming webhooks stopped; 2 request(s) this run (aicost integrations events "
                                 "lists them)")
    assert SECRET not in out + err
    listed = aicost(tmp_path, "integrations", "events", "--json")
    assert [(e["status"], e["code"], e["event"]) for e in json.loads(listed.stdout)] == [
        ("rejected", 401, None), ("accepted", 200, "alert.threshold")]
    table = aicost(tmp_path, "integrations", "events").stdout.splitlines()
    assert table[0].split() == ["time", "connection", "kind", "status", "code", "event", "detail"]
    assert "rejected" in table[1] and "alert.threshold" in table[2]


def test_listen_refuses_any_address_but_127_0_0_1(tmp_path: Path) -> None:
    bad = aicost(tmp_path, "integrations", "listen", "--host", "0.0.0.0")
    assert bad.returncode == 2 and "127.0.0.1 only" in bad.stderr and "tunnel" in bad.stderr
    assert aicost(tmp_path, "integrations", "listen", "--port", "70000").returncode == 2
