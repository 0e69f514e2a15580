"""On the robot: Go2 bridge + policy + TF publisher (+ recorder), from memaug_bringup.stacks.robot_stack.

The bridge configures and stays disarmed (damping) unless arm:=true; arming is a lifecycle
activate (`ros2 lifecycle set /memaug_go2_bridge activate`), with the robot on the ground.
emulator:=true rehearses it at a desk: the Go2 emulator (MuJoCo behind the Go2's DDS
topics, on loopback) runs for emulator_duration seconds and the launch ends with it.
"""

from pathlib import Path

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from memaug_bringup.launch_support import declare_arguments, stack_actions
from memaug_bringup.stacks import RobotOptions, robot_stack

NAMES = ("robot", "model", "record", "scenario", "vx", "vy", "wz")


def _nodes(context: LaunchContext) -> list:
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    record = arg("record")
    options = RobotOptions(
        robot=arg("robot"),
        model=arg("model"),
        cmd_vel=(float(arg("vx")), float(arg("vy")), float(arg("wz"))),
        record=Path(record) if record else None,
        network_interface=arg("network_interface"),
        go2_domain_id=int(arg("go2_domain_id")),
        arm=arg("arm").lower() == "true",
        emulator=arg("emulator").lower() == "true",
        emulator_scenario=arg("scenario"),
        emulator_duration_s=float(arg("emulator_duration")),
    )
    return stack_actions(robot_stack(options))


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            *declare_arguments(NAMES),
            DeclareLaunchArgument(
                "network_interface", default_value="eth0", description="network interface wired to the Go2"
            ),
            DeclareLaunchArgument(
                "arm",
                default_value="false",
                description="arm the bridge at start (only with the robot on the ground, clear)",
            ),
            DeclareLaunchArgument(
                "go2_domain_id", default_value="0", description="DDS domain of the Go2's own topics (rt/lowstate)"
            ),
            DeclareLaunchArgument(
                "emulator",
                default_value="false",
                description="run against memaug_go2_emulator on loopback instead of a Go2",
            ),
            DeclareLaunchArgument(
                "emulator_duration", default_value="20.0", description="emulator only: seconds until it ends the run"
            ),
            OpaqueFunction(function=_nodes),
        ]
    )
