#!/usr/bin/env bash
# The main job: set up if needed, then run the sim-in-the-loop demo headless.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
# shellcheck source=ros_env.sh
source "$root/scripts/ros_env.sh"
exec "$root/.venv/bin/memaug_sim_demo" "$@"
