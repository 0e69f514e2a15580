"""The stack's topics and their types (DESIGN.md topic contract): what the recorder records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    type: str  # ROS 2 type name, e.g. sensor_msgs/msg/JointState
    latched: bool = False


STACK_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("/joint_states", "sensor_msgs/msg/JointState"),
    TopicSpec("/imu/data", "sensor_msgs/msg/Imu"),
    TopicSpec("/odom", "nav_msgs/msg/Odometry"),
    TopicSpec("/cmd_vel", "geometry_msgs/msg/Twist"),
    TopicSpec("/joint_commands", "sensor_msgs/msg/JointState"),
    TopicSpec("/policy/observation", "std_msgs/msg/Float32MultiArray"),
    TopicSpec("/policy/action", "std_msgs/msg/Float32MultiArray"),
    TopicSpec("/policy/memory", "std_msgs/msg/Float32MultiArray"),
    TopicSpec("/policy/command", "geometry_msgs/msg/Twist"),
    TopicSpec("/policy/mode", "std_msgs/msg/String", latched=True),
    TopicSpec("/estop", "std_msgs/msg/Bool", latched=True),
    TopicSpec("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray"),
    TopicSpec("/robot_description", "std_msgs/msg/String", latched=True),
    TopicSpec("/bridge/state", "std_msgs/msg/String", latched=True),
    TopicSpec("/tf", "tf2_msgs/msg/TFMessage"),
    TopicSpec("/tf_static", "tf2_msgs/msg/TFMessage", latched=True),
)


def topic_by_name(name: str) -> TopicSpec:
    for spec in STACK_TOPICS:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown stack topic {name!r}; known: {[t.name for t in STACK_TOPICS]}")
