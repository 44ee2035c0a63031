#!/usr/bin/env bash
# Sets up (Debian packages, .venv; fast when done) and starts NoduleLens on the built-in demo scan.
# Extra arguments go to the `nodulelens` command, e.g. `scripts/run.sh open PATH`.
# On a machine without a display it runs under a virtual X server (xvfb-run).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  echo "run: no display found; starting under a virtual X server (xvfb-run)" >&2
  exec xvfb-run -a -s "-screen 0 1920x1200x24" "$repo/.venv/bin/nodulelens" "$@"
fi
exec "$repo/.venv/bin/nodulelens" "$@"
