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


@pytest.fixture
def fault_rehearsal(ros, start_node, start_bridge, go2_domain: int):
    """fault_rehearsal(emulator_args, bridge_args=()) -> str: the emulator with a rehearsed
    fault (--kick, --zero-crc-after, --remote ...), the bridge arming by itself; waits for it to
    arm and then to fault, and returns its /bridge/state text ("fault: ...")."""
    from std_msgs.msg import String

    from memaug_common.ros_qos import LATCHED

    def rehearse(emulator_args: tuple[str, ...], bridge_args: tuple[str, ...] = ()) -> str:
        states = ros.subscribe(String, "bridge/state", LATCHED)
        start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), *emulator_args)
        start_bridge(*bridge_args)
        ros.wait_for(lambda: any(m.data.startswith("armed") for m in states), 30.0, "the bridge to arm")
        ros.wait_for(lambda: states[-1].data.startswith("fault"), 30.0, f"a fault from {emulator_args}")
        return states[-1].data

    return rehearse
