#!/bin/sh
# Run AI Cost Tracker Desktop from a source checkout: sh scripts/run.sh [--home DIR] [--demo] ...
# Creates .venv with a Python >= 3.11 on first use; reinstalls only when pyproject.toml changes.
set -eu
cd "$(dirname "$0")/.."
. scripts/_venv.sh

ensure_venv
# A [test] install is a superset of the plain one: accept either stamp.
want="$(project_checksum)"
if ! { [ -f "$VENV/.aicost-installed-test" ] && [ "$(cut -d' ' -f1 "$VENV/.aicost-installed-test")" = "$want" ] \
       && [ -x "$VENV/bin/aicost-desktop" ]; }; then
    ensure_installed .aicost-installed-run .
fi
exec "$VENV/bin/aicost-desktop" "$@"
