#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's Chromium and an emoji font), type-check, and run
# every test.
# Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "emoji"; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Chromium for the browser tests (Debian package; Playwright never downloads a browser)..."
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi

# The type checker over lib/ and evaluator/ (pyproject.toml [tool.mypy]); after the install, so it sees
# the same packages every time.
python3 -m mypy

export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
python3 -m pytest "$@"
