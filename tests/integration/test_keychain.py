"""The real OS keychain (gnome-keyring over Secret Service in a private dbus session) behind the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.fakes import anthropic_fake, openai_fake

pytestmark = pytest.mark.keychain
HERE = Path(__file__).parent


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} not installed (apt-get install dbus gnome-keyring); .ci/run installs it")


def test_cli_accounts_keys_live_in_gnome_keyring_and_sync_matches_fakes(tmp_path: Path) -> None:
    for b in ("dbus-run-session", "gnome-keyring-daemon"):
        _require(b)
    pytest.importorskip("secretstorage")
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=45)).date()
    with openai_fake.OpenAIFake(now=now, days=30) as oa, anthropic_fake.AnthropicFake(now=now, days=20) as an:
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
        env.update(KC_HOME=str(tmp_path / "home"), OPENAI_BASE=oa.base_url + "/v1", ANTHROPIC_BASE=an.base_url,
                   OPENAI_ADMIN_KEY=openai_fake.ADMIN_KEY, ANT_KEY=anthropic_fake.ADMIN_KEY, AICOST_TZ="UTC",
                   FROM=start.isoformat(), TO=now.date().isoformat(), HOME=str(tmp_path),
                   XDG_DATA_HOME=str(tmp_path / "xdg-data"), PYTHONPATH=str(HERE.parent.parent))
        script = (f"echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
                  f"exec {sys.executable} {HERE / 'keychain_cli_script.py'}")
        proc = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], env=env, capture_output=True,
                              text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        since = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc)
        until = now + timedelta(days=1)
        openai_expected = oa.expected_cost(since, until)
        anthropic_expected = an.expected_cost(since, until)
    assert "SecretService" in result["backend"]
    assert result["roundtrip"] and result["deleted"]
    assert result["add_openai"] == 0 and result["add_anthropic"] == 0
    first, second = result["reports"]
    assert first["sync"] == 0, first["err"]
    assert first["openai_total"] == f"{openai_expected.quantize(openai_expected.__class__('0.01'))}"
    from decimal import Decimal

    assert Decimal(first["anthropic_reported"]) == anthropic_expected.quantize(Decimal("1e-10"))
    # Priority-tier usage is absent from the cost report and priced from the catalog: auto >= reported.
    assert Decimal(first["anthropic_auto"]) > Decimal(first["anthropic_reported"])
    assert second == first  # a second sync changes nothing
    assert result["accounts"] == ["ok", "ok"]
    assert result["key_in_db"] is False
    assert result["remove"] == 0
