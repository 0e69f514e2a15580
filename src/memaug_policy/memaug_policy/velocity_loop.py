"""The velocity loop an exported policy may carry inside its graph: its settings and its law.

memaug_train.velocity_feedback builds the loop into the ONNX graph; this module is what the
runtime side knows of it, from the model's provenance, so the node can say how hard the loop
is pushing (a correction that sits at its bound means the estimate and the robot disagree).

The law, per control tick, with ``c`` the command (vx, vy m/s in the base frame, yaw rate
rad/s) and ``e`` the low-passed tracking error (same units; the last AXES entries of the
hidden state, as of the tick before):

    c' = clip(c + clip(K e, -b, +b), trained command ranges)
    K = (k, k, k_yaw),   b = (f |c_xy|, f |c_xy|, f_yaw |c_yaw|)

with c_xy = (vx, vy): a stand command is never corrected, and a turn in place is never pushed
sideways. The yaw rate may have a higher gain and a wider bound than the planar axes: it is
measured (the gyro), where the planar velocity is the actor's own estimate, which can be
biased; and on heavy joints the actor turns at half the command, so a proportional loop needs
a high gain and room to ask for about twice the command to get within 25 % of it. The actor
never reads a command it was not trained on (the node clamps the user's command to the same
ranges): beyond them its gait is untested, and walking backward past -0.4 m/s on weak motors
it fell (1 robot in 8, kp/kd x0.5, open loop).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Command components the loop corrects: vx, vy (the planar ones, bounded together), yaw rate.
AXES, PLANAR = 3, 2
#: The yaw rate's settings, and the planar ones a model exported before them uses in their place.
_YAW_FROM_PLANAR = {"max_yaw_fraction": "max_fraction", "yaw_gain": "gain"}


@dataclass(frozen=True)
class VelocityFeedback:
    """The loop's settings (recorded in an exported model's provenance as ``velocity_feedback``)."""

    gain: float = 2.0  # k: planar command per unit of low-passed tracking error (m/s per m/s)
    time_constant_s: float = 0.5  # of the error's low-pass filter
    max_fraction: float = 0.4  # f: the planar correction's bound, a fraction of |c_xy|
    #: f_yaw and k_yaw: the yaw rate's bound (a fraction of |c_yaw|) and gain (rad/s per rad/s).
    #: Models exported before they existed (v8) use f and k for the yaw rate too (from_provenance).
    #: At k_yaw 2 and f_yaw 0.4 v9 turned 0.38-0.44 rad/s for 0.6 on heavy joints; at 4 and 1,
    #: 0.47-0.52, and the nominal robot's yaw rate holds within 0.01 rad/s over 1 s windows.
    max_yaw_fraction: float = 1.0
    yaw_gain: float = 4.0

    def __post_init__(self) -> None:
        for name in ("gain", "yaw_gain"):
            value = getattr(self, name)
            if not 0.0 <= value <= 10.0:
                raise ValueError(f"velocity feedback {name.replace('_', ' ')} must be in [0, 10], got {value}")
        if not 0.0 < self.time_constant_s <= 10.0:
            raise ValueError(f"velocity feedback time constant must be in (0, 10] s, got {self.time_constant_s}")
        for name in ("max_fraction", "max_yaw_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"velocity feedback {name.replace('_', ' ')} must be in [0, 1], got {value}")

    @classmethod
    def from_provenance(cls, provenance: Mapping[str, Any]) -> VelocityFeedback | None:
        """The loop a model carries, or None for a model without one (ValueError if malformed)."""
        values = provenance.get("velocity_feedback")
        if values is None:
            return None
        if isinstance(values, Mapping):  # exported before the yaw rate had its own settings: the planar ones
            values = {**{yaw: values[planar] for yaw, planar in _YAW_FROM_PLANAR.items() if planar in values}, **values}
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(f"velocity_feedback in the provenance is malformed: {values!r}") from exc

    # Built once per loop, not per control tick (the settings are frozen).
    @functools.cached_property
    def gains(self) -> np.ndarray:
        """[3] K per axis (vx, vy, yaw rate)."""
        return np.array([self.gain, self.gain, self.yaw_gain])

    @functools.cached_property
    def fractions(self) -> np.ndarray:
        """[3] the bound per axis as a fraction of the command's size on it (|c_xy| for vx and vy)."""
        return np.array([self.max_fraction, self.max_fraction, self.max_yaw_fraction])

    def bound(self, command: np.ndarray) -> np.ndarray:
        """[3] the largest correction allowed per axis for ``command`` [3], before the ranges."""
        planar = float(np.linalg.norm(command[:PLANAR]))
        return self.fractions * np.array([planar, planar, abs(float(command[PLANAR]))])

    def correct(self, command: np.ndarray, error: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, bool]:
        """What the loop adds to ``command`` [3] given the low-passed error ``error`` [3]: K e
        within the bound, and never past the trained command ``limits`` [3, 2] (low, high;
        memaug_policy.state.command_limits). And whether it wanted more than its bound on some
        axis that the command moves: held there, the estimate and the robot disagree by more
        than the bound (``bound``), or the robot cannot reach the command. (A command at a
        trained range's edge, where the loop may add nothing, is not flagged for that alone:
        full stick would warn all the time.)"""
        command = np.asarray(command, dtype=float)
        bound = self.bound(command)
        wanted = self.gains * np.asarray(error, dtype=float)
        saturated = bool(np.any((bound > 0.0) & (np.abs(wanted) > bound + 1e-6)))
        within = np.clip(wanted, -bound, bound)
        return np.clip(command + within, limits[:, 0], limits[:, 1]) - command, saturated

    def describe(self) -> str:
        return (
            f"K {self.gain:g} (yaw rate {self.yaw_gain:g}), filter {self.time_constant_s:g} s, "
            f"bound {self.max_fraction:g} x command (yaw rate {self.max_yaw_fraction:g} x)"
        )
