"""Shared sync fixtures (runtime unit tests and GUI tests): the OpenRouter fake, its pinned clock, a Runtime."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import pytest

from aicost_desktop.runtime import Runtime
from aicost_desktop.sync.http import HttpPolicy
from tests.fakes.openrouter_fake import TODAY, OpenRouterFake

NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc).replace(hour=12)  # the fake's "now"
FAST = HttpPolicy(sleep=lambda s: None)  # retries without waiting


@pytest.fixture
def openrouter() -> Iterator[OpenRouterFake]:
    with OpenRouterFake() as server:
        yield server


@pytest.fixture
def runtime(ctx) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """A Runtime on the test's ctx with the fake's clock; not started (tests tick it), stopped at the end."""
    rt = Runtime(ctx, clock=lambda: NOW, policy=FAST, alert_interval_s=3600)
    yield rt
    rt.stop(wait_s=10)
