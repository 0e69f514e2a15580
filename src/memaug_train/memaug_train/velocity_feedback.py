"""An outer velocity loop around an actor with a concurrent estimator, exported inside its ONNX.

Measured (``speed_probe.loop_gain``): the shipped actor answers its own velocity estimate with a
gain of about -0.1, where a closed loop has -1. Its speed follows the command open-loop, so it
moves with the dynamics: lateral 0.22 m/s for 0.3 at kp/kd x0.5 and 0.23 at joint damping 3.
This loop closes it around the actor, with the actor's own estimate (what the robot measures,
nothing privileged):

    e_t = e_{t-1} + a ((c_t - v_hat_t) - e_{t-1}),    a = period / time constant
    c'_t = c_t + clip(K e_{t-1}, -f |c_t|, +f |c_t|)

``c`` is the commanded planar velocity (vx, vy m/s, base frame), ``v_hat`` the estimate,
``e`` the low-passed tracking error, ``c'`` what the actor reads in its observation's command.
The yaw rate is not touched. The bound ``f |c|`` keeps the correction a fraction of the command
(none at all when standing: a stand command stays a stand command) and bounds how far past the
trained command ranges it can go.

It rides inside the exported graph, and ``e`` rides in the hidden tensor after the actor's own
memory ([.., H] -> [.., H + 2]). The model contract is unchanged: any runtime that carries the
hidden state (ours, or anyone's) runs the loop, and a memory reset zeroes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from memaug_policy.observation import ObservationLayout
from memaug_train.networks import ActorCritic
from memaug_train.privileged import velocity_scale

#: Planar components the loop corrects: vx, vy.
PLANAR = 2


@dataclass(frozen=True)
class VelocityFeedback:
    """The loop's settings (recorded in the exported model's provenance)."""

    gain: float = 2.0  # K, command m/s per m/s of low-passed tracking error
    time_constant_s: float = 0.5  # of the error's low-pass filter
    max_fraction: float = 0.4  # f: the correction's bound per axis, as a fraction of |c_xy|

    def __post_init__(self) -> None:
        if not 0.0 <= self.gain <= 10.0:
            raise ValueError(f"velocity feedback gain must be in [0, 10], got {self.gain}")
        if not 0.0 < self.time_constant_s <= 10.0:
            raise ValueError(f"velocity feedback time constant must be in (0, 10] s, got {self.time_constant_s}")
        if not 0.0 <= self.max_fraction <= 1.0:
            raise ValueError(f"velocity feedback max fraction must be in [0, 1], got {self.max_fraction}")


class FeedbackPolicy(nn.Module):
    """The deterministic actor with the velocity loop: (obs [1, D], h [L, 1, H + 2]) ->
    (actions [1, A], h' [L, 1, H + 2]); the last two hidden entries are ``e`` (m/s)."""

    command_scale: torch.Tensor  # [2] the observation's scale of (vx, vy)
    velocity_scale: torch.Tensor  # [2] the estimate's scale of (vx, vy)

    def __init__(self, model: ActorCritic, feedback: VelocityFeedback, control_period_s: float) -> None:
        super().__init__()
        if model.estimator_memory is None or model.config.layers != 1:
            raise ValueError("velocity feedback needs a one-layer actor with a concurrent velocity estimator")
        self.model = model
        self.gain = feedback.gain
        self.max_fraction = feedback.max_fraction
        self.alpha = min(1.0, control_period_s / feedback.time_constant_s)
        layout = ObservationLayout.for_joints(model.act_dim)
        command = layout.slices()["velocity_command"]
        self.command_start = command.start
        planar_scales = (layout.scale[command][:PLANAR], velocity_scale(model.act_dim)[:PLANAR])
        for name, scale in zip(("command_scale", "velocity_scale"), planar_scales, strict=True):
            self.register_buffer(name, torch.tensor(scale, dtype=torch.float32))

    def forward(self, obs: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        memory, error = h[..., :-PLANAR], h[..., -PLANAR:]
        start, stop = self.command_start, self.command_start + PLANAR
        command = obs[:, start:stop] / self.command_scale  # [1, 2] m/s
        bound = self.max_fraction * torch.linalg.vector_norm(command, dim=-1, keepdim=True)
        correction = torch.minimum(torch.maximum(self.gain * error[0], -bound), bound)
        corrected = torch.cat([obs[:, :start], (command + correction) * self.command_scale, obs[:, stop:]], dim=-1)
        y, memory = self.model.actor_sequence(corrected.unsqueeze(0), memory.contiguous())
        actions = self.model.actor_mean(y[0])
        estimate = self.model.velocity_estimate(y[0])
        assert estimate is not None  # checked in __init__
        error = error + self.alpha * ((command - estimate[:, :PLANAR] / self.velocity_scale) - error)
        return actions, torch.cat([memory, error], dim=-1)


def corrected_command(command: np.ndarray, error: np.ndarray, feedback: VelocityFeedback) -> np.ndarray:
    """What the actor reads for ``command`` [3] (vx, vy m/s, yaw rate rad/s) given the
    low-passed error ``error`` [2] m/s: the loop's law, for tests and for reading a bag's memory."""
    bound = feedback.max_fraction * float(np.linalg.norm(command[:PLANAR]))
    out = np.array(command, dtype=float)
    out[:PLANAR] += np.clip(feedback.gain * np.asarray(error), -bound, bound)
    return out
