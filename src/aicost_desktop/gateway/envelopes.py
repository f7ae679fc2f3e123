"""Errors the gateway itself answers with, in each provider's own envelope so its SDKs raise the usual class."""

from __future__ import annotations

import json

from aiohttp import web

# (OpenAI type, OpenAI code, Anthropic type) by HTTP status.
_KINDS = {
    401: ("invalid_request_error", "invalid_api_key", "authentication_error"),
    404: ("invalid_request_error", "unknown_url", "not_found_error"),
    405: ("invalid_request_error", "method_not_allowed", "invalid_request_error"),
    413: ("invalid_request_error", "request_too_large", "request_too_large"),
    429: ("insufficient_quota", "budget_exceeded", "rate_limit_error"),
    502: ("server_error", "upstream_unreachable", "api_error"),
}


def error_body(provider: str, status: int, message: str) -> dict[str, object]:
    oa_type, oa_code, an_type = _KINDS.get(status, ("server_error", "gateway_error", "api_error"))
    if provider == "anthropic":
        return {"type": "error", "error": {"type": an_type, "message": message}}
    return {"error": {"message": message, "type": oa_type, "param": None, "code": oa_code}}


def error_response(provider: str, status: int, message: str) -> web.Response:
    """The response; a refusal the client cannot fix by retrying says so (`x-should-retry: false`),
    which both official SDKs honour instead of retrying a 429 with backoff."""
    headers = {"x-should-retry": "false"} if status in (401, 404, 413, 429) else {}
    return web.Response(status=status, body=json.dumps(error_body(provider, status, message)).encode(),
                        content_type="application/json", headers=headers)
