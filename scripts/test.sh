#!/usr/bin/env bash
# The test command: ruff, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
ruff check curation ui tests scripts
python -m pytest "$@"
