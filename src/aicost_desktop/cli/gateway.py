"""`aicost gateway`: run the local metering gateway in the foreground; `aicost gateway token` prints or rotates its token."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from aicost_desktop.cli.common import parse_int

if TYPE_CHECKING:  # both load on first use: the CLI starts fast
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.gateway.config import GatewayConfig


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("gateway", help="run the local metering gateway (OpenAI/Anthropic proxy on 127.0.0.1)",
                       description="Serve /openai/v1 and /anthropic/v1 on 127.0.0.1 until Ctrl-C; every call "
                                   "becomes a priced ledger row (source proxy) and block budgets refuse calls.")
    p.add_argument("--port", default=None, help="port on 127.0.0.1 (default 8788; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.0.0.1 or ::1 only)")
    p.add_argument("--upstream-openai", metavar="URL", help="OpenAI base URL (default https://api.openai.com/v1)")
    p.add_argument("--upstream-anthropic", metavar="URL",
                   help="Anthropic base URL (default https://api.anthropic.com/v1)")
    p.add_argument("--inject-openai", metavar="ACCOUNT",
                   help="send this account's stored key to OpenAI (default: pass the client's own key through)")
    p.add_argument("--inject-anthropic", metavar="ACCOUNT",
                   help="send this account's stored key to Anthropic (default: pass the client's own key through)")
    p.set_defaults(handler=serve)
    actions = p.add_subparsers(dest="gateway_action", metavar="ACTION", parser_class=type(p))
    t = actions.add_parser("token", help="print the local gateway token (created on first use; --rotate for a new one)")
    t.add_argument("--rotate", action="store_true", help="replace the token; clients using the old one get 401")
    t.set_defaults(handler=token)


def token(args: argparse.Namespace, ctx: "AppContext") -> int:
    from aicost_desktop.gateway import token as tokens

    print(tokens.rotate(ctx.secrets) if args.rotate else tokens.load_or_create(ctx.secrets))
    return 0


def _config(args: argparse.Namespace, ctx: "AppContext") -> "GatewayConfig":
    from aicost_desktop.accounts import get_account
    from aicost_desktop.gateway.config import DEFAULT_PORT, GatewayConfig

    ups = {k: v for k, v in (("openai", args.upstream_openai), ("anthropic", args.upstream_anthropic)) if v}
    inject = {k: get_account(ctx.db, v).id for k, v in (("openai", args.inject_openai),
                                                         ("anthropic", args.inject_anthropic)) if v}
    port = DEFAULT_PORT if args.port is None else parse_int(args.port, "port", maximum=65535)
    return GatewayConfig(host=args.host, port=port, upstreams=ups, inject_accounts=inject)


def serve(args: argparse.Namespace, ctx: "AppContext") -> int:
    from aicost_desktop.gateway.analytics_api import analytics_routes
    from aicost_desktop.gateway.host import GatewayHost
    from aicost_desktop.importers.request_pricer import RequestPricer

    cfg = _config(args, ctx)
    fx, week_start = ctx.settings.fx_rates(), ctx.settings.get("week_start")
    api = analytics_routes(ctx.db, ctx.tz, fx=fx, week_start=week_start, mode=ctx.settings.get("cost_mode"))
    host = GatewayHost(cfg, db=ctx.db, price=RequestPricer(ctx.catalog.cost_of), secrets=ctx.secrets, tz=ctx.tz,
                       fx=fx, week_start=week_start, extra_routes=api)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    host.start()
    try:
        base = host.base_url
        print(f"gateway listening on {base}", flush=True)
        print(f"  OpenAI:    {base}/openai/v1  ({'account key injected' if 'openai' in cfg.inject_accounts else 'your key passed through'})")
        print(f"  Anthropic: {base}/anthropic/v1  ({'account key injected' if 'anthropic' in cfg.inject_accounts else 'your key passed through'})")
        print("  token: `aicost gateway token` (send it as X-AICost-Token); Ctrl-C stops", flush=True)
        try:
            while not stop.wait(0.5):  # a short wait keeps Ctrl-C responsive on every platform
                pass
        except KeyboardInterrupt:
            pass
    finally:
        host.stop()
        signal.signal(signal.SIGTERM, previous)
    written = host.writer.written
    print(f"gateway stopped; {written} request{'s' if written != 1 else ''} written to the ledger")
    return 0
