"""Checks beside the suite, through the policy node's own controller on the suite's simulator.

    .venv/bin/python training/go2_memaug_v10/extra_checks.py OPEN.onnx LOOP.onnx [OTHER.onnx ...] > extra_checks.txt

For each model: the calves' posture on the nominal robot at 0.5 m/s (10 s, seed 0, the last
two thirds), each rear joint and front hip going limp at 5 s (nominal robot, 3 seeds), and
nominal forward and heavy-joint yaw (seed 0), which show what the velocity loop adds when the
same actor is given with and without it.
"""

import sys
from pathlib import Path

import numpy as np

from memaug_common.description import load_robot_description
from memaug_train import robustness as rb
from memaug_train.composite import heavy_joints
from memaug_train.robustness import SuitePoint, run_point

GO2 = load_robot_description("go2")
CALVES = [GO2.joint_names.index(name) for name in GO2.joint_names if name.endswith("calf_joint")]
LIMP = (
    "RL_hip_joint",
    "RR_hip_joint",
    "RL_thigh_joint",
    "RR_thigh_joint",
    "RL_calf_joint",
    "RR_calf_joint",
    "FL_hip_joint",
    "FR_hip_joint",
)
trace: list[np.ndarray] = []


class Recording(rb.Simulator):
    """The suite's simulator, recording base height and joint angles at every physics step."""

    def step(self) -> None:
        super().step()
        trace.append(np.concatenate([[self.data.qpos[2]], self.data.qpos[self.index.qpos]]))


rb.Simulator = Recording  # type: ignore[misc]
for path in sys.argv[1:]:
    controller = rb.PolicyController(rb.load_policy(Path(path)), GO2)
    trace.clear()
    run = run_point(controller, GO2, SuitePoint("nominal", True), "forward", 0, 10.0)
    kept = np.array(trace[len(trace) // 3 :])
    calves, stop = kept[:, 1:][:, CALVES], GO2.upper_limits[CALVES[0]]
    print(
        f"{path}: nominal forward {run.velocity[0]:.2f} m/s; base {kept[:, 0].mean():.3f} m; calves mean "
        f"{calves.mean():.2f} rad, highest {calves.max():.2f} (upper stop {stop:.2f})"
    )
    yaw = run_point(controller, GO2, SuitePoint("heavy", True, heavy_joints(GO2.randomization)), "yaw", 0, 10.0)
    print(f"{path}: heavy joints, yaw command 0.6 rad/s: {yaw.velocity[2]:.2f} rad/s")
    for joint in LIMP:
        runs = [
            run_point(controller, GO2, SuitePoint(joint, True, limp_joint=joint), "forward", s, 10.0) for s in range(3)
        ]
        speeds = [round(float(r.velocity[0]), 2) for r in runs if not r.fell]
        knees = max(r.knee_contact_s for r in runs)
        print(
            f"{path}: {joint} limp: falls {sum(r.fell for r in runs)} of 3, speeds {speeds} m/s, "
            f"knees down {knees:.1f} s"
        )
