"""The ros2_control path: /joint_commands -> a forward command controller, with the same watchdog and limits."""

from __future__ import annotations

import numpy as np
import pytest
from memaug_hardware.forward_command import ControllerKind, ForwardCommandAdapter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import STREAM

GO2 = load_robot_description("go2")
N = GO2.num_joints
ALPHABETICAL = sorted(GO2.joint_names)  # a controller whose joints are listed in another order


def adapter(kind: ControllerKind) -> ForwardCommandAdapter:
    a = ForwardCommandAdapter(GO2, kind, ALPHABETICAL, command_timeout_s=0.05)
    a.on_state(GO2.default_pose.copy(), np.ones(N))
    return a


def in_controller_order(values: np.ndarray) -> np.ndarray:
    return values[[GO2.joint_index(j) for j in ALPHABETICAL]]


def test_position_targets_in_controller_order_clipped_then_hold_when_stale() -> None:
    a = adapter(ControllerKind.POSITION)
    target = GO2.default_pose + 0.1
    target[0] = 99.0
    a.on_command(target, np.zeros(N), np.zeros(N), 0.0)
    expected = np.clip(target, GO2.lower_limits, GO2.upper_limits)
    np.testing.assert_allclose(a.output(0.01), in_controller_order(expected))
    np.testing.assert_allclose(a.output(0.06), in_controller_order(GO2.default_pose))  # stale: hold
    assert a.stale_ticks == 1


def test_effort_is_pd_then_damping_when_stale() -> None:
    a = adapter(ControllerKind.EFFORT)
    a.on_command(GO2.default_pose + 0.1, np.zeros(N), np.zeros(N), 0.0)
    np.testing.assert_allclose(a.output(0.01), in_controller_order(GO2.kp * 0.1 - GO2.kd * 1.0))
    np.testing.assert_allclose(a.output(0.1), in_controller_order(np.full(N, -GO2.passive_kd)))


def test_wrong_controller_joints_are_refused() -> None:
    with pytest.raises(ValueError, match="must name each"):
        ForwardCommandAdapter(GO2, ControllerKind.POSITION, [*ALPHABETICAL[:-1], "tail"], 0.05)


def test_node_forwards_commands_to_the_controller_topic(ros, start_node) -> None:
    out = ros.subscribe(Float64MultiArray, "forward_position_controller/commands", STREAM)
    states = ros.node.create_publisher(JointState, "joint_states", STREAM)
    commands = ros.node.create_publisher(JointState, "joint_commands", STREAM)
    start_node("memaug_forward_command_adapter", "--ros-args", "-p", "rate_hz:=200.0")
    target = GO2.default_pose + 0.05

    def feed() -> bool:
        states.publish(JointState(name=list(GO2.joint_names), position=GO2.default_pose.tolist(), velocity=[0.0] * N))
        commands.publish(JointState(name=list(GO2.joint_names), position=target.tolist()))
        return bool(out) and np.allclose(out[-1].data, target)

    ros.wait_for(feed, 30.0, "the commanded targets on the controller topic")
    end = ros.node.get_clock().now().nanoseconds + 0.3e9
    while ros.node.get_clock().now().nanoseconds < end:  # commands stop, states continue: hold
        states.publish(JointState(name=list(GO2.joint_names), position=GO2.default_pose.tolist(), velocity=[0.0] * N))
        ros.spin_for(0.02)
    np.testing.assert_allclose(out[-1].data, GO2.default_pose)
