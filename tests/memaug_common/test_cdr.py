"""The leading time of serialized messages, read without deserializing, equals rclpy's."""

from __future__ import annotations

from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from memaug_common.cdr import leading_time_ns


def test_header_stamps_and_the_clock_read_from_the_bytes() -> None:
    joints = JointState(name=["a", "b"], position=[1.0, 2.0])
    joints.header.stamp.sec, joints.header.stamp.nanosec = 12, 345_678_901
    odom = Odometry()
    odom.header.stamp.sec, odom.header.stamp.nanosec = 2_000_000_000, 999_999_999
    clock = Clock()
    clock.clock.sec, clock.clock.nanosec = 7, 1
    assert leading_time_ns(serialize_message(joints)) == 12_345_678_901
    assert leading_time_ns(serialize_message(odom)) == 2_000_000_000_999_999_999
    assert leading_time_ns(serialize_message(clock)) == 7_000_000_001
