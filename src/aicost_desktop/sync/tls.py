"""The TLS trust store every outgoing HTTPS client shares, loaded once per process."""

from __future__ import annotations

import os
import ssl
import threading

import httpx

_lock = threading.Lock()
_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def client_tls() -> ssl.SSLContext:
    """The context httpx would build for `verify=True` (SSL_CERT_FILE / SSL_CERT_DIR, else certifi's bundle).

    httpx builds it again for every client, reading and parsing ~150 CA certificates (~50 ms of CPU); the app
    makes a client per sync, alert delivery and connection test. One context serves any number of clients and
    threads; it is keyed by the two variables so a changed trust store is still honoured."""
    key = (os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)
    ctx = _contexts.get(key)
    if ctx is None:
        with _lock:
            ctx = _contexts.get(key)
            if ctx is None:
                ctx = _contexts[key] = httpx.create_ssl_context()
    return ctx
