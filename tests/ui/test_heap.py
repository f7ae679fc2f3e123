"""ui/heap.py: no collections during startup, startup's objects frozen after it, collections back on."""

from __future__ import annotations

import gc

import pytest

from aicost_desktop.ui.heap import startup_heap


@pytest.fixture(autouse=True)
def _ordinary_heap():  # type: ignore[no-untyped-def]
    yield
    gc.unfreeze()
    gc.enable()


def test_startup_collects_nothing_then_freezes_what_it_built() -> None:
    gc.unfreeze()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with startup_heap() as settle:
        assert not gc.isenabled()
        built = [[i] for i in range(1000)]  # lists: objects the collector tracks
        settle()
        frozen = gc.get_freeze_count()
        assert gc.isenabled() and frozen >= 1000
        later = [[i] for i in range(1000)]
        settle()  # a second settle freezes nothing more
        assert gc.get_freeze_count() <= frozen and gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() >= len(built) and later


def test_a_startup_that_fails_before_settling_turns_collections_back_on() -> None:
    with pytest.raises(RuntimeError):
        with startup_heap():
            assert not gc.isenabled()
            raise RuntimeError("ledger cannot be opened")
    assert gc.isenabled()


def test_collections_a_caller_had_turned_off_stay_off() -> None:
    gc.disable()
    with startup_heap() as settle:
        settle()
        assert not gc.isenabled()
    assert not gc.isenabled()
