"""The suite's own `no_cover` handling (tests/conftest.py): a test marked so runs untraced, in an xdist worker too."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest


@pytest.fixture
def coverage(request: pytest.FixtureRequest) -> Any:
    """The coverage module, in a run that measures coverage (the README's test command); else the test skips."""
    module = pytest.importorskip("coverage")
    if not request.config.pluginmanager.hasplugin("_cov") or request.config.getoption("no_cov", False):
        pytest.skip("coverage is not measured in this run [ci-ok]")
    return module


@pytest.mark.no_cover
def test_a_no_cover_test_and_its_threads_run_untraced(coverage: Any) -> None:
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(sys.gettrace()))
    worker.start()
    worker.join()
    # Under pytest-xdist (the README's test command) pytest-cov alone left a second measurement running here.
    assert coverage.Coverage.current() is None
    assert sys.gettrace() is None and seen == [None]


def test_other_tests_are_measured(coverage: Any) -> None:
    assert coverage.Coverage.current() is not None  # the no_cover test above restarted what it stopped
