"""The installer build behind the frozen-app tests: installer/build.sh run once per session in its own process,
started as soon as collection ends (tests/e2e/conftest.py) so PyInstaller's minute overlaps the rest of the suite.
A full `sh scripts/test.sh` run starts it before the type check already; this call then waits on build.sh's lock
and reuses that build."""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import aicost_desktop

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
BUNDLE = DIST / "aicost-desktop"
# One log per pytest-xdist worker: each may run build.sh (the second waits on its lock, then reuses).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
LOG = ROOT / "build" / (f"installer-build-{WORKER}.log" if WORKER else "installer-build.log")
TOOLS = ("dpkg-deb", "ldd", "objdump")
ENABLED = os.environ.get("AICOST_E2E_INSTALLER") == "1" or os.environ.get("CI", "").lower() in ("1", "true", "yes")
TIMEOUT = 1200.0


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for child processes, without the coverage hooks of the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    env.pop("AICOST_HOME", None)
    env.update(extra)
    return env


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def can_build() -> bool:
    """Whether the installer tests will build at all (so a background start is not wasted)."""
    return ENABLED and sys.platform.startswith("linux") and not missing_tools()


def starts_in_background() -> bool:
    """Whether this process starts the build when collection ends: a plain run, or the first xdist worker
    (every worker collects the installer tests; another one that runs them waits on build.sh's lock)."""
    return WORKER in ("", "gw0")


def _deb_compression() -> str:
    # zstd packs the ~230 MB tree in seconds (xz takes over a minute); fall back where unsupported.
    help_text = subprocess.run(["dpkg-deb", "--help"], capture_output=True, text=True).stdout
    return "zstd" if "zstd" in help_text else "gzip"


class InstallerBuild:
    """One run of `installer/build.sh --reuse` (reuses dist/ when it is newer than every source file)."""

    def __init__(self) -> None:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self._log = LOG.open("w")
        # Its own process group, so a session that ends early stops PyInstaller's children too.
        self.proc = subprocess.Popen(
            ["bash", str(ROOT / "installer" / "build.sh"), "--reuse"], cwd=ROOT,
            env=clean_env(AICOST_DEB_COMPRESSION=_deb_compression()),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._result: dict[str, Path] | None = None

    def wait(self) -> dict[str, Path]:
        """The built artifacts; raises AssertionError with the build log's tail when the build failed."""
        if self._result is not None:
            return self._result
        try:
            rc = self.proc.wait(max(1.0, TIMEOUT - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"installer/build.sh did not finish in {TIMEOUT:.0f}s:\n{self.output()[-6000:]}")
        finally:
            self._log.close()
        out = self.output()
        assert rc == 0, f"installer/build.sh failed with {rc}:\n{out[-8000:]}"
        debs = sorted(glob.glob(str(DIST / f"aicost-desktop_{aicost_desktop.__version__}_*.deb")))
        assert debs, f"no .deb in {DIST}:\n{out[-3000:]}"
        size = re.search(r"bundle size: (\S+)", out)
        print(f"\ninstaller build: done {time.monotonic() - self.started:.0f}s after it started, "
              f"bundle {size.group(1) if size else '?'}")
        self._result = {"gui": BUNDLE / "aicost-desktop", "cli": BUNDLE / "aicost", "deb": Path(debs[-1])}
        return self._result

    def output(self) -> str:
        return LOG.read_text(errors="replace") if LOG.exists() else ""

    def stop(self) -> None:
        """Stop a build still running (the session ended before a test needed it)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if not self._log.closed:
            self._log.close()


BUILD = pytest.StashKey[InstallerBuild]()


def started_build(config: pytest.Config) -> InstallerBuild:
    """The build this session started in the background, or a new one (a run of the installer tests alone)."""
    build = config.stash.get(BUILD, None)
    if build is None:
        build = config.stash[BUILD] = InstallerBuild()
    return build
