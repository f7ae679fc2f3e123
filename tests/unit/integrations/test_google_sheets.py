"""Google Sheets against its fake: installed-app sign-in (PKCE, offline, loopback), refresh without rotation,
append with valueInputOption, read back, write cells, errors and quota backoff."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.google_sheets import (CLIENT_ID, CLIENT_SECRET, READ_ONLY_ID, SHEET_ID,
                                                         GoogleSheetsFake)
from tests.unit.integrations.test_oauth import Browser


@pytest.fixture
def sheets():  # type: ignore[no-untyped-def]
    with serving(GoogleSheetsFake()) as fake:
        yield fake


def _urls(fake) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"authorize": fake.base_url + "/o/oauth2/v2/auth", "token": fake.base_url + "/token",
            "api": fake.base_url + "/v4"}


def _connect(manager, sheets, **values):  # type: ignore[no-untyped-def]
    manager.browser = browser = Browser()
    rec = manager.connect_oauth("google_sheets", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, name="sheet",
                                urls=_urls(sheets), values={"spreadsheet_id": SHEET_ID, **values})
    browser.done.wait(5)
    return rec, browser


def test_sign_in_is_the_installed_app_flow_and_the_test_reads_a_range(manager, sheets, keychain) -> None:
    sheets.grids[SHEET_ID]["Sheet1"] = [["Date", "Model", "USD"]]
    rec, browser = _connect(manager, sheets)
    q = sheets.authorize_queries[0]
    assert q["scope"] == "https://www.googleapis.com/auth/spreadsheets" and q["access_type"] == "offline"
    assert q["prompt"] == "consent" and q["code_challenge_method"] == "S256" and q["response_type"] == "code"
    redirect = urlsplit(q["redirect_uri"])
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/"
    assert "You can close this tab" in browser.pages[0].text
    token_form = {k: v[0] for k, v in parse_qs(sheets.requests_to("/token")[0].body.decode()).items()}
    assert token_form["client_secret"] == CLIENT_SECRET and token_form["code_verifier"]
    assert rec.status == "ok" and rec.status_message == "read Sheet1!A1:Z1 (1 row(s))"
    assert rec.plain == {"client_id": CLIENT_ID, "spreadsheet_id": SHEET_ID, "test_range": "A1:Z1"}
    assert {k.rsplit(":", 1)[1] for k in keychain._data} == {"access_token", "refresh_token", "client_secret"}
    test_req = sheets.requests_to(f"/v4/spreadsheets/{SHEET_ID}/values/A1%3AZ1")[0]
    assert test_req.header("authorization") == f"Bearer {sheets.oauth.current_access}"


def test_a_bad_spreadsheet_id_is_refused_before_the_browser_opens(manager, sheets) -> None:
    opened: list[str] = []
    manager.browser = opened.append
    with pytest.raises(InputError, match="between /d/ and /edit"):
        manager.connect_oauth("google_sheets", client_id=CLIENT_ID, urls=_urls(sheets), values={"spreadsheet_id": "x"})
    with pytest.raises(InputError, match="takes spreadsheet_id, test_range"):
        manager.connect_oauth("google_sheets", client_id=CLIENT_ID, urls=_urls(sheets),
                              values={"spreadsheet_id": SHEET_ID, "sheet": "x"})
    assert opened == [] and manager.connections() == []


def test_append_rows_sends_value_input_option_and_reads_back(manager, sheets) -> None:
    _connect(manager, sheets)
    out = manager.run("sheet", "append_rows", {"range": "'Spend by model'!A1",
                                               "values": '[["2026-08-17", "gpt-4o", 412.37], ["2026-08-17", "claude", 12]]'})
    assert out == {"updated_range": "'Spend by model'!A1:C2", "updated_rows": 2, "updated_cells": 6, "table_range": None}
    req = [r for r in sheets.requests if r.method == "POST" and r.path.endswith(":append")][0]
    assert req.path == f"/v4/spreadsheets/{SHEET_ID}/values/%27Spend%20by%20model%27%21A1:append"
    assert req.param("valueInputOption") == "USER_ENTERED" and req.param("insertDataOption") == "INSERT_ROWS"
    assert req.json() == {"majorDimension": "ROWS", "values": [["2026-08-17", "gpt-4o", 412.37],
                                                               ["2026-08-17", "claude", 12]]}
    again = manager.run("sheet", "append_rows", {"range": "'Spend by model'!A1", "values": '["2026-08-18", "o3", 1.5]',
                                                 "value_input_option": "RAW"})
    assert again["updated_range"] == "'Spend by model'!A3:C3" and again["table_range"] == "'Spend by model'!A1:C2"
    assert manager.run("sheet", "read_range", {"range": "'Spend by model'!A1:C3"}) == [
        ["2026-08-17", "gpt-4o", "412.37"], ["2026-08-17", "claude", "12"], ["2026-08-18", "o3", "1.5"]]
    assert manager.run("sheet", "read_range", {"range": "Sheet1!A1:B2"}) == []  # no "values" key when empty


def test_text_that_looks_like_a_formula_stays_text_unless_allowed(manager, sheets) -> None:
    _connect(manager, sheets)
    manager.run("sheet", "append_rows", {"values": '[["=IMPORTXML(\\"http://x\\")", "-12.5", "@a"]]'})
    assert sheets.formulas_entered == []
    assert manager.run("sheet", "read_range", {"range": "A1:C1"}) == [['=IMPORTXML("http://x")', "-12.5", "@a"]]
    manager.run("sheet", "append_rows", {"values": '[["=SUM(1,2)"]]', "formulas": "true"})
    assert sheets.formulas_entered == ["=SUM(1,2)"]


def test_write_cells_and_list_sheets(manager, sheets) -> None:
    _connect(manager, sheets)
    out = manager.run("sheet", "write_cells", {"range": "Sheet1!B2", "values": '[["total", 99]]'})
    assert out == {"updated_range": "Sheet1!B2:C2", "updated_cells": 2}
    assert [r.method for r in sheets.requests if "/values/" in r.path][-1] == "PUT"
    assert manager.run("sheet", "read_range", {"range": "Sheet1!A2:C2"}) == [["", "total", "99"]]
    assert [s["title"] for s in manager.run("sheet", "list_sheets", {})] == ["Sheet1", "Spend by model"]


def test_the_access_token_is_refreshed_and_the_refresh_token_kept(manager, sheets) -> None:
    sheets.oauth.expires_in = "60"  # Google may send a string; inside the refresh margin
    rec, _ = _connect(manager, sheets)
    first_refresh = manager.store.secret(rec, "refresh_token")
    manager.run("sheet", "append_rows", {"values": '[["x"]]'})
    refreshes = [r for r in sheets.requests_to("/token") if b"grant_type=refresh_token" in r.body]
    assert len(refreshes) == 1
    form = {k: v[0] for k, v in parse_qs(refreshes[0].body.decode()).items()}
    assert form["client_id"] == CLIENT_ID and form["client_secret"] == CLIENT_SECRET
    rec = manager.store.get("sheet")
    assert manager.store.secret(rec, "refresh_token") == first_refresh  # Google's refresh answer has none
    assert manager.store.secret(rec, "access_token") == sheets.oauth.current_access
    append = [r for r in sheets.requests if r.path.endswith(":append")][-1]
    assert append.header("authorization") == f"Bearer {sheets.oauth.current_access}"


def test_a_revoked_sign_in_asks_to_connect_again(manager, sheets) -> None:
    sheets.oauth.expires_in = 60
    _connect(manager, sheets)
    sheets.oauth.refresh_tokens.clear()  # the user removed the app's access in their Google account
    with pytest.raises(E.AuthFailed, match="Token has been expired or revoked") as err:
        manager.run("sheet", "append_rows", {"values": '[["x"]]'})
    assert "sign in again" in err.value.hint and manager.store.get("sheet").status == "error"


def test_errors_say_what_to_do(manager, sheets) -> None:
    _connect(manager, sheets)
    with pytest.raises(E.NotFound, match="Requested entity was not found") as err:
        manager.run("sheet", "read_range", {"range": "A1", "spreadsheet": "1" + "x" * 40})
    assert "/d/" in err.value.hint
    with pytest.raises(E.InvalidRequest, match="Unable to parse range: Nope!A1") as err:
        manager.run("sheet", "append_rows", {"range": "Nope!A1", "values": '[["x"]]'})
    assert "sheet name" in err.value.hint
    url = f"https://docs.google.com/spreadsheets/d/{READ_ONLY_ID}/edit#gid=0"
    with pytest.raises(E.PermissionDenied, match="does not have permission") as err:
        manager.run("sheet", "append_rows", {"values": '[["x"]]', "spreadsheet": url})
    assert "share it" in err.value.hint
    with pytest.raises(InputError, match="array of rows"):
        manager.run("sheet", "append_rows", {"values": '{"a": 1}'})
    sheets.revoked.add(sheets.oauth.current_access)
    result = manager.test("sheet")
    assert not result.ok and "UNAUTHENTICATED" in result.detail and manager.store.get("sheet").status == "error"
    with pytest.raises(E.AuthFailed, match="connect Google Sheets again"):
        manager.run("sheet", "list_sheets", {})


def test_quota_429_backs_off_exponentially_then_goes_back_to_the_caller(manager, sheets, waits) -> None:
    _connect(manager, sheets)
    sheets.inject(sheets.quota_exceeded())
    manager.run("sheet", "append_rows", {"values": '[["x"]]'})
    assert waits == [0.5] and len(sheets.grids[SHEET_ID]["Sheet1"]) == 1  # no Retry-After: backoff
    sheets.inject(sheets.quota_exceeded(), times=3)
    with pytest.raises(E.RateLimited, match="Quota exceeded"):
        manager.run("sheet", "append_rows", {"values": '[["y"]]'})
    assert waits[1:] == [0.5, 1.0] and len(sheets.grids[SHEET_ID]["Sheet1"]) == 1
