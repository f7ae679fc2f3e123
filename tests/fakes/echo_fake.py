"""A misbehaving gateway in front of every provider: each request gets a 400 that echoes its credentials.

Routed by the first path segment (`/openai/v1/...`, `/anthropic/v1/...`, `/openrouter/api/v1/...`,
`/deepseek/...`, `/moonshot/v1/...`, `/gateway/v1/...` an OpenAI-compatible gateway), each answer
uses that provider's own error envelope (providers.md: OpenAI `{"error":{"message","type","param",
"code"}}`, Anthropic `{"type":"error","error":{"type","message"},"request_id"}`, OpenRouter
`{"error":{"code","message","metadata"}}`, DeepSeek/Moonshot OpenAI-compatible) or, for DeepSeek, a
proxy's plain-text page. The message carries the key bare, inside a header dump and in encoded
forms (URL-quoted, JSON-escaped, HTTP Basic base64), so only redaction by value can hide all of it.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

PREFIXES = {"openai": "/openai/v1", "anthropic": "/anthropic", "openrouter": "/openrouter/api/v1",
            "deepseek": "/deepseek", "moonshot": "/moonshot/v1", "gateway": "/gateway/v1"}
# error_message() keeps 300 characters of a non-JSON body: the DeepSeek page puts the key across that cut.
TEXT_CUT = 300


def credential(req: FakeRequest) -> str:
    """The key the client sent: `x-api-key`, else the `Authorization: Bearer` token."""
    key = req.header("x-api-key")
    if key:
        return key
    auth = req.header("authorization") or ""
    return auth.split(" ", 1)[1] if " " in auth else auth


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class EchoingGatewayFake(FakeHTTPServer):
    """Every request: HTTP 400 whose body echoes the request's headers and key (see the module doc)."""

    def base_for(self, route: str) -> str:
        return self.base_url + PREFIXES[route]

    def handle(self, req: FakeRequest) -> FakeResponse:
        route = req.path.strip("/").split("/", 1)[0]
        key, headers = credential(req), dict(req.headers)
        if route == "openai":
            return FakeResponse.json_({"error": {
                "message": f"Unrecognized request headers {json.dumps(headers)}; token {key} is not valid here",
                "type": "invalid_request_error", "param": None, "code": None}}, 400)
        if route == "anthropic":
            return FakeResponse.json_({"type": "error", "request_id": "req_echo", "error": {
                "type": "invalid_request_error",
                "message": f"invalid x-api-key {key!r}; received headers: {headers!r}"}}, 400)
        if route == "openrouter":
            auth = req.header("authorization") or ""
            return FakeResponse.json_({"error": {
                "code": 400, "message": f"No auth credentials found for key {key} (as sent: {quote(auth)})",
                "metadata": {"headers": headers}}}, 400)
        if route == "deepseek":
            head = "400 Bad Request: key "
            pad = "." * (TEXT_CUT - len(head) - len(key) // 2)
            lines = "\r\n".join(f"{k}: {v}" for k, v in headers.items())
            return FakeResponse(400, f"{pad}{head}{key} rejected\r\n{lines}".encode(),
                                {"Content-Type": "text/plain"})
        if route == "moonshot":
            return FakeResponse.json_({"error": {
                "message": f"Invalid Authentication: {key}; upstream said Basic {_b64('apikey:' + key)}",
                "type": "invalid_authentication_error"}}, 400)
        if route == "gateway":
            return FakeResponse.json_({"error": {
                "message": (f"proxy error for https://apikey:{quote(key, safe='')}@upstream.local/v1"
                            f"?api_key={quote(key)}: key {key} sent as {json.dumps({'k': key})}"),
                "type": "invalid_request_error", "param": None, "code": "gateway_error"}}, 400)
        return FakeResponse.json_({"error": {"message": "no such route", "type": "invalid_request_error",
                                             "param": None, "code": None}}, 404)
