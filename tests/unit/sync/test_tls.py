"""Every HTTPS client shares one trust store per process, and SSL_CERT_FILE still decides what it trusts."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from aicost_desktop.accounts import make_client as provider_client
from aicost_desktop.integrations.http import make_client as integration_client
from aicost_desktop.sync.tls import client_tls


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real HTTPS server on 127.0.0.1 with a self-signed certificate (trusted by nothing by default)."""
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(str(crt), str(key))
    server.socket = sctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", crt
    finally:
        server.shutdown()
        server.server_close()


def _context_of(client: httpx.Client) -> ssl.SSLContext:
    # httpx has no public getter for a client's TLS context: its transport's connection pool holds it.
    ctx = client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(ctx, ssl.SSLContext)
    return ctx


def test_clients_share_one_context_and_ssl_cert_file_decides_what_it_trusts(
        https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, crt = https_server
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    default = client_tls()
    assert client_tls() is default  # built once, not per client
    with provider_client() as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get(url)

    monkeypatch.setenv("SSL_CERT_FILE", str(crt))
    trusting = client_tls()
    assert trusting is not default and client_tls() is trusting
    for make in (provider_client, integration_client):
        with make() as client:
            assert _context_of(client) is trusting
            assert client.get(url).text == "ok"
    # The bundle the app started with is still the one used once the variable is gone.
    monkeypatch.delenv("SSL_CERT_FILE")
    assert client_tls() is default
    with integration_client() as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get(url)
