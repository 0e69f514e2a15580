"""How hard the actor answers its velocity estimate: the loop's gain, measured.

    .venv/bin/python training/after_v4_ice/loop_gain.py CHECKPOINT.pt [...]

``memaug_train.speed_probe.loop_gain`` at four points: the estimate the actor's head reads is
shifted by -0.1, 0 and +0.1 m/s along the command (the estimator itself is untouched), and the
robot's true speed along the command is measured (8 robots, 5 s, 2 ms physics, the actor's
mean action). A loop that trusts its estimate walks slower by the shift (gain -1); an actor
that ignores the estimate does not change (gain 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

from memaug_common.description import load_robot_description
from memaug_sim.dynamics import Dynamics
from memaug_train.checkpoints import load_trained
from memaug_train.speed_probe import FORWARD, LATERAL, LOOP_GAIN_SHIFTS_M_S, SpeedPoint, loop_gain

POINTS = (
    SpeedPoint("lateral, nominal", Dynamics(), LATERAL),
    SpeedPoint("lateral, ground friction 0.3", Dynamics(ground_friction=0.3), LATERAL),
    SpeedPoint("lateral, kp/kd x0.5", Dynamics(kp_scale=0.5, kd_scale=0.5), LATERAL),
    SpeedPoint("forward, nominal", Dynamics(), FORWARD),
)


def main(paths: list[str]) -> None:
    go2 = load_robot_description("go2")
    heads = " | ".join(f"offset {shift:+g}" for shift in LOOP_GAIN_SHIFTS_M_S)
    print(f"| checkpoint | point | {heads} | gain |")
    print("|---|---|" + "---|" * (len(LOOP_GAIN_SHIFTS_M_S) + 1))
    for path in paths:
        model = load_trained(Path(path))[0]
        for point in POINTS:
            gain, readings = loop_gain(model, go2, point)
            cells = " | ".join(f"{reading.along_command:.3f}" for reading in readings)
            print(f"| {path} | {point.name} | {cells} | {gain:+.2f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
