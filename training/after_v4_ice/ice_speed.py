"""Speed reached on slippery ground under forward commands of rising size.

    .venv/bin/python training/after_v4_ice/ice_speed.py CHECKPOINT.pt [...]

For each checkpoint, each ground friction and each command: the training environment's
``measure_speed`` (8 robots, 5 s, 2 ms physics, the actor's mean action, noise-free), printed
as a Markdown row: the measured speed along the command, the estimator's reading of it, and
the robots that fell. A gait that cannot go faster on ice reads the same under every command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memaug_common.description import load_robot_description
from memaug_sim.dynamics import Dynamics
from memaug_train.checkpoints import load_trained
from memaug_train.speed_probe import SpeedPoint, measure_speed

FRICTIONS = (0.1, 0.2, 0.3, 1.0)
FORWARD_COMMANDS_M_S = (0.5, 0.8, 1.0)


def main(paths: list[str]) -> None:
    go2 = load_robot_description("go2")
    heads = " | ".join(f"command {vx:g}" for vx in FORWARD_COMMANDS_M_S)
    print(f"| checkpoint | ground friction | {heads} |")
    print("|---|---|" + "---|" * len(FORWARD_COMMANDS_M_S))
    for path in paths:
        model = load_trained(Path(path))[0]
        for friction in FRICTIONS:
            cells = []
            for vx in FORWARD_COMMANDS_M_S:
                point = SpeedPoint(f"forward {vx:g}", Dynamics(ground_friction=friction), (vx, 0.0))
                reading = measure_speed(model, go2, point)
                estimate = reading.estimate_along_command  # None for an actor without an estimator
                read = "-" if estimate is None else f"{estimate:.2f}"
                cells.append(f"{reading.along_command:.2f} est {read}, falls {reading.falls}")
            print(f"| {path} | {friction:g} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
