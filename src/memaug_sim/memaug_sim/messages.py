"""Sample -> ROS message conversions shared by the sim bridge and the Go2 emulator.

MuJoCo orders quaternions w, x, y, z; geometry_msgs names the fields, so the order cannot
be mixed up here. Arrays: [3] for vectors, [4] for quaternions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry

from memaug_sim.simulator import BaseSample


def fill_vector(target: Any, xyz: np.ndarray) -> None:
    """Write a [3] array into a geometry_msgs Vector3 or Point."""
    target.x, target.y, target.z = (float(v) for v in xyz)


def fill_quaternion(target: Any, wxyz: np.ndarray) -> None:
    """Write a [4] w-x-y-z array (MuJoCo order) into a geometry_msgs Quaternion (x-y-z-w fields)."""
    target.w, target.x, target.y, target.z = (float(v) for v in wxyz)


def odometry(base: BaseSample, stamp: Time, odom_frame: str, base_frame: str) -> Odometry:
    """Ground-truth odometry: pose in ``odom_frame``, twist in the base frame (REP 105)."""
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = odom_frame
    msg.child_frame_id = base_frame
    pose, twist = msg.pose.pose, msg.twist.twist
    fill_vector(pose.position, base.position)
    fill_quaternion(pose.orientation, base.orientation_wxyz)
    fill_vector(twist.linear, base.linear_velocity)
    fill_vector(twist.angular, base.angular_velocity)
    return msg
