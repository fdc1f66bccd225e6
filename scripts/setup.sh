#!/usr/bin/env bash
# Create .venv and install curation with every extra. torch==2.13.0 first: it is the CPU build on this
# disk; any other torch request would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
rm -rf .venv
"$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[train,ui,eval,dev,fast,semantic,ray,mistral]'
# An editable install leaves the package uncompiled; where PYTHONDONTWRITEBYTECODE is set (as on this machine)
# every worker process would then compile ~70 modules from source at start (~0.25 CPU-s each).
python -m compileall -q curation ui >/dev/null
# Debian's chromium for the browser tests (playwright cannot download browsers here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
      echo "warning: could not install chromium; browser tests will fail" >&2
  else
    echo "warning: install Debian's chromium (sudo apt-get install chromium) for the browser tests" >&2
  fi
fi
