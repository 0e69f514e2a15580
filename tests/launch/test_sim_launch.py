"""launch_testing: sim.launch.py brings up the sim bridge and policy, which reach run mode; at
the sim's duration the launch ends by itself, every process with status 0 and the bag closed.

Needs a ROS 2 install (Jazzy or newer) with launch_testing; skipped elsewhere, since the
PyPI wheels memaug uses do not include launch or launch_testing.
"""

from __future__ import annotations

import os
import tempfile
import unittest
from pathlib import Path

import pytest

pytest.importorskip(
    "launch_testing", reason="launch_testing is not installed (needs a ROS 2 Jazzy+ install, not the PyPI wheels)"
)
pytest.importorskip("launch_ros", reason="launch_ros is not installed (needs a ROS 2 install)")

import launch
import launch.actions
import launch.launch_description_sources
import launch_testing
import launch_testing.actions
import launch_testing.asserts
import rclpy
from std_msgs.msg import String

from memaug_common.ros_qos import LATCHED

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
LAUNCH_FILE = Path(__file__).resolve().parents[2] / "src" / "memaug_bringup" / "launch" / "sim.launch.py"
BAG = Path(tempfile.mkdtemp()) / "bag"


@pytest.mark.launch_test
def generate_test_description():
    sim = launch.actions.IncludeLaunchDescription(
        launch.launch_description_sources.PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={"duration": "20.0", "mode": "lockstep", "record": str(BAG)}.items(),
    )
    return launch.LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


class TestSimStackReachesRun(unittest.TestCase):
    def test_policy_reaches_run_and_the_launch_ends_by_itself(self, proc_info) -> None:
        rclpy.init()
        node = rclpy.create_node("sim_launch_probe")
        modes: list[str] = []
        node.create_subscription(String, "policy/mode", lambda m: modes.append(m.data), LATCHED)
        try:
            end = node.get_clock().now().nanoseconds + 60e9
            while "run" not in modes and node.get_clock().now().nanoseconds < end:
                rclpy.spin_once(node, timeout_sec=0.1)
            self.assertIn("run", modes, f"modes seen: {modes}")
        finally:
            node.destroy_node()
            rclpy.shutdown()
        proc_info.assertWaitForShutdown(process="memaug_sim_node", timeout=120)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_every_process_exits_0_and_the_bag_is_closed(self, proc_info) -> None:
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0])
        self.assertTrue((BAG / "metadata.yaml").is_file())
