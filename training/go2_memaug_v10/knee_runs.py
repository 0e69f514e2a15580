"""Per-run knee-down seconds on every front-knee-limp row of the suite (3 seeds, forward 0.5 m/s).

    .venv/bin/python training/go2_memaug_v10/knee_runs.py config/policies/go2_memaug.onnx > knee_runs.txt

The suite prints each row's mean knee time rounded to 0.1 s; this prints every run's, unrounded.
"""

import sys
from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_train import robustness as rb
from memaug_train.composite import full_suite

d = load_robot_description("go2")
legs = [n.split("_")[0] for n in d.joint_names]
points = [p for p in full_suite(d.randomization, legs) if p.limp_joint is not None]
controller = PolicyController(load_policy(sys.argv[1]), d)
worst = 0.0
for point in points:
    runs = [rb.run_point(controller, d, point, "forward", seed, 10.0, d.randomization) for seed in range(3)]
    knees = [round(r.knee_contact_s, 3) for r in runs]
    worst = max(worst, *knees)
    print(f"{point.name}: knees down {knees} s, fell {[r.fell for r in runs]}, speed {[round(float(r.velocity[0]), 2) for r in runs]}")
print(f"worst run: {worst:.3f} s of knee contact in 10 s")
