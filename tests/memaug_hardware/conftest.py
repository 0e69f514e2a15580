"""Fixtures of the hardware tests: the Go2 DDS domain and a tap on rt/lowcmd."""

from __future__ import annotations

import pytest


@pytest.fixture
def go2_domain(domain_id: int) -> int:
    """DDS domain of the Go2 channels: distinct from the ROS domain, unique per test."""
    return domain_id + 110


@pytest.fixture
def lowcmd_tap(go2_domain: int):
    """Read rt/lowcmd on the wire (what the robot receives), from the test process."""
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from memaug_hardware.dds import LOWCMD_TOPIC, participant
    from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_

    dp = participant(go2_domain, "lo")
    return DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_))


@pytest.fixture
def start_bridge(start_node, go2_domain: int):
    """start_bridge(*ros_args): the Go2 bridge on loopback in the test's Go2 domain, arming by
    itself (auto_activate) once configured; more ``-p name:=value`` pairs may follow."""

    def start(*extra: str):
        return start_node(
            "memaug_go2_bridge", "--ros-args", "-p", "network_interface:=lo", "-p", f"dds_domain_id:={go2_domain}",
            "-p", "auto_activate:=true", *extra,
        )  # fmt: skip

    return start
