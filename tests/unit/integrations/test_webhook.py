"""The generic webhook: a receiver verifies each POST with the documented scheme; bad signatures get 401."""

from __future__ import annotations

import json

import pytest

from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.signatures import InvalidSignature, verify_webhook
from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse, serving

SECRET = "4f6c2d9e8a7b1c3d5e6f7a8b9c0d1e2f"


class Receiver(FakeHTTPServer):
    """A user's service: verifies X-Aicost-Signature and de-duplicates on X-Aicost-Delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, dict] = {}

    def handle(self, req: FakeRequest) -> FakeResponse:
        try:
            verify_webhook(SECRET, req.header("x-aicost-signature"), req.body)
        except InvalidSignature as exc:
            return FakeResponse.json_({"error": str(exc)}, 401)
        self.events.setdefault(req.header("x-aicost-delivery") or "", json.loads(req.body))
        return FakeResponse(204)


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    with serving(Receiver()) as fake:
        yield fake


def test_signed_posts_verify_at_the_receiver(manager, receiver) -> None:
    rec = manager.connect("webhook", {"url": receiver.base_url + "/hooks/aicost", "signing_secret": SECRET}, name="mine")
    assert rec.status_message == "the URL answered HTTP 204 to a signed ping"
    out = manager.run("mine", "post", {"event": "threshold", "data": '{"budget": "team", "percent": 80}'})
    assert receiver.events[out["delivery"]] == {"event": "threshold", "data": {"budget": "team", "percent": 80}}
    req = receiver.requests[-1]
    assert req.header("content-type") == "application/json" and req.header("x-aicost-event") == "threshold"


def test_a_wrong_secret_is_refused_by_the_receiver(manager, receiver) -> None:
    with pytest.raises(E.AuthFailed, match="401"):
        manager.connect("webhook", {"url": receiver.base_url + "/h", "signing_secret": "x" * 32}, name="mine")
    assert receiver.events == {}
