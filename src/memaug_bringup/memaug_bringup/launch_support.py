"""Turn a stack description into ROS 2 launch actions (needs the `launch` and `launch_ros` packages)."""

from __future__ import annotations

from typing import Any

from launch.actions import DeclareLaunchArgument
from launch_ros.actions import Node

from memaug_bringup.stacks import Stack

#: Launch arguments shared by the launch files: (name, default, description).
ARGUMENTS: tuple[tuple[str, str, str], ...] = (
    ("robot", "go2", "robot description name under config/robots/ or a YAML path"),
    ("model", "go2_memaug.onnx", "policy ONNX path or name under config/policies/"),
    ("mode", "lockstep", "sim pacing: lockstep (sim time on /clock) or realtime"),
    ("scenario", "none", "fault scenario name under config/scenarios/, a YAML path, or none"),
    ("record", "", "bag folder to record to (empty: no recording)"),
    ("viewer", "false", "open MuJoCo's passive viewer (needs a display)"),
    ("duration", "0.0", "sim seconds to run (0: until shut down)"),
    ("vx", "0.5", "forward velocity command, m/s"),
    ("vy", "0.0", "lateral velocity command, m/s"),
    ("wz", "0.0", "yaw rate command, rad/s"),
)


def declare_arguments(names: tuple[str, ...]) -> list[DeclareLaunchArgument]:
    return [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, default, description in ARGUMENTS
        if name in names
    ]


def stack_actions(stack: Stack) -> list[Any]:
    """One launch_ros Node per node of the stack, same executables and parameters as `memaug`."""
    return [
        Node(
            package=node.package,
            executable=node.executable,
            name=node.name,
            parameters=[node.parameters],
            output="screen",
        )
        for node in stack.nodes
    ]
