"""Gateway configuration: a loopback-only bind, the port, upstream base URLs and each route's key mode."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from aicost_desktop.config import GATEWAY_DEFAULT_PORT, GATEWAY_DEFAULT_UPSTREAMS, GATEWAY_PROVIDERS, check_http_url
from aicost_desktop.domain.errors import InputError

DEFAULT_PORT = GATEWAY_DEFAULT_PORT  # declared with the settings (config.py), which sit below this layer
DEFAULT_UPSTREAMS = GATEWAY_DEFAULT_UPSTREAMS
PROVIDERS = GATEWAY_PROVIDERS
# A request body past this is refused (413): a long Claude Code context with images stays well below it.
MAX_BODY_BYTES = 64 * 1024 * 1024


def check_loopback(host: str) -> str:
    """`host` when it is a loopback IP literal; InputError otherwise.

    Names are refused too ('localhost' can resolve to anything in /etc/hosts): a gateway holding
    account keys must never become an open relay on the network."""
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise InputError("host", host, "the gateway binds to a loopback address only (127.0.0.1 or ::1)") from None
    if not addr.is_loopback:
        raise InputError("host", host, "the gateway binds to a loopback address only (127.0.0.1 or ::1)")
    return str(addr)


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError("port", port, "must be 0..65535 (0 picks a free port)")
    return port


def check_upstream(provider: str, url: str) -> str:
    return check_http_url(f"upstream-{provider}", url)


@dataclass(frozen=True)
class GatewayConfig:
    """How the gateway listens and forwards; validated on creation, so no code path binds elsewhere.

    `inject_accounts` maps a provider to the account whose stored key the gateway sends upstream;
    a provider not in it passes the client's own key through (the gateway token then travels in
    `X-AICost-Token`).
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    upstreams: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    inject_accounts: dict[str, int] = field(default_factory=dict)
    connect_timeout: float = 30.0
    # Streams can pause for minutes between events (long reasoning): no read timeout by default.
    read_timeout: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", check_loopback(self.host))
        check_port(self.port)
        ups = dict(DEFAULT_UPSTREAMS)
        for provider, url in self.upstreams.items():
            if provider not in PROVIDERS:
                raise InputError("upstream", provider, f"use one of {', '.join(PROVIDERS)}")
            ups[provider] = check_upstream(provider, url)
        object.__setattr__(self, "upstreams", ups)
        for provider in self.inject_accounts:
            if provider not in PROVIDERS:
                raise InputError("inject", provider, f"use one of {', '.join(PROVIDERS)}")

    def base_url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}"
