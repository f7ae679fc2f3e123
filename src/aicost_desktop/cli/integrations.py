"""`aicost integrations`: list the integrations with status, connect one, test it, run an action, disconnect it;
receive signed webhooks on 127.0.0.1 (`listen`) and read what came in (`events`)."""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from aicost_desktop.cli.commands import help_of
from aicost_desktop.cli.common import parse_int, print_json
from aicost_desktop.cli.format import table
from aicost_desktop.domain.errors import InputError

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.integrations.manager import IntegrationManager


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("integrations", help=help_of("integrations"))
    isub = p.add_subparsers(dest="integrations_command", metavar="ACTION", required=True)
    ls = isub.add_parser("list", help="every integration, its auth methods and status")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    c = isub.add_parser("connect", help="connect an integration; secrets go to the OS keychain")
    c.add_argument("kind", metavar="KIND", help="integration id (see `aicost integrations list`)")
    c.add_argument("--name", help="connection name (default: the integration id)")
    c.add_argument("--auth", help="auth method id when the integration has several")
    c.add_argument("--field", action="append", default=[], metavar="KEY=VALUE", help="a non-secret field")
    c.add_argument("--secret-env", action="append", default=[], metavar="KEY=VAR",
                   help="read a secret field from an environment variable (never on the command line)")
    c.add_argument("--base-url", metavar="URL", help="the API base URL (EU hosts, tests)")
    c.add_argument("--url", action="append", default=[], metavar="KEY=URL", help="another URL override (OAuth)")
    c.add_argument("--client-id", help="OAuth client id: sign in with the browser or a device code")
    c.add_argument("--no-test", action="store_true", help="store without the connection test")
    c.set_defaults(handler=run_connect)
    for name, text in (("test", "run the connection test"), ("disconnect", "forget a connection and its secrets")):
        # `remove` as the other commands name it (accounts remove, routes remove)
        t = isub.add_parser(name, help=text, aliases=["remove"] if name == "disconnect" else [])
        t.add_argument("name", metavar="NAME")
        t.set_defaults(handler=run_test if name == "test" else run_disconnect)
    r = isub.add_parser("run", help="run an action of a connection")
    r.add_argument("name", metavar="NAME")
    r.add_argument("action", metavar="ACTION")
    r.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=run_action)
    li = isub.add_parser("listen", help="receive signed webhooks on 127.0.0.1 until Ctrl-C (for your own tunnel)",
                         description="Serve POST /hooks/<connection name> on 127.0.0.1: Slack, GitHub, Stripe and "
                                     "Webhook connections with a signing secret; a request without a valid "
                                     "signature gets 401 and is logged. See docs/integrations/incoming.md.")
    li.add_argument("--port", default=None, help="port on 127.0.0.1 (default: the incoming_webhooks_port setting, "
                                                 "8789; 0 picks a free one)")
    li.add_argument("--host", default="127.0.0.1", help="address to bind: 127.0.0.1 only (tunnels connect to it)")
    li.set_defaults(handler=run_listen)
    ev = isub.add_parser("events", help="the last incoming webhook requests: accepted, refused and why")
    ev.add_argument("--limit", default="20", help="how many, newest first (default 20)")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(handler=run_events)


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(option, item, "use KEY=VALUE")
        out[key.strip()] = value
    return out


def _manager(ctx: "AppContext") -> "IntegrationManager":
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations.manager import IntegrationManager

    return IntegrationManager(ctx.db, ctx.secrets)


def run_list(args: argparse.Namespace, ctx: "AppContext") -> int:
    m = _manager(ctx)
    try:
        cards = m.catalog()
    finally:
        m.close()
    if args.json:
        print_json([c.as_json() for c in cards])
        return 0
    rows = [(c.spec.id, c.spec.name, c.spec.category.label, ",".join(a.key for a in c.spec.auth_methods),
             c.status.replace("_", " "), ", ".join(r.name for r in c.connections)) for c in cards]
    print("\n".join(table(("id", "name", "category", "auth", "status", "connections"), rows)))
    return 0


