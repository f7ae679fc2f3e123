"""The test command turns the project's own warnings into errors (pyproject's filterwarnings), and only those."""

from __future__ import annotations

import warnings

import pytest


def test_a_warning_issued_by_an_aicost_module_fails_the_test() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old call", DeprecationWarning, "aicost_desktop/probe.py", 1,
                               module="aicost_desktop.probe")


def test_a_third_party_warning_stays_a_warning() -> None:
    with pytest.warns(DeprecationWarning):
        warnings.warn_explicit("their call", DeprecationWarning, "elsewhere.py", 1, module="elsewhere")
