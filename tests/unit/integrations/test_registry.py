"""Every spec is complete: unique ids, a setup guide that exists, fields the auth methods name, typed actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import registry
from aicost_desktop.integrations.spec import ActionParam, ParamType

ROOT = Path(__file__).resolve().parents[3]


def test_specs_are_complete_and_their_guides_exist() -> None:
    specs = registry.specs()
    assert [s.id for s in specs] == ["slack", "discord", "email", "sendgrid", "twilio", "github", "trello", "notion",
                                     "google_sheets", "airtable", "stripe", "webhook"]
    index = (ROOT / "docs/integrations/README.md").read_text()
    for s in specs:
        assert (ROOT / s.docs).is_file(), s.docs
        assert s.description and s.icon and s.auth_methods and s.actions and s.test.rule
        assert len({m.key for m in s.auth_methods}) == len(s.auth_methods)
        for m in s.auth_methods:
            assert set(m.fields) <= {f.key for f in s.fields}
        assert any(f.secret for f in s.fields), f"{s.id} has no secret: where is its credential?"
        assert f"]({Path(s.docs).name})" in index, f"{s.docs} is not in the docs index"


def test_param_coercion_from_text() -> None:
    assert ActionParam("n", "N", ParamType.INT).coerce("12") == 12
    assert ActionParam("b", "B", ParamType.BOOL).coerce("yes") is True
    assert ActionParam("l", "L", ParamType.LIST).coerce("a, b,,c") == ["a", "b", "c"]
    assert ActionParam("j", "J", ParamType.JSON).coerce('[{"x": 1}]') == [{"x": 1}]
    for ptype, bad in ((ParamType.INT, "1.5"), (ParamType.BOOL, "maybe"), (ParamType.JSON, "{"),
                       (ParamType.JSON, "3"), (ParamType.EMAIL, "a@b"), (ParamType.PHONE, "0123"),
                       (ParamType.URL, "ftp://x")):
        with pytest.raises(InputError):
            ActionParam("p", "P", ptype).coerce(bad)
    with pytest.raises(InputError, match="required"):
        ActionParam("p", "P", required=True).coerce("")
    with pytest.raises(InputError, match="takes"):
        registry.get("slack").action("post_message").validate({"chanel": "C1"})
