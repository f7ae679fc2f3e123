"""The gateway's settings: declared once with defaults (off, port 8788, the providers' URLs, pass-through);
a bad value names the setting and the value, in the file too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicost_desktop.config import SETTINGS, Settings
from aicost_desktop.domain.errors import InputError
from aicost_desktop.gateway.config import DEFAULT_PORT, DEFAULT_UPSTREAMS


def test_defaults_are_off_on_the_gateway_port_with_the_providers_urls_passing_keys_through(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    assert s.get("gateway_enabled") is False
    assert s.get("gateway_port") == DEFAULT_PORT == 8788
    assert s.get("gateway_upstream_openai") == DEFAULT_UPSTREAMS["openai"] == "https://api.openai.com/v1"
    assert s.get("gateway_upstream_anthropic") == "https://api.anthropic.com/v1"
    assert s.get("gateway_inject_openai") == s.get("gateway_inject_anthropic") == ""
    assert all(SETTINGS[k].label for k in SETTINGS if k.startswith("gateway_"))


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("gateway_port", 80, "1024..65535"),
    ("gateway_port", 65536, "1024..65535"),
    ("gateway_port", True, "1024..65535"),
    ("gateway_upstream_openai", "ftp://api.openai.com/v1", "http(s) base URL"),
    ("gateway_upstream_openai", "api.openai.com/v1", "http(s) base URL"),
    ("gateway_upstream_anthropic", "https://x:99999/v1", "http(s) base URL"),
    ("gateway_upstream_anthropic", "https://api.anthropic.com/v1?key=1", "http(s) base URL"),
    ("gateway_upstream_openai", "https://user:sk-secret@proxy.example/v1", "user name or password"),
    ("gateway_inject_openai", " work", "account name"),
    ("gateway_inject_anthropic", 7, "account name"),
])
def test_a_bad_value_is_refused_naming_the_setting_and_the_value(tmp_path: Path, key: str, value: object,
                                                                  reason: str) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(InputError) as err:
        s.set(key, value)
    assert err.value.field == key and err.value.value == value and reason in err.value.reason
    assert not (tmp_path / "settings.json").exists()


def test_good_values_are_kept_and_a_bad_one_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    s.set("gateway_port", 1024)
    s.set("gateway_upstream_openai", "http://127.0.0.1:9000/v1/")
    s.set("gateway_inject_anthropic", "claude-work")
    again = Settings(path)
    assert again.get("gateway_port") == 1024
    assert again.get("gateway_upstream_openai") == "http://127.0.0.1:9000/v1"  # trailing '/' trimmed
    assert again.get("gateway_inject_anthropic") == "claude-work"
    path.write_text(json.dumps({"gateway_port": 80}))
    with pytest.raises(InputError, match=r"settings\.json: gateway_port=80: must be a port number 1024\.\.65535"):
        Settings(path).get("gateway_port")
