#!/usr/bin/env bash
# The main job on the bundled samples: sets up .venv on a fresh clone, then curates samples/raw into
# runs/samples (splits, rejects, report.html, exports for OpenAI and Hugging Face).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/curate ] || bash scripts/setup.sh
. .venv/bin/activate
curate inspect samples/raw
curate run samples/curation.yaml --out runs/samples "$@"
echo "open runs/samples/report.html"
