"""One policy tick without ROS: measured state in, safe joint targets out.

The policy node runs exactly this in its run mode, and so does the robustness suite
(memaug_train.robustness), so a policy is judged offline by the code that will drive the
robot: observation layout, scales, clips and history from the model's metadata, ONNX Runtime
with the hidden state carried, the model's action map and joint map, and the last gate
(finite, in range, torque-limited band). Arrays handed in and out are in description order:
rad, rad/s; gyro rad/s in the base frame; quaternion wxyz base -> world; command (vx m/s,
vy m/s, yaw rate rad/s); base linear velocity m/s in the base frame. The observation and the
raw action are in the policy's joint order (the model's joint_names).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.description import RobotDescription
from memaug_policy.actions import PolicyActionMap
from memaug_policy.model import PolicyModel
from memaug_policy.observation import projected_gravity
from memaug_policy.observation_spec import ObservationBuilder
from memaug_policy.runtime import PolicyRuntime
from memaug_policy.safety import CommandLimits
from memaug_policy.state import command_limits
from memaug_policy.velocity_loop import AXES

#: The correction of a model without a velocity loop (read-only, shared by every tick).
NO_CORRECTION = np.zeros(AXES)
NO_CORRECTION.setflags(write=False)


@dataclass(frozen=True)
class PolicyOutput:
    obs: np.ndarray  # [obs_dim] float32, what the policy saw
    action: np.ndarray  # [J] float32, raw output, policy joint order
    targets: np.ndarray  # [J] rad, after the action map and the safety gate
    #: [3] what the model's own velocity loop added to the command this tick (vx, vy m/s, yaw
    #: rate rad/s; memaug_policy.velocity_loop), zeros for a model without one
    command_correction: np.ndarray
    loop_saturated: bool  # the loop wanted more than its bound (memaug_policy.velocity_loop)


class PolicyController:
    def __init__(self, model: PolicyModel, description: RobotDescription) -> None:
        self.model = model
        self.description = description
        self.runtime = PolicyRuntime(model)
        meta = model.metadata
        #: [J] description index of each policy joint: robot_array[order] is in policy order.
        self.order = meta.joint_map(description)
        spec = meta.actions
        self.actions = PolicyActionMap(
            self.order,
            spec.scale,
            spec.offset,
            spec.raw_clip,
            spec.target_clip,
            description.lower_limits,
            description.upper_limits,
        )
        self.feed_back_clipped = spec.last_action == "clipped"
        self.observation = ObservationBuilder(meta.observation)
        self.needs_base_velocity = "base_linear_velocity" in meta.observation.ground_truth_terms()
        self.limits = CommandLimits.for_robot(description)
        self.last_action = np.zeros(description.num_joints)  # policy order
        self.loop = model.metadata.velocity_loop
        #: [3, 2] the model's command ranges: the node clamps the user's command to them, and
        #: the velocity loop stays inside them.
        self.command_limits = command_limits(model.metadata.command_ranges)

    def reset(self) -> None:
        """Forget the task: zero memory, last action and observation history (on entering run mode)."""
        self.runtime.reset_memory()
        self.last_action[:] = 0.0
        self.observation.reset()

    def step(
        self,
        joint_position: np.ndarray,
        joint_velocity: np.ndarray,
        gyro: np.ndarray,
        orientation_wxyz: np.ndarray,
        command: np.ndarray,
        base_linear_velocity: np.ndarray | None = None,
    ) -> PolicyOutput:
        """One tick. Raises NonFiniteError (an ArithmeticError) on a non-finite observation or
        output, and ArithmeticError from the gate: no target is produced then. A model that
        observes the base linear velocity (sim only) raises ValueError without it."""
        raw = {
            "base_angular_velocity": gyro,
            "projected_gravity": projected_gravity(orientation_wxyz),
            "velocity_command": command,
            "joint_position": joint_position[self.order] - self.model.metadata.default_joint_positions,
            "joint_velocity": joint_velocity[self.order],
            "last_action": self.last_action,
        }
        if self.needs_base_velocity:
            if base_linear_velocity is None:
                raise ValueError("this policy observes the base linear velocity, which only a simulator provides")
            raw["base_linear_velocity"] = base_linear_velocity
        obs = self.observation.build(raw)
        correction, saturated = NO_CORRECTION, False
        if self.loop is not None:  # the graph corrects by the error it carried in from the last tick
            error = self.runtime.state[0][0, 0, -AXES:]
            correction, saturated = self.loop.correct(command, error, self.command_limits)
        action = self.runtime.step(obs)
        raw_action = action.astype(np.float64)
        targets = self.limits.apply(self.actions.targets(raw_action), joint_position)
        self.last_action = self.actions.clipped(raw_action) if self.feed_back_clipped else raw_action
        return PolicyOutput(obs, action, targets, correction, saturated)
