"""The control FSM's transitions, the staleness guard and the last gate before a command leaves the node."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_policy.fsm import ControlFsm, Mode
from memaug_policy.safety import CommandLimits
from memaug_policy.state import (
    ImuReading,
    JointOrder,
    JointReading,
    StalenessGuard,
    StateRejected,
    clamp_command,
    command_limits,
)

GO2 = load_robot_description("go2")
LYING = GO2.default_pose + np.tile([0.0, 0.6, 0.9], 4)


def fsm(auto_run: bool = True) -> ControlFsm:
    return ControlFsm(GO2.default_pose, stand_duration_s=2.0, stand_hold_s=0.5, auto_run=auto_run)


class TestFsm:
    def test_idle_stand_run_damp(self) -> None:
        f = fsm()
        assert f.mode is Mode.IDLE
        assert f.start(10.0, LYING) == (True, "standing up")
        assert f.mode is Mode.STAND
        assert f.stand is not None
        np.testing.assert_allclose(f.stand.targets(10.0), LYING)
        np.testing.assert_allclose(f.stand.targets(11.0), (LYING + GO2.default_pose) / 2)
        f.tick(12.4)
        assert f.mode is Mode.STAND  # interpolation done, still holding
        f.tick(12.5)
        assert f.mode is Mode.RUN and f.entered_run
        assert f.stop() == (True, "stopped by ~/stop")
        assert f.mode is Mode.DAMP

    def test_second_start_enters_run_without_auto_run(self) -> None:
        f = fsm(auto_run=False)
        f.start(0.0, LYING)
        f.tick(100.0)
        assert f.mode is Mode.STAND
        assert f.start(100.0, LYING) == (True, "policy running")
        assert f.mode is Mode.RUN

    def test_start_needs_state_and_no_estop(self) -> None:
        f = fsm()
        assert f.start(0.0, None)[0] is False
        f.set_estop(True)
        assert f.start(0.0, LYING) == (False, "e-stop engaged: release /estop first")

    def test_estop_and_faults_damp_from_any_active_state(self) -> None:
        f = fsm()
        f.start(0.0, LYING)
        f.set_estop(True)
        assert f.mode is Mode.DAMP and f.reason == "e-stop"
        f.set_estop(False)
        f.start(1.0, LYING)
        f.start(1.0, LYING)
        f.fault("stale /imu/data")
        assert f.mode is Mode.DAMP and f.reason == "stale /imu/data"


class TestSafety:
    def test_targets_clipped_to_range_and_torque_band(self) -> None:
        limits = CommandLimits.for_robot(GO2)
        measured = GO2.default_pose.copy()
        safe = limits.apply(measured + 5.0, measured)
        assert np.all(safe <= GO2.upper_limits)
        torque = GO2.kp * (safe - measured)
        assert np.all(np.abs(torque) <= GO2.torque_limits + 1e-9)

    def test_non_finite_targets_are_never_passed(self) -> None:
        limits = CommandLimits.for_robot(GO2)
        bad = GO2.default_pose.copy()
        bad[2] = np.inf
        with pytest.raises(ArithmeticError):
            limits.apply(bad, GO2.default_pose)


class TestState:
    def test_joint_states_in_any_order_are_reordered(self) -> None:
        order = JointOrder(GO2.joint_names)
        names = list(reversed(GO2.joint_names))
        reading = order.reading(names, list(range(12)), [0.0] * 12, 1.0)
        np.testing.assert_array_equal(reading.position, np.arange(11, -1, -1))

    def test_wrong_names_or_lengths_are_rejected(self) -> None:
        order = JointOrder(GO2.joint_names)
        with pytest.raises(StateRejected, match="do not match"):
            order.reading(["a"] * 12, [0.0] * 12, [0.0] * 12, 0.0)
        with pytest.raises(StateRejected, match="11 velocities"):
            order.reading(GO2.joint_names, [0.0] * 12, [0.0] * 11, 0.0)

    def test_commands_outside_the_trained_ranges_are_clamped(self) -> None:
        ranges = {"vx": (-0.3, 1.0), "vy": (-0.4, 0.4), "yaw_rate": (-1.0, 1.0)}
        clamped, was = clamp_command(np.array([2.0, 0.0, -3.0]), command_limits(ranges))
        np.testing.assert_array_equal(clamped, [1.0, 0.0, -1.0])
        assert was
        assert clamp_command(np.array([0.5, 0.1, 0.2]), command_limits(ranges))[1] is False


class TestStalenessGuard:
    """Stale ticks that come on time stop the node on the second; late ones (a starved node) skip."""

    @staticmethod
    def readings(joint_stamp: float, imu_stamp: float) -> tuple[tuple[str, JointReading], tuple[str, ImuReading]]:
        joints = JointReading(np.zeros(12), np.zeros(12), joint_stamp)
        imu = ImuReading(np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3), imu_stamp)
        return ("/joint_states", joints), ("/imu/data", imu)

    @staticmethod
    def guard(stale_ticks_allowed: int = 1) -> StalenessGuard:
        return StalenessGuard(timeout_s=0.1, stale_ticks_allowed=stale_ticks_allowed, period_s=0.02)

    def test_fresh_state_commands(self) -> None:
        assert self.guard().check(1.0, self.readings(0.95, 0.99)) == (True, None)

    def test_one_stale_tick_skips_and_a_fresh_one_clears_it(self) -> None:
        guard = self.guard()
        assert guard.check(0.98, self.readings(0.97, 0.97)) == (True, None)
        assert guard.check(1.0, self.readings(0.88, 0.99)) == (False, None)
        assert guard.check(1.02, self.readings(1.01, 1.01)) == (True, None)
        assert guard.check(1.04, self.readings(1.01, 0.93)) == (False, None)

    def test_two_on_time_stale_ticks_in_a_row_are_a_fault_that_names_the_topic(self) -> None:
        guard = self.guard()
        assert guard.check(0.98, self.readings(0.97, 0.97)) == (True, None)
        assert guard.check(1.0, self.readings(0.99, 0.88)) == (False, None)
        fresh, fault = guard.check(1.02, self.readings(1.01, 0.88))
        assert not fresh
        assert fault == "stale /imu/data: 0.140 s old (limit 0.1 s; 2 on-time control ticks in a row)"

    def test_late_and_bunched_ticks_of_a_starved_node_do_not_count(self) -> None:
        """The node stalled 0.13 s: its timer fired late, then again at once, before the state
        callbacks queued behind it ran (the CI failure this guards against)."""
        guard = self.guard()
        assert guard.check(1.0, self.readings(0.99, 0.99)) == (True, None)
        assert guard.check(1.13, self.readings(0.99, 0.99)) == (False, None)  # late
        assert guard.check(1.131, self.readings(0.99, 0.99)) == (False, None)  # bunched
        assert guard.check(1.15, self.readings(1.149, 1.149)) == (True, None)

    def test_state_three_timeouts_old_stops_however_the_ticks_came(self) -> None:
        guard = self.guard()
        assert guard.check(1.0, self.readings(0.99, 0.99)) == (True, None)
        fresh, fault = guard.check(1.4, self.readings(0.99, 0.99))
        assert not fresh and fault is not None and fault.startswith("stale /joint_states: 0.410 s old")

    def test_a_new_start_forgets_earlier_ticks(self) -> None:
        guard = self.guard()
        for now in (1.0, 1.02, 1.04):
            _, fault = guard.check(now, self.readings(0.8, 1.0))
        assert fault is not None
        guard.reset()
        assert guard.check(1.06, self.readings(0.95, 1.0)) == (False, None)

    def test_with_none_allowed_the_first_on_time_stale_tick_is_a_fault(self) -> None:
        guard = self.guard(stale_ticks_allowed=0)
        assert guard.check(0.98, self.readings(0.97, 0.97)) == (True, None)
        fresh, fault = guard.check(1.0, self.readings(0.8, 1.0))
        assert not fresh and fault is not None and fault.startswith("stale /joint_states: 0.200 s old")

    def test_a_reading_never_received_is_a_fault_at_once(self) -> None:
        joints, _ = self.readings(1.0, 1.0)
        assert self.guard(3).check(1.0, (joints, ("/imu/data", None))) == (False, "no /imu/data received")
