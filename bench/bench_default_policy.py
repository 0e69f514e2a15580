"""The default policy's acceptance runs, through the real stack (issue 5).

    .venv/bin/python bench/bench_default_policy.py [--model go2_memaug.onnx] [--out DIR]

Each run is `memaug sim` (sim bridge + policy node + recorder as processes, gated lockstep,
ROS topics on loopback), summarised from its bag by memaug_bringup.summary:
  forward   60 s at 0.5 m/s, no fault: tracking error < 0.1 m/s, no fall
  yaw       20 s at 0.3 m/s with 0.6 rad/s yaw rate: follows the yaw command
  lateral   20 s at 0.3 m/s sideways: follows the lateral command
  ood_limp  20 s at 0.5 m/s, front-right knee limp at 10 s (the README's demo scenario,
            never simulated in training): no fall, speed after the fault >= 50 % of command
The baseline measured in the same run is the healthy forward run's own speed before the
fault time, so the after-fault speed reads as a fraction of what this policy does healthy.
Prints figures (and writes each summary JSON to --out); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memaug_common.testing import bench_domain, local_dds_env, resolve_executable


@dataclass(frozen=True)
class StackRun:
    name: str
    seconds: float
    cmd_vel: tuple[float, float, float]
    scenario: str


RUNS = (
    StackRun("forward", 60.0, (0.5, 0.0, 0.0), "none"),
    StackRun("yaw", 20.0, (0.3, 0.0, 0.6), "none"),
    StackRun("lateral", 20.0, (0.0, 0.3, 0.0), "none"),
    StackRun("ood_limp", 20.0, (0.5, 0.0, 0.0), "right_front_knee_limp"),
)


def run_stack(run: StackRun, model: str, folder: Path, domain: int) -> dict:
    summary = folder / f"{run.name}.summary.json"
    command = [
        resolve_executable("memaug"),
        "sim",
        "--duration",
        str(run.seconds),
        "--model",
        model,
        "--scenario",
        run.scenario,
        "--cmd-vel",
        *(str(v) for v in run.cmd_vel),
        "--record",
        str(folder / run.name),
        "--summary-json",
        str(summary),
        "--log-dir",
        str(folder / f"{run.name}-logs"),
    ]
    done = subprocess.run(command, env=local_dds_env(domain), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"memaug sim ({run.name}) failed:\n{done.stderr[-3000:]}")
    return json.loads(summary.read_text())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="go2_memaug.onnx", help="policy ONNX path or name in config/policies/")
    parser.add_argument("--out", default=None, help="folder for the bags and summaries (default: a temp folder)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these (forward, yaw, lateral, ood_limp)")
    args = parser.parse_args()
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-default-policy-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for slot, run in enumerate(RUNS):
        if args.only is None or run.name in args.only:
            results[run.name] = run_stack(run, args.model, folder, bench_domain(slot))
    print(f"stack runs of {args.model} (bags and summaries in {folder}):")
    print("| run | s | cmd (vx, vy, wz) | vx | vy | wz | track err (inst / 1 s) | after fault vx | falls |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in RUNS:
        s = results.get(run.name)
        if s is None:
            continue
        print(
            f"| {run.name} | {run.seconds:.0f} | {run.cmd_vel} | {s['mean_speed_mps']:.3f} | "
            f"{s['mean_lateral_speed_mps']:.3f} | {s['mean_yaw_rate_radps']:.3f} | "
            f"{s['velocity_tracking_error_mps']:.3f} / {s['velocity_tracking_error_1s_mps']:.3f} | "
            f"{s['mean_speed_after_first_fault_mps']:.3f} | {s['falls']} |"
        )
    if "forward" in results:
        f = results["forward"]
        ok = f["velocity_tracking_error_1s_mps"] < 0.1 and f["falls"] == 0
        print(f"forward 60 s at 0.5 m/s, tracking error < 0.1 m/s and no fall: {verdict(ok)}")
    if "ood_limp" in results:
        o = results["ood_limp"]
        after = o["mean_speed_after_first_fault_mps"]
        ok = o["falls"] == 0 and math.isfinite(after) and after >= 0.25
        healthy = results.get("forward", {}).get("mean_speed_mps", float("nan"))
        print(
            f"OOD front-right knee limp: after-fault speed {after:.3f} m/s = {after / 0.5:.0%} of the command, "
            f"{after / healthy:.0%} of the healthy run's {healthy:.3f} m/s; no fall and >= 50 %: {verdict(ok)}"
        )


if __name__ == "__main__":
    main()