def run_connect(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.integrations import registry

    spec = registry.get(args.kind)
    values = _pairs(args.field, "field")
    for key in values:
        if key in spec.secret_keys:
            raise InputError("field", key, f"is a secret: give it with --secret-env {key}=VAR")
    for key, var in _pairs(args.secret_env, "secret-env").items():
        value = os.environ.get(var)
        if not value:
            raise InputError("secret-env", var, "environment variable is not set or empty")
        values[key] = value
    urls = _pairs(args.url, "url")
    if args.base_url:
        urls["api"] = args.base_url
    m = _manager(ctx)
    try:
        if args.client_id:
            secret = values.pop("client_secret", None)  # from --secret-env client_secret=VAR, when the app has one
            rec = m.connect_oauth(spec.id, client_id=args.client_id, client_secret=secret, name=args.name,
                                  auth=args.auth, urls=urls, show_code=_show_code, values=values)
        else:
            method = spec.auth(args.auth)
            missing = [k for k in method.fields if k in spec.secret_keys and k not in values and spec.field(k).required]
            if missing and sys.stdin.isatty():
                for key in missing:
                    values[key] = getpass.getpass(f"{spec.field(key).label}: ")
            rec = m.connect(spec.id, values, name=args.name, auth=args.auth, urls=urls, verify=not args.no_test)
    finally:
        m.close()
    tested = f" ({rec.status_message})" if rec.status_message else " (not tested)"
    print(f"connected {rec.name} ({spec.name}, {rec.auth_method}){tested}; secrets stored in {ctx.secrets.describe()}")
    return 0


def _show_code(code: Any) -> None:
    print(f"open {code.verification_uri} and enter the code {code.user_code} (valid {code.expires_in // 60} minutes)",
          flush=True)


def run_test(args: argparse.Namespace, ctx: "AppContext") -> int:
    m = _manager(ctx)
    try:
        result = m.test(args.name)
    finally:
        m.close()
    print(f"{args.name}: {'ok' if result.ok else 'failed'}: {result.detail}")
    return 0 if result.ok else 1


def run_disconnect(args: argparse.Namespace, ctx: "AppContext") -> int:
    m = _manager(ctx)
    try:
        rec = m.disconnect(args.name)
    finally:
        m.close()
    print(f"disconnected {rec.name}; {len(rec.secret_keys)} keychain entr{'y' if len(rec.secret_keys) == 1 else 'ies'} removed")
    return 0


def run_action(args: argparse.Namespace, ctx: "AppContext") -> int:
    m = _manager(ctx)
    try:
        out = m.run(args.name, args.action, _pairs(args.param, "param"))
    finally:
        m.close()
    if args.json:
        print_json(out)
    elif isinstance(out, list):
        for item in out:
            print(item)
    else:
        print(out)
    return 0


def run_listen(args: argparse.Namespace, ctx: "AppContext") -> int:
    """The same service the app runs when incoming_webhooks_enabled is on (runtime/incoming.py), in the foreground."""
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.runtime.incoming import IncomingService
    from aicost_desktop.runtime.jobs import Jobs

    port = None if args.port is None else parse_int(args.port, "port", maximum=65535)
    jobs = Jobs(2, name="aicost-incoming")
    service = IncomingService(ctx, jobs)
    service.received.connect(lambda ev: print(f"  {ev.at.astimezone(ctx.tz):%H:%M:%S} {ev.line()}", flush=True))
    stop = threading.Event()
    try:
        service.start(port, args.host)
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            base = service.base_url
            print(f"incoming webhooks listening on {base}", flush=True)
            _print_hooks(ctx, base or "")
            print("  a request without a valid signature gets 401 and is logged; Ctrl-C stops", flush=True)
            try:
                while not stop.wait(0.5):  # a short wait keeps Ctrl-C responsive on every platform
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        service.close()
        jobs.shutdown(5)
    print(f"incoming webhooks stopped; {len(service.recent())} request(s) this run "
          "(aicost integrations events lists them)")
    return 0


def _print_hooks(ctx: "AppContext", base: str) -> None:
    # lazy: loaded when the command runs, not by `aicost --help`
    from urllib.parse import quote

    # lazy: as above (the integrations package loads every connector's module)
    from aicost_desktop.integrations.incoming import SECRET_KEYS
    from aicost_desktop.integrations.store import ConnectionStore

    hooks = [r for r in ConnectionStore(ctx.db, ctx.secrets).list() if r.kind in SECRET_KEYS]
    if not hooks:
        print("  no Slack, GitHub, Stripe or Webhook connection yet: every request will get 404", flush=True)
    for rec in hooks:
        key = SECRET_KEYS[rec.kind]
        state = f"{key} set" if key in rec.secret_keys else f"NO {key}: its requests get 401"
        print(f"  {rec.name} ({rec.kind}): {base}/hooks/{quote(rec.name, safe='')}  [{state}]", flush=True)


def run_events(args: argparse.Namespace, ctx: "AppContext") -> int:
    # lazy: loaded when the command runs, not by `aicost --help`
    from aicost_desktop.runtime.incoming import event_log

    limit = parse_int(args.limit, "limit", minimum=1, maximum=10_000)
    events = event_log(ctx).recent(limit)
    if args.json:
        print_json([e.as_json() for e in events])
        return 0
    if not events:
        print("no incoming webhook requests yet (aicost integrations listen, or the incoming_webhooks_enabled setting)")
        return 0
    rows = [(f"{e.at.astimezone(ctx.tz):%Y-%m-%d %H:%M:%S}", e.connection, e.kind, e.status, e.code, e.event or "",
             e.detail) for e in events]
    print("\n".join(table(("time", "connection", "kind", "status", "code", "event", "detail"), rows, right=(4,))))
    return 0
