"""The suite's hard rows for exported policies, at fixed dynamics points.

    .venv/bin/python training/after_v4_ice/suite_rows.py POLICY.onnx [...] [--seeds N]

The suite (``memaug_train robustness``) takes its points from the robot description's ranges;
these are fixed so that policies trained on different friction ranges are judged on the same
rows: nominal, lateral at joint damping 3 and at kp/kd x0.5, ground friction 0.3 and 0.1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memaug_common.description import load_robot_description
from memaug_sim.dynamics import Dynamics
from memaug_train.robustness import SuitePoint, format_table, run_suite

LATERAL = ("lateral",)
POINTS = (
    SuitePoint("nominal", True, commands=("forward", "lateral")),
    SuitePoint("joint damping 3", False, Dynamics(joint_damping=3.0), commands=LATERAL),
    SuitePoint("kp x0.5 kd x0.5", False, Dynamics(kp_scale=0.5, kd_scale=0.5), commands=LATERAL),
    SuitePoint("ground friction 0.3", True, Dynamics(ground_friction=0.3), commands=("forward", "lateral")),
    SuitePoint("ground friction 0.1", False, Dynamics(ground_friction=0.1), commands=("forward", "lateral", "yaw")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policies", nargs="+")
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    go2 = load_robot_description("go2")
    for policy in args.policies:
        print(f"\n{policy}\n")
        print(format_table(run_suite(Path(policy), go2, POINTS, args.seeds, 10.0)), flush=True)


if __name__ == "__main__":
    main()
