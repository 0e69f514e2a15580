"""Commands at the ends of a policy's trained command ranges, with and without its velocity loop.

    .venv/bin/python training/go2_memaug_v10/range_edges.py OPEN.onnx LOOP.onnx > range_edges.txt

The commands come from each model's own command ranges: vx at both ends, the yaw rate at its
top alone and with vy 0.3, and vy at its top. Each model: 9 dynamics points (the suite's
heavy joints among them) x 5 commands x 2 seeds, 10 s each, through the suite's run_point.
Prints each point's last run, every fall or joint over its velocity limit, and the falls.
"""

import sys

from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_sim.dynamics import Dynamics
from memaug_train import robustness as rb
from memaug_train.composite import heavy_joints
from memaug_train.robustness import SuitePoint, run_point

GO2 = load_robot_description("go2")
POINTS = [
    SuitePoint("nominal", True),
    SuitePoint("heavy joints", True, heavy_joints(GO2.randomization)),
    SuitePoint("damping 3", False, Dynamics(joint_damping=3.0)),
    SuitePoint("kp x0.5", False, Dynamics(kp_scale=0.5, kd_scale=0.5)),
    SuitePoint("friction 0.3", True, Dynamics(ground_friction=0.3)),
    SuitePoint("friction 0.1", False, Dynamics(ground_friction=0.1)),
    SuitePoint("strength 0.6", False, Dynamics(motor_strength=0.6)),
    SuitePoint("push 1.5", False, push_m_s=1.5),
    SuitePoint("right knee limp d2", True, Dynamics(joint_damping=2.0), limp_joint="FR_calf_joint"),
]


def edge_commands(ranges: dict) -> dict[str, tuple[float, float, float]]:
    """The ends of the trained ranges, as named commands (vx, vy m/s, yaw rate rad/s)."""
    (vx_low, vx_high), vy_high, wz_high = ranges["vx"], ranges["vy"][1], ranges["yaw_rate"][1]
    return {
        f"vx {vx_high:g}": (vx_high, 0.0, 0.0),
        f"vy 0.3 wz {wz_high:g}": (0.0, 0.3, wz_high),
        f"vx {vx_low:g}": (vx_low, 0.0, 0.0),
        f"wz {wz_high:g}": (0.0, 0.0, wz_high),
        f"vy {vy_high:g}": (0.0, vy_high, 0.0),
    }


for path in sys.argv[1:]:
    model = load_policy(path)
    controller = PolicyController(model, GO2)
    commands = edge_commands(model.metadata.command_ranges)
    rb.COMMANDS.update(commands)
    falls = 0
    for point in POINTS:
        for command in commands:
            for seed in (0, 1):
                r = run_point(controller, GO2, point, command, seed, 10.0, GO2.randomization)
                falls += r.fell
                if r.fell or r.peak_speed_fraction > 1.0:
                    flag = "FELL" if r.fell else ""
                    print(path, point.name, command, seed, flag, f"peak {r.peak_speed_fraction:.2f}", flush=True)
            print(
                path,
                point.name,
                command,
                f"v {r.velocity.round(2).tolist()} peak {r.peak_speed_fraction:.2f}",
                flush=True,
            )
    print(path, "falls", falls, flush=True)
