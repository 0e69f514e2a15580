"""Recorder only: every stack topic to an MCAP bag, from memaug_bringup.stacks.record_stack."""

from pathlib import Path

from launch import LaunchContext, LaunchDescription
from launch.actions import OpaqueFunction
from launch.substitutions import LaunchConfiguration

from memaug_bringup.launch_support import declare_arguments, stack_actions
from memaug_bringup.stacks import record_stack


def _nodes(context: LaunchContext) -> list:
    return stack_actions(record_stack(Path(LaunchConfiguration("record").perform(context))))


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare_arguments(("record",)), OpaqueFunction(function=_nodes)])
