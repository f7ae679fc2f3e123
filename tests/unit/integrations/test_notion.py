"""Notion against its fake: token and Notion-Version headers, report rows in a data source, blocks, errors, 429/529."""

from __future__ import annotations

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.notion import NOTION_VERSION, check_id
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.notion import DB_ID, SOURCE_ID, TOKEN, TWO_SOURCES_DB, UNSHARED_DB, NotionFake

DB_URL = f"https://www.notion.so/acme/AI-spend-{DB_ID.replace('-', '')}?v=abc"


@pytest.fixture
def notion():  # type: ignore[no-untyped-def]
    with serving(NotionFake()) as fake:
        yield fake


def _connect(manager, notion) -> None:  # type: ignore[no-untyped-def]
    manager.connect("notion", {"token": TOKEN}, name="wiki", urls={"api": notion.base_url + "/v1"})


def test_connection_test_sends_the_token_and_the_pinned_version(manager, notion) -> None:
    _connect(manager, notion)
    assert manager.store.get("wiki").status_message == "bot 'AI Cost Tracker' in workspace Acme"
    req = notion.requests_to("/v1/users/me")[0]
    assert req.header("authorization") == f"Bearer {TOKEN}" and req.header("notion-version") == NOTION_VERSION


def test_a_weekly_report_row_goes_to_the_databases_data_source(manager, notion) -> None:
    _connect(manager, notion)
    out = manager.run("wiki", "report_row", {"database_id": DB_URL, "title": "Week 34: $412.37",
                                              "spend": "412.37", "period_start": "2026-08-17",
                                              "period_end": "2026-08-23", "provider": "OpenAI",
                                              "summary": "OpenAI $300.00\nAnthropic $112.37"})
    row = notion.rows[0]
    assert out == {"id": row["id"], "url": row["url"]}
    create = notion.requests_to("/v1/pages")[0].json()
    assert create["parent"] == {"type": "data_source_id", "data_source_id": SOURCE_ID}
    assert create["properties"] == {"Name": {"title": [{"type": "text", "text": {"content": "Week 34: $412.37"}}]},
                                    "Spend USD": {"number": 412.37},
                                    "Period": {"date": {"start": "2026-08-17", "end": "2026-08-23"}},
                                    "Provider": {"select": {"name": "OpenAI"}}}
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in notion.blocks[row["id"]]] == \
        ["OpenAI $300.00", "Anthropic $112.37"]
    with pytest.raises(InputError, match="number"):
        manager.run("wiki", "report_row", {"database_id": DB_ID, "title": "x", "spend": "lots",
                                           "period_start": "2026-08-01"})


def test_append_blocks_splits_long_text_and_batches_of_100(manager, notion) -> None:
    _connect(manager, notion)
    page = manager.run("wiki", "report_row", {"database_id": DB_ID, "title": "t", "spend": "1",
                                               "period_start": "2026-08-01"})["id"]
    text = "\n".join(f"line {i}" for i in range(150)) + "\n" + "x" * 4500
    assert manager.run("wiki", "append_blocks", {"page_id": page, "text": text}) == {"ok": True, "appended": 151}
    patches = [r for r in notion.requests if r.method == "PATCH"]
    assert [len(r.json()["children"]) for r in patches] == [100, 51]
    assert [len(t["text"]["content"]) for t in patches[1].json()["children"][-1]["paragraph"]["rich_text"]] == \
        [2000, 2000, 500]
    content = manager.run("wiki", "read_page", {"page_id": page})
    assert len(content) == 151 and content[0] == {"id": content[0]["id"], "type": "paragraph", "text": "line 0"}
    assert content[-1]["text"] == "x" * 4500
    with pytest.raises(E.InvalidRequest, match="nothing to append"):
        manager.run("wiki", "append_blocks", {"page_id": page})


