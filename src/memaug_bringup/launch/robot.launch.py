"""On the robot: Go2 bridge + policy + TF publisher (+ recorder), from memaug_bringup.stacks.robot_stack.

target:=NAME picks what the bridge talks to (config/targets/: go2, unitree_mujoco, emulator),
as `memaug robot --target NAME` does; bridge_params:='NAME=VALUE NAME=VALUE' sets any bridge
parameter on top, network_interface:= and go2_domain_id:= override the target's. The bridge
configures and stays disarmed (damping) unless arm:=true; arming is a lifecycle activate
(`ros2 lifecycle set /memaug_go2_bridge activate`), with the robot on the ground. The emulator
target arms by itself unless arm:=false, and the launch ends with it.

The ROS graph stays on this machine whatever the caller's environment (memaug_common.graph);
open_graph:=true lets the subnet reach it (peers:='a;b' adds static peers).
"""

from pathlib import Path

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from memaug_bringup.launch_support import declare_arguments, stack_actions
from memaug_bringup.robot_cli import resolve_target
from memaug_bringup.stacks import RobotOptions, robot_stack

NAMES = ("robot", "model", "record", "scenario", "vx", "vy", "wz")


def _nodes(context: LaunchContext) -> list:
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    interface, domain = arg("network_interface"), arg("go2_domain_id")
    # A bad target, parameter or interface raises here: launch prints it and starts nothing.
    target, bridge = resolve_target(
        arg("target"), arg("bridge_params").split(), interface or None, int(domain) if domain else None
    )
    emulator = target.kind == "emulator"
    record = arg("record")
    arm = arg("arm").lower()
    options = RobotOptions(
        robot=arg("robot"),
        model=arg("model"),
        cmd_vel=(float(arg("vx")), float(arg("vy")), float(arg("wz"))),
        record=Path(record) if record else None,
        bridge=bridge,
        arm=arm == "true" or (emulator and arm != "false"),
        emulator=emulator,
        emulator_scenario=arg("scenario"),
        emulator_priority=target.emulator_priority,
        policy_priority=target.policy_priority,
        emulator_duration_s=float(arg("emulator_duration")),
        open_graph=arg("open_graph").lower() == "true",
        peers=arg("peers"),
    )
    return stack_actions(robot_stack(options))


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            *declare_arguments(NAMES),
            DeclareLaunchArgument(
                "target",
                default_value="go2",
                description="config/targets/ name or YAML path: go2, unitree_mujoco, emulator",
            ),
            DeclareLaunchArgument(
                "bridge_params", default_value="", description="further bridge parameters: 'NAME=VALUE NAME=VALUE'"
            ),
            DeclareLaunchArgument(
                "network_interface", default_value="", description="network interface wired to the Go2 (the target's)"
            ),
            DeclareLaunchArgument(
                "go2_domain_id", default_value="", description="DDS domain of the Go2's own topics (the target's)"
            ),
            DeclareLaunchArgument(
                "arm",
                default_value="",
                description="true: arm the bridge at start (only with the robot on the ground, clear); "
                "default: disarmed, except the emulator",
            ),
            DeclareLaunchArgument(
                "emulator_duration", default_value="20.0", description="emulator only: seconds until it ends the run"
            ),
            DeclareLaunchArgument(
                "open_graph",
                default_value="false",
                description="let the subnet reach the run's ROS graph (teleop, Foxglove); default: this machine only",
            ),
            DeclareLaunchArgument("peers", default_value="", description="with open_graph: static peers 'a;b'"),
            OpaqueFunction(function=_nodes),
        ]
    )
