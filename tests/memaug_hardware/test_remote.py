"""The Go2 remote: its 40 bytes, the key map, and the damp chord inside the bridge."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from memaug_hardware.remote import SIZE, RemoteState, parse_script
from memaug_hardware.safety import BridgeMode, BridgeSafety, SafetyLimits

from memaug_common.description import load_robot_description
from memaug_common.remote_map import KEYS, stick_command

GO2 = load_robot_description("go2")


def test_the_wire_layout_is_unitrees() -> None:
    raw = bytearray(SIZE)
    struct.pack_into("<H", raw, 2, (1 << 0) | (1 << 5) | (1 << 9) | (1 << 15))  # R1, L2, B, left
    struct.pack_into("<5f", raw, 4, 0.1, 0.2, 0.3, 1.0, -0.5)  # lx, rx, ry, L2 travel, ly
    remote = RemoteState.parse(raw)
    assert remote.keys == {"R1", "L2", "B", "left"}
    assert (remote.lx, remote.rx, remote.ry, remote.ly) == pytest.approx((0.1, 0.2, 0.3, -0.5))
    assert RemoteState.parse(remote.pack()) == remote
    with pytest.raises(ValueError, match="has 39 bytes, expected 40"):
        RemoteState.parse(bytes(39))
    assert len(KEYS) == 16


def test_a_script_plays_keys_and_sticks_in_time_order() -> None:
    script = parse_script("5:R1, 2:L2+A, 8:ly=0.6+rx=-0.2, 12:none")
    assert [t for t, _ in script] == [2.0, 5.0, 8.0, 12.0]
    assert script[0][1].keys == {"L2", "A"} and script[2][1].ly == pytest.approx(0.6)
    assert script[3][1] == RemoteState(frozenset())
    with pytest.raises(ValueError, match="unknown key 'Z'"):
        parse_script("1:L2+Z")


def test_the_damp_chord_latches_damping_in_the_bridge() -> None:
    safety = BridgeSafety(GO2, SafetyLimits())
    safety.on_state(_upright(), True, 0.0)
    safety.arm(_upright(), 0.0, 0.0)
    safety.on_remote(RemoteState(frozenset({"L2"})))  # half the chord: nothing
    assert safety.mode is BridgeMode.ARMED
    safety.on_remote(RemoteState(frozenset({"L2", "B"})))
    assert safety.mode is BridgeMode.FAULT and safety.reason == "remote damp (L2 + B)"
    assert np.all(safety.motor_command(0.0).kp == 0)


def test_sticks_map_to_the_models_command_ranges_with_a_deadband() -> None:
    ranges = {"vx": (-0.4, 0.8), "vy": (-0.3, 0.3), "yaw_rate": (-0.8, 0.8)}
    assert stick_command(0.05, -0.05, 0.0, ranges) is None
    np.testing.assert_allclose(stick_command(0.0, 1.0, 0.0, ranges), [0.8, 0.0, 0.0])
    np.testing.assert_allclose(stick_command(0.0, -1.0, 0.0, ranges), [-0.4, 0.0, 0.0])
    np.testing.assert_allclose(stick_command(-1.0, 0.0, 1.0, ranges), [0.0, 0.3, -0.8])  # left: +vy; right: -yaw
    np.testing.assert_allclose(stick_command(0.0, 0.55, 0.0, ranges), [0.4, 0.0, 0.0])  # half-way past the deadband


def _upright():
    from memaug_hardware.protocol import RobotState

    n = GO2.num_joints
    return RobotState(
        GO2.default_pose.copy(), np.zeros(n), np.zeros(n), np.array([1.0, 0, 0, 0]), np.zeros(3), np.zeros(3), 0
    )


def test_the_remote_damps_an_armed_robot_through_the_emulator(fault_rehearsal, recorded_summary) -> None:
    assert fault_rehearsal(("--remote", "3.0:L2+B"), ("-p", "state_timeout_s:=0.3")) == "fault: remote damp (L2 + B)"
    assert "remote damp (L2 + B)" in [f["reason"] for f in recorded_summary()["bridge_faults"]]