def test_query_follows_cursors_and_update_page(manager, notion) -> None:
    _connect(manager, notion)
    ids = [manager.run("wiki", "report_row", {"database_id": DB_ID, "title": f"w{i}", "spend": str(i),
                                               "period_start": "2026-08-01"})["id"] for i in range(3)]
    rows = manager.run("wiki", "query", {"database_id": DB_ID, "limit": "150"})
    assert [r["id"] for r in rows] == ids
    notion.rows *= 40  # 120 rows: two pages of 100 and 20
    assert len(manager.run("wiki", "query", {"database_id": DB_ID, "limit": "150"})) == 120
    assert [r.json().get("start_cursor") for r in notion.requests_to(f"/v1/data_sources/{SOURCE_ID}/query")][-2:] == \
        [None, "100"]
    out = manager.run("wiki", "update_page", {"page_id": ids[0], "properties": '{"Spend USD": {"number": 9.5}}'})
    assert out["id"] == ids[0] and notion.pages[ids[0]]["properties"]["Spend USD"]["number"] == 9.5


def test_errors_name_the_fix(manager, notion) -> None:
    _connect(manager, notion)
    with pytest.raises(E.NotFound, match="object_not_found") as err:
        manager.run("wiki", "report_row", {"database_id": UNSHARED_DB, "title": "x", "spend": "1",
                                           "period_start": "2026-08-01"})
    assert "Connections" in err.value.hint
    with pytest.raises(E.InvalidRequest, match="Cost is not a property that exists") as err:
        manager.run("wiki", "report_row", {"database_id": DB_ID, "title": "x", "spend": "1",
                                           "period_start": "2026-08-01", "spend_property": "Cost"})
    assert "columns" in err.value.hint
    with pytest.raises(E.InvalidRequest, match="2 matching data sources"):
        manager.run("wiki", "query", {"database_id": TWO_SOURCES_DB})
    assert len(manager.run("wiki", "query", {"database_id": TWO_SOURCES_DB, "data_source": "AI spend"})) == 0
    with pytest.raises(InputError, match="Notion id"):
        manager.run("wiki", "read_page", {"page_id": "../users/me"})
    notion.tokens.clear()
    with pytest.raises(E.AuthFailed, match="unauthorized"):
        manager.run("wiki", "read_page", {"page_id": DB_ID})
    assert manager.store.get("wiki").status == "error"


def test_a_refused_token_is_not_stored(manager, notion, keychain) -> None:
    with pytest.raises(E.AuthFailed):
        manager.connect("notion", {"token": "ntn_" + "0" * 40}, urls={"api": notion.base_url + "/v1"})
    assert manager.connections() == [] and not keychain._data


def test_the_fake_refuses_a_request_without_a_version(notion) -> None:
    import httpx
    resp = httpx.get(notion.base_url + "/v1/users/me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 400 and resp.json()["code"] == "missing_version"


@pytest.mark.parametrize("limit", ["rate_limited", "overloaded"])
def test_429_and_529_wait_retry_after_even_for_a_post(manager, notion, waits, limit) -> None:
    _connect(manager, notion)
    notion.inject(notion.rate_limited(2) if limit == "rate_limited" else notion.overloaded(3))
    manager.run("wiki", "report_row", {"database_id": DB_ID, "title": "x", "spend": "1", "period_start": "2026-08-01"})
    assert waits == ([2.0] if limit == "rate_limited" else [3.0]) and len(notion.rows) == 1
    notion.inject(notion.rate_limited(60))
    notion.inject(notion.rate_limited(60))
    notion.inject(notion.rate_limited(60))
    with pytest.raises(E.RateLimited) as err:
        manager.run("wiki", "read_page", {"page_id": notion.rows[0]["id"]})
    assert err.value.retry_after == 60.0


def test_a_5xx_on_append_is_not_repeated(manager, notion) -> None:
    _connect(manager, notion)
    page = manager.run("wiki", "report_row", {"database_id": DB_ID, "title": "t", "spend": "1",
                                               "period_start": "2026-08-01"})["id"]
    notion.inject(notion.error(500, "internal_server_error", "Unexpected error occurred."))
    with pytest.raises(E.ServiceUnavailable):
        manager.run("wiki", "append_blocks", {"page_id": page, "text": "once"})
    assert len([r for r in notion.requests if r.method == "PATCH"]) == 1


def test_ids_come_from_urls_dashed_or_not() -> None:
    assert check_id("p", DB_URL) == DB_ID.replace("-", "")
    assert check_id("p", DB_ID) == DB_ID
    assert check_id("p", f"https://www.notion.so/Cafe-{DB_ID.replace('-', '')}") == DB_ID.replace("-", "")
    with pytest.raises(InputError):
        check_id("p", "1234")
