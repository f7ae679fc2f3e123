#!/bin/sh
# Run AI Cost Tracker Desktop from a source checkout: sh scripts/run.sh [--home DIR] [--demo] ...
# Creates .venv with a Python >= 3.11 on first use; reinstalls only when pyproject.toml changes.
set -eu
cd "$(dirname "$0")/.."
. scripts/_venv.sh

ensure_venv
# A [test] or [build] install is a superset of the plain one: accept any current stamp.
if ! { stamp_current .aicost-installed-test || stamp_current .aicost-installed-build; }; then
    ensure_installed .aicost-installed-run .
fi
exec "$VENV/bin/aicost-desktop" "$@"
