"""Airtable against its fake: PAT, creates in batches of 10, list with offsets, update/delete, 422 field errors,
403 scope/base access, 429 waits 30 s whatever the body."""

from __future__ import annotations

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.airtable import BASE, OTHER_BASE, READ_TOKEN, TABLE, TOKEN, AirtableFake


@pytest.fixture
def airtable():  # type: ignore[no-untyped-def]
    with serving(AirtableFake()) as fake:
        yield fake


def _connect(manager, airtable, token: str = TOKEN, name: str = "at") -> None:  # type: ignore[no-untyped-def]
    manager.connect("airtable", {"token": token}, name=name, urls={"api": airtable.base_url + "/v0"})


def _rows(n: int) -> str:
    import json
    return json.dumps([{"Provider": "OpenAI", "Month": f"2026-{i % 12 + 1:02d}", "USD": 10.5 + i} for i in range(n)])


def test_connection_test_is_whoami_with_the_bearer_token(manager, airtable) -> None:
    _connect(manager, airtable)
    assert manager.store.get("at").status_message == \
        "user usrL2PNC5o3H4lBEi (scopes: data.records:read data.records:write schema.bases:read)"
    assert airtable.requests_to("/v0/meta/whoami")[0].header("authorization") == f"Bearer {TOKEN}"
    assert manager.run("at", "list_bases", {}) == [{"id": BASE, "name": "AI costs", "permission": "create"}]


def test_creates_go_ten_per_request_and_list_follows_offsets(manager, airtable) -> None:
    _connect(manager, airtable)
    out = manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": _rows(23)})
    assert out["created"] == 23 and len(set(out["ids"])) == 23
    posts = [r for r in airtable.requests if r.method == "POST"]
    assert [len(r.json()["records"]) for r in posts] == [10, 10, 3]
    assert posts[0].json()["records"][0] == {"fields": {"Provider": "OpenAI", "Month": "2026-01", "USD": 10.5}}
    assert posts[0].json()["typecast"] is False and posts[0].header("content-type") == "application/json"
    airtable.tables[BASE][TABLE] = [{**r, "id": f"rec{i:014d}"}  # 230 records: pages of 100, 100, 30
                                    for i, r in enumerate(airtable.tables[BASE][TABLE] * 10)]
    listed = manager.run("at", "list_records", {"base": BASE, "table": TABLE, "limit": "500", "fields": "USD"})
    assert len(listed) == 230 and listed[0]["fields"] == {"USD": 10.5}
    gets = [r for r in airtable.requests if r.method == "GET" and r.path.endswith(TABLE)]
    assert [g.param("offset") is None for g in gets] == [True, False, False]
    assert all(g.param("pageSize") == "100" for g in gets)
    assert len(manager.run("at", "list_records", {"base": BASE, "table": TABLE, "limit": "5"})) == 5


def test_table_names_are_path_encoded_and_formula_filters(manager, airtable) -> None:
    airtable.tables[BASE]["Spend by model"] = []
    _connect(manager, airtable)
    manager.run("at", "create_records", {"base": BASE, "table": "Spend by model", "records": _rows(2)})
    assert [r.path for r in airtable.requests if r.method == "POST"] == [f"/v0/{BASE}/Spend%20by%20model"]
    found = manager.run("at", "list_records", {"base": BASE, "table": "Spend by model",
                                               "formula": "{Month}='2026-02'"})
    assert [r["fields"]["USD"] for r in found] == [11.5]


def test_update_and_delete_by_id(manager, airtable) -> None:
    _connect(manager, airtable)
    ids = manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": _rows(12)})["ids"]
    out = manager.run("at", "update_records", {"base": BASE, "table": TABLE,
                                               "records": [{"id": i, "fields": {"Notes": "checked"}} for i in ids]})
    assert out["updated"] == 12 and all(r["fields"]["Notes"] == "checked" for r in airtable.tables[BASE][TABLE])
    assert [len(r.json()["records"]) for r in airtable.requests if r.method == "PATCH"] == [10, 2]
    assert manager.run("at", "delete_records", {"base": BASE, "table": TABLE, "ids": ",".join(ids)}) == {"deleted": 12}
    assert [len(r.params("records")) for r in airtable.requests if r.method == "DELETE"] == [10, 2]
    assert airtable.tables[BASE][TABLE] == []
    with pytest.raises(InputError, match="record ids"):
        manager.run("at", "delete_records", {"base": BASE, "table": TABLE, "ids": "../x"})


def test_field_errors_name_the_field_and_a_failure_midway_says_what_was_written(manager, airtable) -> None:
    _connect(manager, airtable)
    with pytest.raises(E.InvalidRequest, match='Unknown field name: "Cost"') as err:
        manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": '[{"Cost": 1}]'})
    assert "case-sensitive" in err.value.hint
    with pytest.raises(E.InvalidRequest, match='Field "USD" cannot accept'):
        manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": '[{"USD": "12.5"}]'})
    manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": '[{"USD": "12.5"}]',
                                         "typecast": "true"})
    assert airtable.tables[BASE][TABLE][-1]["fields"] == {"USD": 12.5}
    rows = _rows(15)[:-1] + ', {"Cost": 1}]'  # the 16th record is bad: batch two fails after batch one
    with pytest.raises(E.InvalidRequest, match="after 10 of 16 records were written"):
        manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": rows})
    assert len(airtable.tables[BASE][TABLE]) == 11


def test_scope_and_base_access_are_permission_errors(manager, airtable) -> None:
    _connect(manager, airtable, READ_TOKEN, "ro")
    with pytest.raises(E.PermissionDenied, match="INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND|Invalid permissions") as err:
        manager.run("ro", "create_records", {"base": BASE, "table": TABLE, "records": _rows(1)})
    assert "data.records:write" in err.value.hint
    _connect(manager, airtable)
    with pytest.raises(E.PermissionDenied):
        manager.run("at", "list_records", {"base": OTHER_BASE, "table": TABLE})
    with pytest.raises(InputError, match="base id"):
        manager.run("at", "list_records", {"base": "appX/../meta", "table": TABLE})
    airtable.tokens.clear()
    with pytest.raises(E.AuthFailed, match="Authentication required"):
        manager.run("at", "list_bases", {})


@pytest.mark.parametrize("body", [None, {}, {"error": {"type": "TOO_MANY_REQUESTS"}}])
def test_429_waits_30_seconds_whatever_its_body(manager, airtable, waits, body) -> None:
    _connect(manager, airtable)
    airtable.inject(airtable.rate_limited(body))
    out = manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": _rows(1)})
    assert out["created"] == 1 and waits == [30.0] and len(airtable.tables[BASE][TABLE]) == 1


def test_a_5xx_on_create_is_not_repeated(manager, airtable, waits) -> None:
    _connect(manager, airtable)
    airtable.inject(airtable.error(503, "SERVICE_UNAVAILABLE", "Service unavailable"))
    with pytest.raises(E.ServiceUnavailable):
        manager.run("at", "create_records", {"base": BASE, "table": TABLE, "records": _rows(1)})
    assert len([r for r in airtable.requests if r.method == "POST"]) == 1 and waits == []
    airtable.inject(airtable.error(503, "SERVICE_UNAVAILABLE", "Service unavailable"))
    assert manager.run("at", "list_records", {"base": BASE, "table": TABLE}) == []
    assert waits == [0.5]  # a GET is retried, with backoff rather than the 429's 30 s
