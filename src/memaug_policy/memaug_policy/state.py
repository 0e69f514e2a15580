"""Latest robot state as the policy sees it: joints in description order, IMU, command.

ROS-free: the node hands in message fields; this module checks and reorders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from memaug_policy.observation import projected_gravity


class StateRejected(ValueError):
    """A state message that cannot be used (wrong names or lengths); the message says why."""


@dataclass
class JointReading:
    position: np.ndarray  # [J] rad, description order
    velocity: np.ndarray  # [J] rad/s
    stamp_s: float  # node clock when received


@dataclass
class ImuReading:
    orientation_wxyz: np.ndarray  # [4]
    angular_velocity: np.ndarray  # [3] rad/s, base frame
    stamp_s: float

    @property
    def projected_gravity(self) -> np.ndarray:
        return projected_gravity(self.orientation_wxyz)


@dataclass
class OdomReading:
    """Ground-truth base velocity (sim /odom, twist in the base frame): only for models that
    observe the base linear velocity, which a real Go2 does not measure."""

    linear_velocity: np.ndarray  # [3] m/s, base frame
    stamp_s: float


class JointOrder:
    """Maps a JointState's name order onto the description's, computed once per name list."""

    def __init__(self, joint_names: Sequence[str]) -> None:
        self.joint_names = tuple(joint_names)
        self._cache: dict[tuple[str, ...], np.ndarray] = {}

    def reading(
        self, names: Sequence[str], position: Sequence[float], velocity: Sequence[float], stamp_s: float
    ) -> JointReading:
        key = tuple(names)
        order = self._cache.get(key)
        if order is None:
            if sorted(key) != sorted(self.joint_names):
                raise StateRejected(
                    f"/joint_states names {list(key)} do not match the robot's {list(self.joint_names)}"
                )
            order = np.array([key.index(n) for n in self.joint_names])
            self._cache[key] = order
        n = len(self.joint_names)
        if len(position) != n or len(velocity) != n:
            raise StateRejected(
                f"/joint_states has {len(position)} positions and {len(velocity)} velocities, expected {n}"
            )
        return JointReading(np.asarray(position)[order], np.asarray(velocity)[order], stamp_s)


def command_limits(command_ranges: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """[3, 2] (low, high) of vx, vy (m/s) and yaw rate (rad/s), from a model's command ranges."""
    return np.array([command_ranges[axis] for axis in ("vx", "vy", "yaw_rate")], dtype=float)


def clamp_command(command: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, bool]:
    """Clamp (vx, vy, yaw_rate) into the model's command ``limits`` [3, 2] (``command_limits``);
    report whether it clamped."""
    clamped = np.clip(command, limits[:, 0], limits[:, 1])
    return clamped, bool(np.any(clamped != command))


#: State older than this many times ``state_timeout_s`` stops the node even when the control
#: ticks themselves came late: a node starved that long has lost the robot.
STALE_HARD_LIMIT_FACTOR = 3.0


@dataclass
class StalenessGuard:
    """Whether the state is fresh enough to command from, control tick by control tick.

    A stale tick sends nothing, and the bridge keeps the last target until its own watchdog
    (50 ms on the Go2 bridge, 2.5 control periods). ``stale_ticks_allowed + 1`` stale ticks in a
    row that came on time (one control period after the one before, +-50 %) stop the node: the
    state stopped while the node ran. A stale tick that came late, or bunched behind a late one,
    does not count. The node itself was starved then, and its state callbacks were queued
    behind its timer. On 2 cores at start-up that made the state look 0.105-0.188 s old while
    the bridge kept publishing every 2 ms (seen in 1 of 12 emulator runs and in one CI run; the
    recorder's copy of /joint_states had no gap over 11 ms). State older than
    STALE_HARD_LIMIT_FACTOR x ``timeout_s`` stops the node however the ticks came, and a reading
    never received stops it at once.
    """

    timeout_s: float  # a reading older than this is stale, s
    stale_ticks_allowed: int  # consecutive on-time stale ticks that only skip the command
    period_s: float  # control period, s (node clock)
    stale_ticks: int = 0
    last_check_s: float | None = None

    def check(
        self, now_s: float, readings: Sequence[tuple[str, JointReading | ImuReading | OdomReading | None]]
    ) -> tuple[bool, str | None]:
        """(fresh, fault) for readings named by topic, at node time ``now_s``: (True, None) to
        command from them, (False, None) to skip this tick, (False, reason) to stop."""
        previous, self.last_check_s = self.last_check_s, now_s
        for label, reading in readings:
            if reading is None:
                return False, f"no {label} received"
        age, label = max((now_s - reading.stamp_s, label) for label, reading in readings if reading is not None)
        if age <= self.timeout_s:
            self.stale_ticks = 0
            return True, None
        if previous is not None and 0.5 * self.period_s <= now_s - previous <= 1.5 * self.period_s:
            self.stale_ticks += 1
        if self.stale_ticks > self.stale_ticks_allowed or age > STALE_HARD_LIMIT_FACTOR * self.timeout_s:
            return False, (
                f"stale {label}: {age:.3f} s old (limit {self.timeout_s} s; "
                f"{self.stale_ticks} on-time control ticks in a row)"
            )
        return False, None

    def reset(self) -> None:
        """Forget earlier ticks (a new start)."""
        self.stale_ticks = 0
        self.last_check_s = None
