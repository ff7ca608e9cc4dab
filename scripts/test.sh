#!/usr/bin/env bash
# Sets up everything the tests need and runs them: ruff, mypy and the pytest suite.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

# System packages some tests drive (as root, as in CI); without them those tests skip and say so.
# chromium: the browser tests (Playwright drives /usr/bin/chromium; it never downloads one).
# nginx and its brotli_static module: tests/test_export.py serves the static export with them;
# wrk: the benchmarks in bench/ (no test uses it).
# nodejs (and npm, below): axe-core and Lighthouse (package.json), for
# tests/test_accessibility.py and bench/lighthouse.py.
SYSTEM_PACKAGES=(chromium nginx libnginx-mod-http-brotli-static wrk nodejs newsboat)
if ((${#SYSTEM_PACKAGES[@]})) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  # Debian packages npm apart from nodejs; other nodejs builds (NodeSource) bring their own.
  command -v npm >/dev/null || dpkg -s npm >/dev/null 2>&1 || missing+=(npm)
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# npm packages pinned in package-lock.json, into ./node_modules; --ignore-scripts: no install
# script runs, so nothing downloads a browser (the tests use Debian's chromium).
if command -v npm >/dev/null; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

echo "== ruff check"; .venv/bin/ruff check .
echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== mypy feedsvc bench"; .venv/bin/mypy feedsvc bench
echo "== pytest"; .venv/bin/python -m pytest "$@"
