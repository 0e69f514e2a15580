"""Sim-in-the-loop: MuJoCo sim bridge + policy + TF publisher (+ recorder), from memaug_bringup.stacks.sim_stack."""

from pathlib import Path

from launch import LaunchContext, LaunchDescription
from launch.actions import OpaqueFunction
from launch.substitutions import LaunchConfiguration

from memaug_bringup.launch_support import declare_arguments, stack_actions
from memaug_bringup.stacks import SimOptions, sim_stack

NAMES = ("robot", "model", "mode", "scenario", "record", "viewer", "duration", "vx", "vy", "wz")


def _nodes(context: LaunchContext) -> list:
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    record = arg("record")
    options = SimOptions(
        robot=arg("robot"),
        model=arg("model"),
        mode=arg("mode"),  # validated by the sim node's parameter table
        scenario=arg("scenario"),
        duration_s=float(arg("duration")),
        cmd_vel=(float(arg("vx")), float(arg("vy")), float(arg("wz"))),
        record=Path(record) if record else None,
        viewer=arg("viewer").lower() == "true",
    )
    return stack_actions(sim_stack(options))


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare_arguments(NAMES), OpaqueFunction(function=_nodes)])
