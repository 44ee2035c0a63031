#!/usr/bin/env bash
# Installs everything NoduleLens needs on a Debian machine, idempotently:
#  - Debian packages (Xvfb, Mesa, Qt's xcb libraries, dicom3tools, dcmtk) when run as root or with sudo;
#  - a virtual environment in .venv at the repository root, torch 2.13.0 (CPU) first, then the rest
#    under a constraint so nothing replaces that torch.
# Fast when already installed: a stamp in .venv records the hash of what was installed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

apt_packages=(libgl1 libegl1 libgl1-mesa-dri libosmesa6 libglib2.0-0 libxkbcommon0 libfontconfig1
  libdbus-1-3 xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 dicom3tools dcmtk
  orthanc orthanc-dicomweb poppler-utils)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo";
  else sudo="none"; fi
  if [ "$sudo" = none ]; then
    echo "setup: missing Debian packages (install them as root): ${missing[*]}" >&2
  else
    echo "setup: installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# OHIF's DICOM readers (dcmjs, @cornerstonejs/adapters) for the export tests, pinned by
# tests/js/package-lock.json; installed when the lock file changed.
if command -v npm >/dev/null; then
  js_want="$(cat tests/js/package.json tests/js/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ ! -f tests/js/node_modules/.nodulelens-installed ] ||
     [ "$(cat tests/js/node_modules/.nodulelens-installed)" != "$js_want" ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
    echo "$js_want" > tests/js/node_modules/.nodulelens-installed
  fi
else
  echo "setup: npm not found; the tests that read our exports with OHIF's readers will skip" >&2
fi

py="${PYTHON:-python3}"
stamp=".venv/.nodulelens-installed"
want="$(cat pyproject.toml scripts/constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip setuptools wheel
# torch first, exactly this version (a local CPU wheel where one is configured), then the rest.
"${pip[@]}" install "torch==2.13.0"
PIP_CONSTRAINT="$repo/scripts/constraints.txt" "${pip[@]}" install -e ".[test]"
echo "$want" > "$stamp"
echo "setup: .venv ready"
