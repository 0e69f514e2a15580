"""memaug_forward_command_adapter: /joint_commands -> a ros2_control forward command controller.

For robots with a ros2_control driver: publishes std_msgs/Float64MultiArray to the
controller's commands topic at a fixed rate, reading /joint_states (from the
joint_state_broadcaster). Thin: the logic is memaug_hardware.forward_command.
"""

from __future__ import annotations

import sys
import time

from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from memaug_common.description import load_robot_description
from memaug_common.params import ParamSpec
from memaug_common.ros_main import spin_main
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import LATEST, STREAM
from memaug_hardware.forward_command import ControllerKind, ForwardCommandAdapter
from memaug_policy.state import JointOrder, StateRejected
from memaug_sim.commands import CommandRejected, joint_command_from_fields

ADAPTER_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("robot", "go2", "Robot description: a name under config/robots/ or a YAML path."),
    ParamSpec("controller", "position", "Kind of forward command controller.", choices=("position", "effort")),
    ParamSpec("controller_topic", "forward_position_controller/commands", "The controller's commands topic."),
    ParamSpec("controller_joints", [""], "The controller's joint order (default: the description's)."),
    ParamSpec("rate_hz", 500.0, "Command rate, Hz.", min=10.0, max=2000.0),
    ParamSpec(
        "command_timeout_s", 0.05, "Watchdog: /joint_commands older than this are not followed, s.", min=0.005, max=1.0
    ),
)


class ForwardCommandNode(Node):
    def __init__(self) -> None:
        super().__init__("memaug_forward_command_adapter")
        p = declare_parameters(self, ADAPTER_PARAMETERS)
        self.description = load_robot_description(p["robot"])
        joints = [j for j in p["controller_joints"] if j] or list(self.description.joint_names)
        self.adapter = ForwardCommandAdapter(
            self.description, ControllerKind(p["controller"]), joints, p["command_timeout_s"]
        )
        self.order = JointOrder(self.description.joint_names)
        self.rejected = 0
        self.pub = self.create_publisher(Float64MultiArray, p["controller_topic"], STREAM)
        self.create_subscription(JointState, "joint_commands", self._on_command, LATEST)
        self.create_subscription(JointState, "joint_states", self._on_state, LATEST)
        self.create_timer(1.0 / p["rate_hz"], self._tick)

    def _on_command(self, msg: JointState) -> None:
        try:
            c = joint_command_from_fields(self.description, msg.name, msg.position, msg.velocity, msg.effort)
        except CommandRejected as exc:
            self.rejected += 1
            self.get_logger().warn(f"rejected /joint_commands: {exc}", throttle_duration_sec=1.0)
            return
        self.adapter.on_command(c.position, c.velocity, c.effort, time.monotonic())

    def _on_state(self, msg: JointState) -> None:
        try:
            reading = self.order.reading(msg.name, msg.position, msg.velocity, 0.0)
        except StateRejected as exc:
            self.get_logger().warn(str(exc), throttle_duration_sec=1.0)
            return
        self.adapter.on_state(reading.position, reading.velocity)

    def _tick(self) -> None:
        values = self.adapter.output(time.monotonic())
        if values is not None:
            self.pub.publish(Float64MultiArray(data=values.tolist()))


def main(args: list[str] | None = None) -> int:
    return spin_main("memaug_forward_command_adapter", ForwardCommandNode, args)


if __name__ == "__main__":
    sys.exit(main())
