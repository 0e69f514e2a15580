#!/usr/bin/env bash
# The main job: set up if needed, then sim-in-the-loop, headless, lockstep, with the bundled
# default policy walking forward; the front-right knee goes limp half-way (the method's
# out-of-distribution case); everything is recorded to an MCAP bag and summarised.
# Extra arguments go to `memaug sim` (e.g. --duration 60 --cmd-vel 0.3 0 0.5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"
# shellcheck source=ros_env.sh
source "$root/scripts/ros_env.sh"
cd "$root"
stamp=$(date +%Y%m%d-%H%M%S)
bag="runs/bags/demo-$stamp"
mkdir -p runs/bags
.venv/bin/memaug sim --duration 20 --scenario right_front_knee_limp --cmd-vel 0.5 0 0 \
  --record "$bag" --summary-json "$bag.summary.json" "$@"
.venv/bin/memaug report "$bag"
