"""The one field memaug reads from serialized messages without deserializing them: a leading time.

rosgraph_msgs/Clock, and every message that begins with a std_msgs/Header (JointState, Imu,
Odometry, ...), start with a builtin_interfaces/Time. In CDR that is a 4-byte encapsulation
header, then int32 sec and uint32 nanosec. Reading them from the raw bytes costs microseconds
where rclpy's deserialization of a whole JointState costs tens: a node that only needs a few of
a 500 Hz stream's messages (the recorder's sim clock, the TF publisher's rate limit) takes them
raw and deserializes only those.
"""

from __future__ import annotations

import struct

_LITTLE = struct.Struct("<iI")
_BIG = struct.Struct(">iI")


def leading_time_ns(data: bytes) -> int:
    """The leading builtin_interfaces/Time of a CDR-serialized message, ns."""
    sec, nanosec = (_LITTLE if data[1] == 1 else _BIG).unpack_from(data, 4)  # data[1] == 1: CDR_LE
    return sec * 1_000_000_000 + nanosec
