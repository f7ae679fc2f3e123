"""`aicost gateway`: run the local metering gateway in the foreground; `aicost gateway token` prints or rotates its token."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_int

if TYPE_CHECKING:  # both load on first use: the CLI starts fast
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.runtime.gateway import GatewayOptions


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("gateway", help=help_of("gateway"),
                       description="Serve /openai/v1 and /anthropic/v1 on 127.0.0.1 until Ctrl-C; every call "
                                   "becomes a priced ledger row (source proxy) and block budgets refuse calls. "
                                   "Each flag overrides its gateway_* setting for this run.")
    p.add_argument("--port", default=None, help="port on 127.0.0.1 (default: the gateway_port setting, 8788; "
                                                "0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1 or ::1 only)")
    p.add_argument("--upstream-openai", metavar="URL", help="OpenAI base URL (default https://api.openai.com/v1)")
    p.add_argument("--upstream-anthropic", metavar="URL",
                   help="Anthropic base URL (default https://api.anthropic.com/v1)")
    for provider, name in (("openai", "OpenAI"), ("anthropic", "Anthropic")):
        keys = p.add_mutually_exclusive_group()
        keys.add_argument(f"--inject-{provider}", metavar="ACCOUNT",
                          help=f"send this account's stored key to {name} (default: pass the client's own key through)")
        keys.add_argument(f"--pass-through-{provider}", action="store_true",
                          help=f"pass the client's own {name} key through, whatever gateway_inject_{provider} says")
    # Due subscription charges: written by the gateway itself, when it starts and as they fall due (GatewayHost).
    p.set_defaults(handler=serve)
    actions = p.add_subparsers(dest="gateway_action", metavar="ACTION", parser_class=type(p))
    t = actions.add_parser("token", help="print the local gateway token (created on first use; --rotate for a new one)")
    t.add_argument("--rotate", action="store_true", help="replace the token; clients using the old one get 401")
    t.set_defaults(handler=token)


def token(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.gateway import token as tokens

    print(tokens.rotate(ctx.secrets) if args.rotate else tokens.load_or_create(ctx.secrets))
    return 0


def _options(args: argparse.Namespace) -> "GatewayOptions":
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.runtime.gateway import GatewayOptions

    ups = {k: v for k, v in (("openai", args.upstream_openai), ("anthropic", args.upstream_anthropic)) if v}
    inject = {p: "" if getattr(args, f"pass_through_{p}") else getattr(args, f"inject_{p}")
              for p in ("openai", "anthropic")
              if getattr(args, f"pass_through_{p}") or getattr(args, f"inject_{p}")}
    port = None if args.port is None else parse_int(args.port, "port", maximum=65535)
    return GatewayOptions(host=args.host, port=port, upstreams=ups, inject=inject)


def serve(args: argparse.Namespace, ctx: "AppContext") -> int:
    """The same service the GUI and a headless host run (runtime/gateway.py), in the foreground."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.runtime.gateway import GatewayService

    service = GatewayService(ctx)
    service.start(_options(args))
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        host = service.host
        assert host is not None
        base, injected = host.base_url, host.config.inject_accounts
        print(f"gateway listening on {base}", flush=True)
        print(f"  OpenAI:    {base}/openai/v1  ({'account key injected' if 'openai' in injected else 'your key passed through'})")
        print(f"  Anthropic: {base}/anthropic/v1  ({'account key injected' if 'anthropic' in injected else 'your key passed through'})")
        print("  token: `aicost gateway token` (send it as X-AICost-Token); Ctrl-C stops", flush=True)
        try:
            while not stop.wait(0.5):  # a short wait keeps Ctrl-C responsive on every platform
                pass
        except KeyboardInterrupt:
            pass
    finally:
        service.stop()
        signal.signal(signal.SIGTERM, previous)
    written = service.written
    print(f"gateway stopped; {written} request{'s' if written != 1 else ''} written to the ledger")
    return 0
