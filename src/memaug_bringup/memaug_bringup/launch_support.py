"""Turn a stack description into ROS 2 launch actions (needs the `launch` and `launch_ros` packages).

Each node of the stack becomes a launch_ros Node, except a plain program (the Go2 emulator),
which runs as an ExecuteProcess with its own arguments (a Node would hand it --ros-args).
The node that ends the run (the sim at its duration, the emulator) shuts the whole launch
down when it exits, so `ros2 launch` ends by itself, the recorder closing its bag on the way.
"""

from __future__ import annotations

from typing import Any

from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    ExecuteProcess,
    RegisterEventHandler,
    SetEnvironmentVariable,
)
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch_ros.actions import Node
from launch_ros.substitutions import ExecutableInPackage

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
    """The stack's environment (who may reach its graph, whatever the caller's), its processes,
    same executables and parameters as `memaug`, and the shutdown that follows the end of the run."""
    actions: list[Any] = [SetEnvironmentVariable(name, value) for name, value in stack.environment.items()]
    for node in stack.nodes:
        process: Any
        if node.plain_args is not None:
            executable = ExecutableInPackage(package=node.package, executable=node.executable)
            process = ExecuteProcess(cmd=[executable, *node.plain_args], name=node.name, output="screen")
        else:
            process = Node(
                package=node.package,
                executable=node.executable,
                name=node.name,
                parameters=[node.parameters],
                output="screen",
            )
        actions.append(process)
        if node.ends_run:
            reason = f"{node.name} finished the run"
            actions.append(
                RegisterEventHandler(
                    OnProcessExit(target_action=process, on_exit=[EmitEvent(event=Shutdown(reason=reason))])
                )
            )
    return actions
