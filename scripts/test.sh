#!/usr/bin/env bash
# The test command: sets up .venv on a fresh clone, then ruff and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/curate ] || bash scripts/setup.sh
. .venv/bin/activate
ruff check curation ui tests scripts
python -m pytest "$@"
