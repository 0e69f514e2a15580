#!/usr/bin/env bash
# Idempotent set-up: a virtual environment at .venv with memaug and its pinned dependencies.
# Quick on a second run: it reinstalls only when requirements or package manifests change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "memaug needs Python 3.11 or newer as '$python' (set PYTHON=... to choose another)" >&2
  exit 1
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "memaug's pinned wheels (ROS 2 Kilted, MuJoCo, ONNX Runtime) are for x86_64 Linux" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$python" -m venv .venv
fi

stamp=.venv/.memaug-stamp
want=$(cat requirements.txt requirements-dev.txt src/*/setup.py src/*/package.xml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "bootstrap: installing dependencies into .venv (first run takes a minute or two)"
log=.venv/bootstrap.log
packages=()
for pkg in src/*/; do packages+=(-e "$pkg"); done
if ! {
  .venv/bin/python -m pip install --upgrade pip &&
  .venv/bin/python -m pip install -r requirements-dev.txt &&
  .venv/bin/python -m pip install --no-deps "${packages[@]}"
} >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "bootstrap: pip failed; full log in $log" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "bootstrap: ready"
