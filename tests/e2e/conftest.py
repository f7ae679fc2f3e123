"""End-to-end session plumbing: the installer build starts in the background when collection ends and the
frozen-app tests run last, so PyInstaller (about a minute of one core) overlaps the rest of the suite."""

from __future__ import annotations

import pytest

from tests.e2e.installer_build import BUILD, InstallerBuild, can_build, starts_in_background

INSTALLER_TESTS = "test_installer.py"


def _is_installer_test(item: pytest.Item) -> bool:
    return item.path.name == INSTALLER_TESTS and item.path.parent.name == "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    installer = [item for item in items if _is_installer_test(item)]
    if not installer or len(installer) == len(items):
        return
    items[:] = [item for item in items if not _is_installer_test(item)] + installer


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if can_build() and starts_in_background() and any(_is_installer_test(item) for item in session.items):
        session.config.stash[BUILD] = InstallerBuild()


def pytest_unconfigure(config: pytest.Config) -> None:
    build = config.stash.get(BUILD, None)
    if build is not None:
        build.stop()

