"""An outer velocity loop around an actor with a concurrent estimator, exported inside its ONNX.

Measured (``speed_probe.loop_gain``): v4's actor answered its own velocity estimate with a gain
of about -0.1, v9's with -0.5, where a closed loop has -1. Open-loop its speed followed the
command, so it moved with the dynamics: lateral 0.22 m/s for 0.3 at kp/kd x0.5 and 0.23 at
joint damping 3 (v4); v9 alone runs 0.63 m/s for 0.5 and turns at half the command on heavy joints.
This loop closes it around the actor, on what the robot measures (nothing privileged): the
planar velocity from the actor's own estimate, the yaw rate from the gyro.

    e_t = e_{t-1} + a ((c_t - m_t) - e_{t-1}),    a = period / time constant
    c'_t = clip(c_t + clip(K e_{t-1}, -b_t, +b_t), trained command ranges),   K = (k, k, k_yaw)

``c`` is the command (vx, vy m/s in the base frame, yaw rate rad/s), ``m`` the measurement
(estimate vx, vy; gyro z), ``e`` the low-passed tracking error and ``c'`` what the actor reads
in its observation's command. The bound ``b`` is a fraction of the command: f of |(vx, vy)| for
the planar axes, f_yaw of |yaw rate| for the yaw rate. So a stand command stays a stand command, and a
turn in place is never pushed sideways. The actor never reads a command outside the ranges it
was trained on (memaug_policy.velocity_loop says why).

It rides inside the exported graph, and ``e`` rides in the hidden tensor after the actor's own
memory ([.., H] -> [.., H + 3]). The model contract is unchanged: any runtime that carries the
hidden state (ours, or anyone's) runs the loop, and a memory reset zeroes it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from memaug_policy.observation import ObservationLayout
from memaug_policy.velocity_loop import AXES, PLANAR, VelocityFeedback
from memaug_train.networks import ActorCritic
from memaug_train.privileged import velocity_scale


class FeedbackPolicy(nn.Module):
    """The deterministic actor with the velocity loop: (obs [1, D], h [L, 1, H + 3]) ->
    (actions [1, A], h' [L, 1, H + 3]); the last three hidden entries are ``e`` (m/s, m/s, rad/s).
    The law is memaug_policy.velocity_loop's, with the error's update added."""

    gains: torch.Tensor  # [3] K per axis (VelocityFeedback.gains)
    fractions: torch.Tensor  # [3] the bound per axis, a fraction of the command (VelocityFeedback.fractions)
    command_scale: torch.Tensor  # [3] the observation's scale of the command
    command_low: torch.Tensor  # [3] the trained command ranges' low ends
    command_high: torch.Tensor  # [3] and high ends
    velocity_scale: torch.Tensor  # [2] the estimate's scale of (vx, vy)

    def __init__(
        self, model: ActorCritic, feedback: VelocityFeedback, control_period_s: float, limits: np.ndarray
    ) -> None:
        """``limits`` [3, 2]: the trained command ranges (memaug_policy.velocity_loop.command_limits)."""
        super().__init__()
        if model.estimator_memory is None or model.config.layers != 1:
            raise ValueError("velocity feedback needs a one-layer actor with a concurrent velocity estimator")
        self.model = model
        self.alpha = min(1.0, control_period_s / feedback.time_constant_s)
        layout = ObservationLayout.for_joints(model.act_dim)
        command, gyro = layout.slices()["velocity_command"], layout.slices()["base_angular_velocity"]
        self.command_start = command.start
        self.yaw_rate_index = gyro.stop - 1  # gyro z, rad/s in the base frame
        self.yaw_rate_scale = float(layout.scale[self.yaw_rate_index])
        buffers = {
            "gains": feedback.gains,
            "fractions": feedback.fractions,
            "command_scale": layout.scale[command],
            "velocity_scale": velocity_scale(model.act_dim)[:PLANAR],
            "command_low": limits[:, 0],
            "command_high": limits[:, 1],
        }
        for name, values in buffers.items():
            self.register_buffer(name, torch.tensor(values, dtype=torch.float32))

    def forward(self, obs: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        memory, error = h[..., :-AXES], h[..., -AXES:]
        start, stop = self.command_start, self.command_start + AXES
        command = obs[:, start:stop] / self.command_scale  # [1, 3] m/s, m/s, rad/s
        planar = torch.linalg.vector_norm(command[:, :PLANAR], dim=-1, keepdim=True)
        bound = self.fractions * torch.cat([planar, planar, command[:, PLANAR:].abs()], dim=-1)
        wanted = torch.minimum(torch.maximum(self.gains * error[0], -bound), bound)
        read = torch.minimum(torch.maximum(command + wanted, self.command_low), self.command_high)
        corrected = torch.cat([obs[:, :start], read * self.command_scale, obs[:, stop:]], dim=-1)
        y, memory = self.model.actor_sequence(corrected.unsqueeze(0), memory.contiguous())
        actions = self.model.actor_mean(y[0])
        estimate = self.model.velocity_estimate(y[0])
        assert estimate is not None  # checked in __init__
        yaw_rate = obs[:, self.yaw_rate_index : self.yaw_rate_index + 1] / self.yaw_rate_scale
        measured = torch.cat([estimate[:, :PLANAR] / self.velocity_scale, yaw_rate], dim=-1)
        error = error + self.alpha * ((command - measured) - error)
        return actions, torch.cat([memory, error], dim=-1)
