#!/usr/bin/env bash
# Sets up (Debian packages, .venv; fast when done) and runs the whole test suite.
# GUI tests need an X server: tests/conftest.py starts Xvfb when DISPLAY is unset.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
exec .venv/bin/python -m pytest "$@"
