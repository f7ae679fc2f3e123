#!/bin/sh
# Check the import contracts and types, then run the whole test suite with coverage: sh scripts/test.sh [pytest args...]
# Creates .venv with a Python >= 3.11 and installs -e .[test] (only when pyproject.toml changes).
# Widget tests run offscreen; e2e tests start their own Xvfb. Tests needing a service that is
# not there (PostgreSQL: AICOST_TEST_POSTGRES_URL, a keychain, Xvfb) skip with a reason.
set -eu
cd "$(dirname "$0")/.."
. scripts/_venv.sh

# Byte-code is cached as modules are imported: the suite starts many Python processes (CLI, gateway, GUI,
# workers), and with PYTHONDONTWRITEBYTECODE set (some CI images set it) each would compile the app's modules
# again (and pytest could not keep its rewritten test modules between runs). So pip need not compile the
# ~20,000 files of the test dependencies up front either (10 s of a 40 s install; most are never imported).
unset PYTHONDONTWRITEBYTECODE

ensure_venv
ensure_installed .aicost-installed-test ".[test]" --no-compile

# The frozen-app tests (tests/e2e/test_installer.py) need the installer: PyInstaller is about a minute of one
# core. In a full run (no pytest arguments) where they run (CI, or AICOST_E2E_INSTALLER=1), it starts here, so it
# overlaps the type check, which leaves a core idle, and the collection; the tests' own build.sh call waits on
# its lock, then reuses what this one built (tests/e2e/installer_build.py).
EARLY_BUILD=""
case "${CI:-}" in 1|true|True|TRUE|yes) e2e=1 ;; *) e2e="${AICOST_E2E_INSTALLER:-0}" ;; esac
if [ "$#" -eq 0 ] && [ "$e2e" = 1 ] && [ "$(uname -s)" = Linux ] && command -v dpkg-deb >/dev/null 2>&1 \
    && command -v ldd >/dev/null 2>&1 && command -v objdump >/dev/null 2>&1; then
    mkdir -p build
    # zstd packs the tree in seconds where dpkg-deb has it (xz takes a minute), as the tests ask for
    if dpkg-deb --help 2>/dev/null | grep -q zstd; then compression=zstd; else compression=gzip; fi
    AICOST_DEB_COMPRESSION=$compression setsid bash installer/build.sh --reuse \
        >build/installer-build-early.log 2>&1 </dev/null &
    EARLY_BUILD=$!
    # Stopped with its children if this script ends first (a failed check, Ctrl-C).
    trap 'if [ -n "$EARLY_BUILD" ]; then kill -TERM -- "-$EARLY_BUILD" 2>/dev/null || true; fi' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
fi

# Import contracts first (pyproject.toml [tool.importlinter]: Qt only in ui/, layers pointing one way):
# a broken contract fails the run before any test starts.
"$VENV/bin/lint-imports" --no-cache
# pytest rewrites each test module's asserts on import and caches the result (tests/**/__pycache__/*-pytest-*.pyc);
# on a fresh checkout every worker would rewrite all of them at once, as they collect the same files at the same
# time (~4 s of CPU each). In a full run with a cold cache one collection fills it first, beside the type check.
PREWARM=""
if [ "$#" -eq 0 ] && ! ls tests/__pycache__/conftest.*-pytest-*.pyc >/dev/null 2>&1; then
    # (without the caller's PYTEST_ADDOPTS: CI's report options name the coverage plugin this run leaves out)
    PYTEST_ADDOPTS="" QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$VENV/bin/python" -m pytest --collect-only -q \
        -p no:cacheprovider -p no:cov -n 0 >/dev/null 2>&1 </dev/null &
    PREWARM=$!
fi
# Types ([tool.mypy]: the Qt-free core, strict): one error fails the run, again before any test.
"$VENV/bin/mypy"
# A collection error is reported by the run itself: the warm-up's outcome does not matter.
if [ -n "$PREWARM" ]; then wait "$PREWARM" || true; fi

export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
# The app's and the tests' own modules are compiled once up front, on every core.
"$VENV/bin/python" -m compileall -q -j 0 src tests >/dev/null
# One worker per core, and one more on a machine of up to 4 cores: many tests wait on a process or a socket they
# started, and a third worker on 2 cores fills those waits (240 s instead of 252 s on this 2-core VM, the installer
# build beside them). AICOST_TEST_WORKERS=N for another count, 0 runs in this process (e.g. for a debugger);
# worksteal keeps all busy to the end though test lengths differ by 1000x.
workers="${AICOST_TEST_WORKERS:-}"
if [ -z "$workers" ]; then
    cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
    if [ "$cores" -le 4 ]; then workers=$((cores + 1)); else workers=$cores; fi
fi
# Coverage prints its total (and fails under 80%); the per-file table is `.venv/bin/coverage report` afterwards, from
# the data this run keeps in .coverage: pytest-cov analyses every source file once for the total and once more for a
# table, ~3 s of one core at the end of the run, after every worker has finished.
"$VENV/bin/python" -m pytest -n "$workers" --dist worksteal \
    --cov=aicost_desktop --cov-report= --cov-fail-under=80 "$@"
