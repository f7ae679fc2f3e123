"""SendGrid and Twilio against their fakes: wire formats, validation errors, rate limits, both Twilio auths."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.sendgrid import API_KEY, SendGridFake
from tests.unit.integrations.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, KEY_SECRET, KEY_SID, TwilioFake


@pytest.fixture
def sendgrid():  # type: ignore[no-untyped-def]
    with serving(SendGridFake()) as fake:
        yield fake


@pytest.fixture
def twilio():  # type: ignore[no-untyped-def]
    with serving(TwilioFake()) as fake:
        yield fake


def _sg(manager, sendgrid) -> None:  # type: ignore[no-untyped-def]
    manager.connect("sendgrid", {"api_key": API_KEY, "from_email": "alerts@example.com"}, name="mail",
                    urls={"api": sendgrid.base_url})


def test_sendgrid_plain_and_html_in_that_order(manager, sendgrid) -> None:
    _sg(manager, sendgrid)
    out = manager.run("mail", "send_email", {"to": "finance@example.com, cto@example.com",
                                             "subject": "Monthly AI spend", "text": "Total: $1,204.55",
                                             "html": "<p>Total: <b>$1,204.55</b></p>"})
    assert out["ok"] and out["message_id"]
    mail = sendgrid.sent[0]
    assert mail["personalizations"] == [{"to": [{"email": "finance@example.com"}, {"email": "cto@example.com"}]}]
    assert mail["from"] == {"email": "alerts@example.com", "name": "AI Cost Tracker"}
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert sendgrid.requests[-1].header("authorization") == f"Bearer {API_KEY}"


def test_sendgrid_dynamic_template_without_content(manager, sendgrid) -> None:
    _sg(manager, sendgrid)
    manager.run("mail", "send_email", {"to": "a@example.com", "template_id": "d-13b8f94fbcae4ec6b75270d6cb59f932",
                                       "template_data": '{"total": "$1,204.55"}'})
    mail = sendgrid.sent[0]
    assert mail["template_id"].startswith("d-") and "content" not in mail
    assert mail["personalizations"][0]["dynamic_template_data"] == {"total": "$1,204.55"}


def test_sendgrid_errors(manager, sendgrid, waits) -> None:
    _sg(manager, sendgrid)
    with pytest.raises(InputError, match="not an email address"):
        manager.run("mail", "send_email", {"to": "nobody", "subject": "s", "text": "t"})
    sendgrid.inject(sendgrid.rate_limited(1))
    manager.run("mail", "send_email", {"to": "a@example.com", "subject": "s", "text": "t"})
    assert len(waits) == 1 and 0 <= waits[0] <= 1 and len(sendgrid.sent) == 1
    sendgrid.keys[API_KEY] = ["scopes.read"]
    result = manager.test("mail")
    assert not result.ok and "no mail.send scope" in result.detail
    with pytest.raises(E.PermissionDenied, match="access forbidden") as err:
        manager.run("mail", "send_email", {"to": "a@example.com", "subject": "s", "text": "t"})
    assert "Mail Send" in err.value.hint


def test_sendgrid_validation_error_names_the_field(manager, sendgrid) -> None:
    _sg(manager, sendgrid)
    with pytest.raises(E.InvalidRequest, match=r"subject: The subject is required"):
        manager.run("mail", "send_email", {"to": "a@example.com", "text": "no subject"})
    assert sendgrid.sent == []


def test_sendgrid_wrong_key_is_not_stored(manager, sendgrid) -> None:
    with pytest.raises(E.AuthFailed, match="invalid, expired, or revoked"):
        manager.connect("sendgrid", {"api_key": "SG.wrong.key", "from_email": "a@example.com"},
                        urls={"api": sendgrid.base_url})
    assert manager.connections() == []


@pytest.mark.parametrize("auth, fields, user, password", [
    ("auth_token", {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}, ACCOUNT_SID, AUTH_TOKEN),
    ("api_key", {"account_sid": ACCOUNT_SID, "api_key_sid": KEY_SID, "api_key_secret": KEY_SECRET}, KEY_SID, KEY_SECRET),
])
def test_twilio_sms_is_form_encoded_with_basic_auth(manager, twilio, auth, fields, user, password) -> None:
    manager.connect("twilio", {**fields, "from_number": "+14155550100"}, name="sms", auth=auth,
                    urls={"api": twilio.base_url})
    out = manager.run("sms", "send_sms", {"to": "+14155552345", "body": "Budget alert: OpenAI 92%"})
    assert re.fullmatch(r"SM[0-9a-f]{32}", out["sid"]) and out["status"] == "queued"
    req = twilio.requests[-1]
    assert req.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert req.header("content-type") == "application/x-www-form-urlencoded"
    assert parse_qs(req.body.decode()) == {"To": ["+14155552345"], "From": ["+14155550100"],
                                           "Body": ["Budget alert: OpenAI 92%"]}
    assert base64.b64decode(req.header("authorization")[6:]).decode() == f"{user}:{password}"


def test_twilio_whatsapp_and_errors(manager, twilio) -> None:
    manager.connect("twilio", {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "+14155550100"},
                    name="sms", auth="auth_token", urls={"api": twilio.base_url})
    manager.run("sms", "send_whatsapp", {"to": "+14155552345", "body": "hi"})
    assert twilio.messages[-1]["to"] == "whatsapp:+14155552345" and twilio.messages[-1]["from"] == "whatsapp:+14155550100"
    with pytest.raises(InputError, match="E.164"):
        manager.run("sms", "send_sms", {"to": "555-1234", "body": "x"})
    with pytest.raises(E.InvalidRequest, match=r"not a valid phone number\. \(error 21211\)") as err:
        manager.open("sms").send("+1555", "x")
    assert "E.164" in err.value.hint
    with pytest.raises(E.AuthFailed, match="Authenticate"):
        manager.connect("twilio", {"account_sid": ACCOUNT_SID, "auth_token": "f" * 32}, name="bad", auth="auth_token",
                        urls={"api": twilio.base_url})
