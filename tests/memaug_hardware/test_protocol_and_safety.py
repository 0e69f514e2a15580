"""Go2 message conversion, CRC, the motor model and the bridge's own safety rules."""

from __future__ import annotations

import numpy as np
import pytest
from memaug_hardware.protocol import (
    HEAD,
    MotorCommand,
    RobotState,
    command_from_lowcmd,
    crc_ok,
    fill_lowcmd,
    lowcmd_from_command,
    motor_torque,
    new_lowcmd,
)
from memaug_hardware.safety import BridgeMode, BridgeSafety, SafetyLimits

from memaug_common.description import load_robot_description

GO2 = load_robot_description("go2")
N = GO2.num_joints


def command(offset: float = 0.0) -> MotorCommand:
    return MotorCommand(GO2.default_pose + offset, np.zeros(N), GO2.kp.copy(), GO2.kd.copy(), np.full(N, 0.5))


def state(position: np.ndarray | None = None, velocity: float = 0.0) -> RobotState:
    return RobotState(
        position=GO2.default_pose.copy() if position is None else position,
        velocity=np.full(N, velocity),
        effort=np.zeros(N),
        orientation_wxyz=np.array([1.0, 0, 0, 0]),
        angular_velocity=np.zeros(3),
        linear_acceleration=np.array([0, 0, 9.81]),
        tick=0,
    )


def on_its_side() -> RobotState:
    lying = state()
    return RobotState(
        lying.position,
        lying.velocity,
        lying.effort,
        np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0]),  # rolled 90 deg
        lying.angular_velocity,
        lying.linear_acceleration,
        0,
    )


class TestProtocol:
    def test_lowcmd_round_trip_with_framing_and_crc(self) -> None:
        frame = lowcmd_from_command(command(0.1))
        assert tuple(frame.head) == HEAD and frame.level_flag == 0xFF
        assert crc_ok(frame)
        back = command_from_lowcmd(frame, N)
        np.testing.assert_allclose(back.position, GO2.default_pose + 0.1, atol=1e-6)  # float32 on the wire
        np.testing.assert_allclose(back.kp, GO2.kp)
        assert all(m.mode == 0 for m in frame.motor_cmd[N:])  # unused slots stay off

    def test_a_reused_frame_equals_a_new_one_each_tick(self) -> None:
        reused = new_lowcmd()
        for tick in (command(0.1), MotorCommand.damping(N, GO2.passive_kd), command(-0.2)):
            frame = fill_lowcmd(reused, tick)
            assert frame is reused and frame == lowcmd_from_command(tick) and crc_ok(frame)

    def test_any_change_breaks_the_crc(self) -> None:
        frame = lowcmd_from_command(command())
        frame.motor_cmd[4].q += 0.01
        assert not crc_ok(frame)

    def test_motor_model_is_pd_plus_feedforward_saturated(self) -> None:
        tau = motor_torque(command(0.1), GO2.default_pose, np.zeros(N), GO2.torque_limits)
        np.testing.assert_allclose(tau, GO2.kp * 0.1 + 0.5)
        tau = motor_torque(command(5.0), GO2.default_pose, np.zeros(N), GO2.torque_limits)
        np.testing.assert_allclose(tau, GO2.torque_limits)


class TestSafety:
    def safety(self) -> BridgeSafety:
        return BridgeSafety(GO2, SafetyLimits(command_timeout_s=0.05, state_timeout_s=0.05))

    def test_disarmed_bridge_sends_damping_whatever_it_is_commanded(self) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        s.on_command(GO2.default_pose + 0.3, np.zeros(N), np.zeros(N), 0.0)
        out = s.motor_command(0.01)
        assert np.all(out.kp == 0) and np.all(out.kd == GO2.passive_kd)

    def test_armed_follows_fresh_commands_and_damps_when_they_stop(self) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        assert s.arm(state(), 0.0, gravity_xy=0.0) == (True, "armed")
        s.on_command(GO2.default_pose + 0.2, np.zeros(N), np.zeros(N), 0.0)
        s.on_state(state(), True, 0.04)
        np.testing.assert_allclose(s.motor_command(0.04).kp, GO2.kp)
        s.on_state(state(), True, 0.06)
        assert np.all(s.motor_command(0.06).kp == 0)  # command 60 ms old: watchdog
        assert s.mode is BridgeMode.ARMED and s.counters["watchdog_damping"] == 1

    @pytest.mark.parametrize(
        ("event", "reason"),
        [
            (lambda s: [s.on_state(state(), False, 0.01), s.motor_command(0.1)], "had a bad CRC"),
            (lambda s: s.on_state(state(velocity=np.nan), True, 0.01), "NaN"),
            (lambda s: s.on_state(state(GO2.upper_limits + 0.2), True, 0.01), "outside its range"),
            (lambda s: [s.on_state(state(velocity=40.0), True, 0.01) for _ in range(10)], "over its velocity limit"),
            (lambda s: s.on_state(on_its_side(), True, 0.01), "tilted 90 deg"),
            (lambda s: s.set_estop(True), "e-stop"),
            (lambda s: s.motor_command(0.2), "stale lowstate"),
        ],
    )
    def test_faults_latch_damping(self, event, reason: str) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        s.arm(state(), 0.0, 0.0)
        s.on_command(GO2.default_pose, np.zeros(N), np.zeros(N), 0.0)
        event(s)
        assert s.mode is BridgeMode.FAULT and reason in s.reason
        assert np.all(s.motor_command(0.01).kp == 0)

    def test_a_bad_crc_frame_is_dropped_and_counted_and_measurements_go_on_after_a_fault(self) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        s.arm(state(), 0.0, 0.0)
        assert s.on_state(state(), False, 0.01) is False  # dropped, counted, no fault
        assert s.mode is BridgeMode.ARMED and s.counters["bad_crc"] == 1
        s.set_estop(True)
        assert s.on_state(state(), True, 0.02) is True  # faulted: still a measurement to publish

    def test_velocity_protection_needs_persistence_and_the_margin(self) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        s.arm(state(), 0.0, 0.0)
        limit = GO2.velocity_limits.min()
        for _ in range(9):  # nine samples over the limit, then one under: a spike, no fault
            s.on_state(state(velocity=2 * limit), True, 0.001)
        s.on_state(state(velocity=0.0), True, 0.002)
        for _ in range(50):  # within the 10 % margin, however long
            s.on_state(state(velocity=1.05 * limit), True, 0.003)
        assert s.mode is BridgeMode.ARMED
        for _ in range(10):
            s.on_state(state(velocity=2 * limit), True, 0.004)
        assert s.mode is BridgeMode.FAULT and "for 10 samples" in s.reason

    def test_commands_from_before_arming_are_not_executed(self) -> None:
        s = self.safety()
        s.on_state(state(), True, 0.0)
        s.on_command(GO2.default_pose + 0.5, np.zeros(N), np.zeros(N), 0.0)
        s.arm(state(), 0.01, 0.0)
        s.on_state(state(), True, 0.02)
        assert np.all(s.motor_command(0.02).kp == 0)  # damping until a command arrives after arming
        s.on_command(GO2.default_pose, np.zeros(N), np.zeros(N), 0.03)
        np.testing.assert_allclose(s.motor_command(0.03).kp, GO2.kp)

    def test_arming_rules(self) -> None:
        s = self.safety()
        assert s.arm(None, 0.0, 0.0) == (False, "no valid lowstate")
        s.on_state(state(), True, 0.0)
        assert s.arm(state(), 0.0, gravity_xy=0.9)[0] is False
        s.set_estop(True)
        assert s.arm(state(), 0.0, 0.0) == (False, "e-stop engaged")
