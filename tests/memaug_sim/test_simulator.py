"""The simulator core: standing, PD saturation, watchdog, e-stop and each fault kind."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.description import RobotDescription, load_robot_description
from memaug_sim.commands import JointCommand
from memaug_sim.faults import FrictionFault, LimpFault, LockedFault, PayloadFault, WeakenedFault
from memaug_sim.pd import pd_torque
from memaug_sim.simulator import BridgeMode, Simulator


@pytest.fixture(scope="module")
def go2() -> RobotDescription:
    return load_robot_description("go2")


def hold(d: RobotDescription, pose: np.ndarray | None = None) -> JointCommand:
    return JointCommand(d.default_pose.copy() if pose is None else pose, np.zeros(12), np.zeros(12))


def run(sim: Simulator, seconds: float, command: JointCommand | None = None) -> None:
    """Step for ``seconds`` of sim time, re-sending ``command`` every control period."""
    steps_per_command = sim.description.substeps
    for step in range(round(seconds / sim.physics_period_s)):
        if command is not None and step % steps_per_command == 0:
            sim.submit_command(command)
        sim.step()


class TestStanding:
    def test_stands_ten_seconds_in_the_default_pose(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        heights = []
        for _ in range(10):
            run(sim, 1.0, hold(go2))
            heights.append(sim.base().position[2])
        assert sim.mode is BridgeMode.ACTIVE
        assert abs(heights[-1] - go2.nominal_base_height_m) < 0.02
        assert max(heights) - min(heights) < 0.005  # settled, not sinking or sliding
        # PD without gravity compensation: the knees sag ~0.15 rad under the body's weight.
        np.testing.assert_allclose(sim.joints().position, go2.default_pose, atol=0.2)

    def test_imu_reads_gravity_at_rest(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 1.0, hold(go2))
        imu = sim.imu()
        assert imu.linear_acceleration[2] == pytest.approx(9.81, abs=0.3)
        assert np.linalg.norm(imu.angular_velocity) < 0.05

    def test_passive_robot_sinks_under_damping_only(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 2.0)
        assert sim.mode is BridgeMode.PASSIVE
        assert sim.base().position[2] < go2.nominal_base_height_m - 0.1


class TestPd:
    def test_torque_saturates_at_the_limits(self, go2: RobotDescription) -> None:
        q = go2.default_pose.copy()
        far = q + 10.0
        tau = pd_torque(q, np.zeros(12), far, np.zeros(12), np.zeros(12), go2.kp, go2.kd, go2.torque_limits)
        np.testing.assert_allclose(tau, go2.torque_limits)
        tau = pd_torque(q, np.zeros(12), q, np.zeros(12), np.full(12, -1e3), go2.kp, go2.kd, go2.torque_limits)
        np.testing.assert_allclose(tau, -go2.torque_limits)

    def test_applied_torque_in_sim_never_exceeds_limits(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        wild = np.where(np.arange(12) % 2 == 0, go2.upper_limits, go2.lower_limits)
        run(sim, 0.5, JointCommand(wild, np.full(12, 30.0), np.full(12, 100.0)))
        assert np.all(np.abs(sim.joints().effort) <= go2.torque_limits + 1e-9)


class TestWatchdogAndEstop:
    def test_stale_command_returns_to_damping(self, go2: RobotDescription) -> None:
        sim = Simulator(go2, command_timeout_s=0.05)
        sim.submit_command(hold(go2))
        run(sim, 0.04)
        assert sim.mode is BridgeMode.ACTIVE
        run(sim, 0.02)
        assert sim.mode is BridgeMode.PASSIVE
        dq_before = sim.joints().velocity
        sim.step()
        np.testing.assert_allclose(sim.joints().effort, -go2.passive_kd * dq_before, atol=1e-9)

    def test_estop_latches_damping_until_released(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 0.2, hold(go2))
        sim.set_estop(True)
        run(sim, 0.2, hold(go2))
        assert sim.mode is BridgeMode.ESTOP
        sim.set_estop(False)
        run(sim, 0.02, hold(go2))
        assert sim.mode is BridgeMode.ACTIVE


class TestFaults:
    def test_limp_joint_has_zero_actuator_torque(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 0.5, hold(go2))
        event = sim.inject(LimpFault(kind="limp", joint="FR_calf_joint"))
        assert event.sim_time_s == pytest.approx(0.5)
        run(sim, 0.5, hold(go2))
        effort = sim.joints().effort
        knee = go2.joint_index("FR_calf_joint")
        assert effort[knee] == 0.0
        assert np.count_nonzero(effort) == 11

    def test_locked_joint_has_zero_velocity(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 0.5, hold(go2))
        knee = go2.joint_index("RL_thigh_joint")
        locked_at = sim.joints().position[knee]
        sim.inject(LockedFault(kind="locked", joint="RL_thigh_joint"))
        swing = go2.default_pose.copy()
        swing[knee] += 0.6
        velocities = []
        for _ in range(50):
            run(sim, 0.01, hold(go2, swing))
            velocities.append(sim.joints().velocity[knee])
        assert np.max(np.abs(velocities)) < 0.05
        assert sim.joints().position[knee] == pytest.approx(locked_at, abs=0.01)

    def test_weakened_joint_torque_is_scaled_with_its_limit(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        sim.inject(WeakenedFault(kind="weakened", joint="FL_hip_joint", factor=0.25))
        hip = go2.joint_index("FL_hip_joint")
        pose = go2.default_pose.copy()
        pose[hip] = go2.upper_limits[hip]  # asks for far more than the limit
        sim.submit_command(hold(go2, pose))
        sim.step()
        # The PD saturates at the nominal limit; the weakened motor delivers a quarter of it.
        assert sim.data.ctrl[sim.index.actuators[hip]] == pytest.approx(go2.torque_limits[hip])
        assert sim.joints().effort[hip] == pytest.approx(0.25 * go2.torque_limits[hip], rel=1e-9)

    def test_payload_lowers_the_stance_and_clear_restores(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        run(sim, 1.0, hold(go2))
        nominal = sim.base().position[2]
        sim.inject(PayloadFault(kind="payload", mass_kg=8.0))
        run(sim, 1.0, hold(go2))
        loaded = sim.base().position[2]
        sim.clear_faults()
        run(sim, 1.0, hold(go2))
        assert loaded < nominal - 0.01
        assert sim.base().position[2] == pytest.approx(nominal, abs=0.005)

    def test_friction_scales_every_contact(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        before = sim.model.geom_friction[:, 0].copy()
        sim.inject(FrictionFault(kind="friction", scale=0.3))
        np.testing.assert_allclose(sim.model.geom_friction[:, 0], 0.3 * before)

    def test_fault_on_unknown_joint_is_refused(self, go2: RobotDescription) -> None:
        sim = Simulator(go2)
        with pytest.raises(ValueError, match="unknown joint 'FR_knee'"):
            sim.inject(LimpFault(kind="limp", joint="FR_knee"))


def test_same_seed_same_trajectory(go2: RobotDescription) -> None:
    from memaug_sim.simulator import ImuNoise

    def trajectory() -> np.ndarray:
        sim = Simulator(go2, imu_noise=ImuNoise(0.01, 0.05), seed=7)
        rows = []
        for _ in range(20):
            run(sim, 0.05, hold(go2))
            rows.append(np.concatenate([sim.joints().position, sim.imu().angular_velocity]))
        return np.array(rows)

    np.testing.assert_array_equal(trajectory(), trajectory())
