"""memaug_state_publisher: /tf and /tf_static of the robot, as robot_state_publisher would give them.

robot_state_publisher is C++ and has no wheel; this node does its job from the one robot
description (memaug_sim.frames): the fixed frames once on /tf_static (latched), the jointed
links from each /joint_states, and odom -> base from ground truth (/odom: the sim bridge, the
emulator) or, on a real robot, from the IMU's attitude with the lowest foot on the ground.
Thin: the kinematics is memaug_sim.frames.
"""

from __future__ import annotations

import sys

import numpy as np
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from rclpy.experimental import EventsExecutor
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Imu, JointState
from tf2_msgs.msg import TFMessage

from memaug_common.cdr import leading_time_ns
from memaug_common.description import load_robot_description
from memaug_common.params import ParamSpec
from memaug_common.ros_main import spin_main
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import LATCHED, LATEST, STREAM
from memaug_common.ros_wait import wait_for_subscribers
from memaug_policy.state import JointOrder, StateRejected
from memaug_sim.frames import RobotFrames, Transform

STATE_PUBLISHER_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("robot", "go2", "Robot description: a name under config/robots/ or a YAML path."),
    ParamSpec(
        "base_pose",
        "odom",
        "Source of odom -> base: 'odom' (ground truth on /odom: sim, emulator) or 'imu' (a real robot: "
        "the IMU's attitude, the lowest foot on the ground, no travel).",
        choices=("odom", "imu"),
    ),
    ParamSpec("odom_frame", "odom", "Frame id of the world-fixed odometry frame."),
    # 20 Hz: robot_state_publisher's default publish_frequency; enough for a viewer, and each
    # update costs about 1 ms of Python (kinematics and 13 TransformStamped).
    ParamSpec("rate_hz", 20.0, "Most /tf updates per second per source, by message stamps, Hz.", min=1.0, max=1000.0),
    # The sim starts its run once this node subscribes to /joint_states, so waiting here first
    # keeps a recorder from missing the frames: once in CI the run ended before the recorder
    # had matched /tf, and the bag had no frame at all.
    ParamSpec(
        "wait_for_subscribers",
        0,
        "/tf subscribers (a recorder) to wait for before subscribing to the robot's state.",
        min=0,
        max=16,
    ),
    ParamSpec("subscriber_timeout_s", 30.0, "Longest wait for those subscribers, s (wall).", min=0.1, max=600.0),
)


def _message(transform: Transform, stamp: object) -> TransformStamped:
    msg = TransformStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = transform.parent
    msg.child_frame_id = transform.child
    t, q = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z = (float(v) for v in transform.translation)
    q.w, q.x, q.y, q.z = (float(v) for v in transform.rotation)
    return msg


class Throttle:
    """Lets a stamped message through at most once per ``period_ns`` of its own stamps; a stamp
    that goes back (a sim restarted) starts over."""

    def __init__(self, period_ns: int) -> None:
        self.period_ns = period_ns
        self.last: int | None = None

    def admit(self, stamp_ns: int) -> bool:
        if self.last is not None and self.last <= stamp_ns < self.last + self.period_ns:
            return False
        self.last = stamp_ns
        return True


class StatePublisherNode(Node):
    def __init__(self) -> None:
        super().__init__("memaug_state_publisher")
        p = declare_parameters(self, STATE_PUBLISHER_PARAMETERS)
        description = load_robot_description(p["robot"])
        self.frames = RobotFrames(description, p["odom_frame"])
        self.order = JointOrder(description.joint_names)
        self.from_imu = p["base_pose"] == "imu"
        self.imu_raw: bytes | None = None
        self.joint_throttle = Throttle(round(1e9 / p["rate_hz"]))
        self.odom_throttle = Throttle(round(1e9 / p["rate_hz"]))
        self.pub_tf = self.create_publisher(TFMessage, "tf", STREAM)
        self.pub_static = self.create_publisher(TFMessage, "tf_static", LATCHED)
        now = self.get_clock().now().to_msg()
        self.pub_static.publish(TFMessage(transforms=[_message(t, now) for t in self.frames.static_transforms()]))
        count, timeout_s = p["wait_for_subscribers"], p["subscriber_timeout_s"]
        if not wait_for_subscribers(self.pub_tf, count, timeout_s):
            self.get_logger().warn(
                f"subscribing to the robot's state with {self.pub_tf.get_subscription_count()} of {count} "
                f"/tf subscribers after waiting {timeout_s} s"
            )
        # Raw: the state streams run at 500 Hz (2 kHz in a lockstep sim) and TF needs 20 of them a
        # second; only those are deserialized (the stamp is read from the bytes).
        self.create_subscription(JointState, "joint_states", self._on_joint_state, STREAM, raw=True)
        if self.from_imu:
            self.create_subscription(Imu, "imu/data", self._on_imu, LATEST, raw=True)
        else:
            self.create_subscription(Odometry, "odom", self._on_odom, STREAM, raw=True)

    def _on_imu(self, data: bytes) -> None:
        self.imu_raw = data

    def _imu_quat(self) -> np.ndarray | None:
        if self.imu_raw is None:
            return None
        o = deserialize_message(self.imu_raw, Imu).orientation
        return np.array([o.w, o.x, o.y, o.z])

    def _on_odom(self, data: bytes) -> None:
        if not self.odom_throttle.admit(leading_time_ns(data)):
            return
        msg = deserialize_message(data, Odometry)
        p, o = msg.pose.pose.position, msg.pose.pose.orientation
        base = self.frames.base_transform(np.array([p.x, p.y, p.z]), np.array([o.w, o.x, o.y, o.z]))
        self.pub_tf.publish(TFMessage(transforms=[_message(base, msg.header.stamp)]))

    def _on_joint_state(self, data: bytes) -> None:
        if not self.joint_throttle.admit(leading_time_ns(data)):
            return
        msg = deserialize_message(data, JointState)
        try:
            position = self.order.reading(msg.name, msg.position, msg.velocity, 0.0).position
            transforms = self.frames.moving_transforms(position)
            imu_quat = self._imu_quat() if self.from_imu else None
            if imu_quat is not None:
                base_pose = self.frames.base_pose_from_attitude(position, imu_quat)
                transforms.append(self.frames.base_transform(*base_pose))
        except (StateRejected, ValueError) as exc:
            self.get_logger().warn(f"no /tf from this /joint_states: {exc}", throttle_duration_sec=1.0)
            return
        self.pub_tf.publish(TFMessage(transforms=[_message(t, msg.header.stamp) for t in transforms]))


def main(args: list[str] | None = None) -> int:
    # The events executor: the default one spends ~0.3 ms of Python per message rebuilding its
    # wait set, 16 % of a core for the 500 Hz /joint_states this node mostly skips (measured).
    return spin_main("memaug_state_publisher", StatePublisherNode, args, make_executor=lambda _node: EventsExecutor())


if __name__ == "__main__":
    sys.exit(main())
