#!/usr/bin/env bash
# The test job: set up if needed, then lint, type-check and run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
# shellcheck source=ros_env.sh
source "$root/scripts/ros_env.sh"
cd "$root"
# The warp backend's parity tests run on warp's CPU device, so the tests need memaug_train's gpu
# extra, which the default install leaves out (warp-lang is a CUDA build). Its pins are read
# from memaug_train's own metadata, so they live in setup.py alone.
gpu_extra=$(.venv/bin/python -c "from importlib.metadata import requires
print(' '.join(r.split(';')[0].strip() for r in requires('memaug_train') or [] if 'extra == \"gpu\"' in r))")
echo "== the gpu extra for the warp backend's tests: $gpu_extra"
.venv/bin/python -m pip install -q $gpu_extra
echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
