"""`aicost gateway` as a real process: 100 calls (half streamed) answer as direct calls do, `aicost report`
shows the proxy spend the catalog gives for the upstream's usage, the analytics API agrees, Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from tests.fakes.signals import ctrl_c_works
from tests.unit.gateway.fake_upstream import FakeUpstream

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, AICOST_TZ="UTC", PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
                AICOST_TEST_KEYRING_FILE=str(tmp_path / "keychain.json"),
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def aicost(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp_path / "home"), *args],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=120)


def test_the_gateway_command_meters_100_calls_like_the_report_and_api_say(tmp_path: Path,
                                                                          upstream: FakeUpstream) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(tmp_path / "home"),
                             "gateway", "--port", "0", "--upstream-openai", upstream.openai_url,
                             "--upstream-anthropic", upstream.anthropic_url],
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_works)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        m = re.match(r"gateway listening on (http://127\.0\.0\.1:\d+)$", first.strip())
        assert m, first + proc.stderr.read()  # type: ignore[union-attr]
        base = m.group(1)
        token = aicost(tmp_path, "gateway", "token").stdout.strip()
        assert token.startswith("aicgw_")
        catalog = PriceCatalog.load()
        expected = Decimal(0)
        with httpx.Client(timeout=30) as client:
            for i in range(100):
                stream = i % 2 == 0
                fake = {"X-Fake-Prompt": str(100 + i), "X-Fake-Output": str(10 + i % 7),
                        "X-Fake-Cached": str(i % 3 * 10)}
                if i % 4 < 2:
                    path, body = "/openai/v1/chat/completions", {"model": "gpt-4o-mini", "stream": stream,
                                                                 "messages": [{"role": "user", "content": "x"}]}
                    usage = TokenUsage(input_tokens=100 + i - i % 3 * 10, cache_read_tokens=i % 3 * 10,
                                       output_tokens=10 + i % 7, requests=1)
                    model, direct_base = "gpt-4o-mini", upstream.openai_url
                else:
                    path, body = "/anthropic/v1/messages", {"model": "claude-sonnet-4-5", "max_tokens": 64,
                                                            "stream": stream, "messages": [
                                                                {"role": "user", "content": "x"}]}
                    usage = TokenUsage(input_tokens=100 + i, cache_read_tokens=i % 3 * 10,
                                       output_tokens=10 + i % 7, requests=1)
                    model, direct_base = "claude-sonnet-4-5", upstream.anthropic_url
                via = client.post(base + path, json=body, headers={**fake, "X-AICost-Token": token,
                                                                    "X-AICost-Project": "p100"})
                direct = client.post(direct_base + path.split("/v1", 1)[1], json=body, headers=fake)
                assert via.status_code == 200 and via.content == direct.content, (i, via.text[:300])
                expected += catalog.cost_of(model, usage, ServiceTier.STANDARD, date.today())  # type: ignore[operator]
            api = client.get(base + "/api/analytics/cost/breakdown", params={"period": "7d", "by": "source"},
                             headers={"X-AICost-Token": token}).json()
            assert client.get(base + "/api/analytics/cost", params={"period": "7d"}).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "100 requests written to the ledger" in out
    report = json.loads(aicost(tmp_path, "report", "--json", "--group-by", "source").stdout)
    [row] = [r for r in report["rows"] if r["source"] == "proxy"]
    assert Decimal(row["cost_exact"]) == expected and row["requests"] == 100
    [api_row] = [r for r in api["rows"] if r["source"] == "proxy"]
    assert api_row["cost_exact"] == row["cost_exact"] and api_row["requests"] == 100
    assert token not in out + err


def test_gateway_token_rotates_and_a_non_loopback_host_is_refused(tmp_path: Path) -> None:
    first = aicost(tmp_path, "gateway", "token").stdout.strip()
    assert aicost(tmp_path, "gateway", "token").stdout.strip() == first
    rotated = aicost(tmp_path, "gateway", "token", "--rotate").stdout.strip()
    assert rotated != first and aicost(tmp_path, "gateway", "token").stdout.strip() == rotated
    bad = aicost(tmp_path, "gateway", "--host", "0.0.0.0", "--port", "0")
    assert bad.returncode == 2 and "loopback" in bad.stderr


def test_the_command_serves_from_the_settings_and_a_bad_setting_is_one_error_line(tmp_path: Path,
                                                                                 upstream: FakeUpstream) -> None:
    home = tmp_path / "home"
    home.mkdir()
    settings = home / "settings.json"
    settings.write_text(json.dumps({"gateway_upstream_openai": upstream.openai_url, "gateway_port": 80}))
    bad = aicost(tmp_path, "gateway")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"error: {settings}: gateway_port=80: must be a port number 1024..65535"]
    # The flag overrides the setting; the upstream comes from the settings file.
    proc = subprocess.Popen([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(home), "gateway",
                             "--port", "0"], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=ctrl_c_works)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        m = re.match(r"gateway listening on (http://127\.0\.0\.1:\d+)$", first.strip())
        assert m, first + proc.stderr.read()  # type: ignore[union-attr]
        token = aicost(tmp_path, "gateway", "token").stdout.strip()
        r = httpx.post(m.group(1) + "/openai/v1/chat/completions", timeout=30,
                       json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                       headers={"X-AICost-Token": token})
        assert r.status_code == 200 and len(upstream.served) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip().endswith("gateway stopped; 1 request written to the ledger")
