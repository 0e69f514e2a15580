"""Does the Go2 bridge's 500 Hz loop keep time beside the ROS graph? The whole emulator stack.

    .venv/bin/python bench/bench_robot_loop.py [--seconds 30] [--variants default,fifo,fifo+emulator]

Runs `memaug robot --emulator` (emulator, bridge with its loop process, policy, recorder, TF
publisher: every process of a rehearsal, recording to a temporary bag) once per variant and
prints, from the same run:

- late ticks: the bridge loop's ticks that ended after their deadline, of all its ticks
  (its /diagnostics, read back from the bag by the run summary);
- rt/lowcmd rate against rt/lowstate rate: frames the emulator accepted from the bridge, over
  the rt/lowstate frames it published in the same window (from its first accepted command to
  its end): the baseline is the emulator's own rate in the same run;
- /joint_states recorded per second, and whether the run faulted.

Variants are target profiles written for the run (memaug_hardware.targets), differing only in
priorities: default (the emulator target as shipped), normal (both at normal priority), fifo
(loop_priority 80, emulator at normal priority), fifo+emulator (loop 80, emulator 70),
fifo+emulator+nodes (and the bridge node's and the policy node's processes at 50). The
machine's other load is printed with each row (load average), since this machine is shared.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from memaug_common.paths import config_dir
from memaug_common.testing import bench_domain, local_dds_env, resolve_executable

VARIANTS = {
    "default": None,  # config/targets/emulator.yaml as shipped
    "normal": {"loop": 0, "emulator": 0, "bridge_node": 0, "policy": 0},
    "fifo": {"loop": 80, "emulator": 0, "bridge_node": 0, "policy": 0},
    "fifo+emulator": {"loop": 80, "emulator": 70, "bridge_node": 0, "policy": 0},
    "fifo+emulator+nodes": {"loop": 80, "emulator": 70, "bridge_node": 50, "policy": 50},
}


def target_file(folder: Path, name: str) -> str:
    """The emulator target with the variant's priorities, as a YAML path (or the shipped name)."""
    change = VARIANTS[name]
    if change is None:
        return "emulator"
    profile = yaml.safe_load((config_dir() / "targets" / "emulator.yaml").read_text())
    bridge = {"loop_priority": change["loop"], "node_priority": change["bridge_node"]}
    profile["bridge"] = {**profile.get("bridge", {}), **bridge}
    profile["emulator_priority"] = change["emulator"]
    profile["policy_priority"] = change["policy"]
    path = folder / f"emulator_{name.replace('+', '_')}.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


def run(folder: Path, name: str, seconds: float, slot: int) -> str:
    bag, summary = folder / f"bag_{slot}", folder / f"summary_{slot}.json"
    logs = folder / f"logs_{slot}"
    command = [
        resolve_executable("memaug"), "robot", "--target", target_file(folder, name), "--duration", str(seconds),
        "--record", str(bag), "--summary-json", str(summary), "--log-dir", str(logs),
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    result = subprocess.run(
        command, env=local_dds_env(bench_domain(slot)), capture_output=True, text=True, timeout=seconds * 4 + 120
    )
    if not summary.exists():
        return f"  {name:22s} no summary (exit {result.returncode}): {result.stderr.strip()[-300:]}"
    data = json.loads(summary.read_text())
    counters = data["bridge_counters"]
    ticks, late = counters.get("ticks", 0), counters.get("late_ticks", 0)
    emulator = (logs / "memaug_go2_emulator.log").read_text()
    accepted = int(re.findall(r"frames accepted (\d+)", emulator)[-1])
    window = int(re.findall(r"\((\d+) since the first command\)", emulator)[-1])
    states = data["messages"].get("/joint_states", 0)
    faults = [f["reason"] for f in data["bridge_faults"]] + [s["reason"] for s in data["policy_stops"]]
    return (
        f"  {name:22s} late ticks {late}/{ticks} = {100.0 * late / max(ticks, 1):5.2f} %   "
        f"rt/lowcmd {accepted} / rt/lowstate {window} = {100.0 * accepted / max(window, 1):6.2f} %   "
        f"/joint_states {states / seconds:5.0f} Hz   walked {data['distance_m']:.1f} m   "
        f"faults {faults or 'none'}   load {load_before:.1f}-{os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="emulator seconds per run")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"bench_robot_loop: unknown variants {unknown}; known: {list(VARIANTS)}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench-robot-loop-"))
    print(f"memaug robot --emulator, {args.seconds:.0f} s per run, {os.cpu_count()} CPUs; bags in {folder}")
    slot = 0
    for _ in range(args.repeats):
        for name in names:
            print(run(folder, name, args.seconds, slot), flush=True)
            slot = (slot + 1) % 10
            time.sleep(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
