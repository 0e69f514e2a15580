"""The Go2 remote's key map, shared by the bridge (which reads the remote off rt/lowstate and
publishes it as sensor_msgs/Joy on /remote) and the policy node (which acts on it).

/remote carries buttons in KEYS order and axes (lx, ly, rx, ry), each stick axis in [-1, 1]
(right and up positive). memaug_hardware.remote documents the wire layout and the key map.
"""

from __future__ import annotations

import numpy as np

KEYS = ("R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y", "up", "right", "down", "left")

DAMP_CHORD = frozenset({"L2", "B"})
STAND_CHORD = frozenset({"L2", "A"})
RUN_CHORD = frozenset({"R1"})

#: Stick travel below this is no command: a released stick never rests exactly at zero.
STICK_DEADBAND = 0.1


def stick_command(
    lx: float, ly: float, rx: float, ranges: dict[str, tuple[float, float]], deadband: float = STICK_DEADBAND
) -> np.ndarray | None:
    """(vx, vy, yaw rate) from the sticks, scaled to and clamped in the model's command
    ``ranges`` (full travel reaches the range's end in that direction); None while every
    stick is inside the deadband. Left stick up: forward; left: +vy; right stick left: +yaw."""

    def axis(value: float, bounds: tuple[float, float]) -> float:
        if abs(value) < deadband:
            return 0.0
        travel = (abs(value) - deadband) / (1.0 - deadband)
        return float(np.clip(travel * (bounds[1] if value > 0 else -bounds[0]) * np.sign(value), *bounds))

    if max(abs(lx), abs(ly), abs(rx)) < deadband:
        return None
    return np.array([axis(ly, ranges["vx"]), axis(-lx, ranges["vy"]), axis(-rx, ranges["yaw_rate"])])
