"""launch_testing: record.launch.py starts the recorder, which writes a bag with metadata on shutdown.

Needs a ROS 2 install (Jazzy or newer) with launch_testing; skipped elsewhere.
"""

from __future__ import annotations

import os
import tempfile
import time
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

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
LAUNCH_FILE = Path(__file__).resolve().parents[2] / "src" / "memaug_bringup" / "launch" / "record.launch.py"
BAG = Path(tempfile.mkdtemp()) / "bag"


@pytest.mark.launch_test
def generate_test_description():
    record = launch.actions.IncludeLaunchDescription(
        launch.launch_description_sources.PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={"record": str(BAG)}.items(),
    )
    return launch.LaunchDescription([record, launch_testing.actions.ReadyToTest()])


class TestRecorderStarts(unittest.TestCase):
    def test_bag_file_created(self) -> None:
        deadline = time.monotonic() + 30
        while not (BAG / "bag_0.mcap").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue((BAG / "bag_0.mcap").exists())


@launch_testing.post_shutdown_test()
class TestCleanClose(unittest.TestCase):
    def test_metadata_written(self) -> None:
        self.assertTrue((BAG / "metadata.yaml").exists())
