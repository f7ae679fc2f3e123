"""GUI fixtures: a LedgerBus, a private thread pool, a Runtime (not started) and the Services built over them."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest  # noqa: E402

from tests.unit.runtime.sync_fixtures import NOW, FAST, openrouter, runtime  # noqa: E402,F401 - shared fixtures

# The headless `offscreen` plugin warns on every QMainWindow with a layout; it says nothing about us.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/ui" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def _collect_on_gui_thread():  # type: ignore[no-untyped-def]
    """Widgets a test left in reference cycles (pyqtgraph items, closed dialogs) are freed after it, on the
    GUI thread: left to a later cycle collection they died wherever it ran, once inside Qt's restyle of
    every widget in another test (a segfault in CI). Then what lives on is frozen out of later full passes,
    so each of these collections walks only what the test made."""
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture
def bus(qtbot):
    from aicost_desktop.ui.bus import LedgerBus

    b = LedgerBus(delay_ms=20)
    yield b
    b.close()


@pytest.fixture
def pool():
    from PySide6.QtCore import QThreadPool

    p = QThreadPool()
    p.setMaxThreadCount(2)
    yield p
    p.waitForDone(10_000)


@pytest.fixture
def services(ctx, pool, bus, runtime):
    """The window shell's construction (build_services) over the test's runtime; adapters closed at the end."""
    from aicost_desktop.ui.services import build_services

    s = build_services(ctx, runtime, pool=pool, bus=bus)
    yield s
    runtime.stop(wait_s=10)
    s.close()


@pytest.fixture
def make_window(qtbot, ctx):
    """Builds main windows on the test's ctx (each makes and stops its own runtime); shut down at the end."""
    from aicost_desktop.ui.main_window import MainWindow

    made: list[MainWindow] = []

    def make() -> MainWindow:
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()
