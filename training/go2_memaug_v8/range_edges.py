"""Commands at the ends of the trained ranges, with and without the velocity loop.

    .venv/bin/python training/go2_memaug_v8/range_edges.py OPEN.onnx LOOP.onnx > range_edges.txt

Each model: 8 dynamics points x 5 commands (vx 0.8, vx -0.4, yaw 0.8, vy 0.3 with yaw 0.8,
vy 0.45) x 2 seeds, 10 s each, through the suite's run_point. Prints each point's last run and
every fall or joint over its velocity limit.
"""

import sys

from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_sim.dynamics import Dynamics
from memaug_train import robustness as rb
from memaug_train.robustness import SuitePoint, run_point

GO2 = load_robot_description("go2")
rb.COMMANDS.update(
    {
        "vx 0.8": (0.8, 0.0, 0.0),
        "vy 0.3 wz 0.8": (0.0, 0.3, 0.8),
        "vx -0.4": (-0.4, 0.0, 0.0),
        "wz 0.8": (0.0, 0.0, 0.8),
        "vy 0.45": (0.0, 0.45, 0.0),
    }
)
points = [
    SuitePoint("nominal", True),
    SuitePoint("damping 3", False, Dynamics(joint_damping=3.0)),
    SuitePoint("kp x0.5", False, Dynamics(kp_scale=0.5, kd_scale=0.5)),
    SuitePoint("friction 0.3", True, Dynamics(ground_friction=0.3)),
    SuitePoint("friction 0.1", False, Dynamics(ground_friction=0.1)),
    SuitePoint("strength 0.6", False, Dynamics(motor_strength=0.6)),
    SuitePoint("push 1.5", False, push_m_s=1.5),
    SuitePoint("right knee limp d2", True, Dynamics(joint_damping=2.0), limp_joint="FR_calf_joint"),
]
for path in sys.argv[1:]:
    controller = PolicyController(load_policy(path), GO2)
    falls = 0
    for point in points:
        for command in ("vx 0.8", "vy 0.3 wz 0.8", "vx -0.4", "wz 0.8", "vy 0.45"):
            for seed in (0, 1):
                r = run_point(controller, GO2, point, command, seed, 10.0, GO2.randomization)
                falls += r.fell
                if r.fell or r.peak_speed_fraction > 1.0:
                    print(
                        path,
                        point.name,
                        command,
                        seed,
                        "FELL" if r.fell else "",
                        f"peak {r.peak_speed_fraction:.2f}",
                        flush=True,
                    )
            print(
                path,
                point.name,
                command,
                f"v {r.velocity.round(2).tolist()} peak {r.peak_speed_fraction:.2f}",
                flush=True,
            )
    print(path, "falls", falls, flush=True)
