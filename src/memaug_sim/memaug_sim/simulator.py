"""The simulator core of the sim bridge: MuJoCo + PD + watchdog + e-stop + faults. No ROS.

Frames: world is z-up with gravity -z; the base frame is the base body's frame (x forward,
y left, z up). Joint arrays are [num_joints] in description order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import mujoco
import numpy as np

from memaug_common.actuators import TorqueSpeedEnvelope
from memaug_common.description import RobotDescription
from memaug_sim.commands import JointCommand
from memaug_sim.dynamics import NOMINAL, Dynamics, NominalPhysics, apply_physics
from memaug_sim.faults import Fault, FaultEvent, FaultInjector
from memaug_sim.model import Actuation, ModelIndex, build_model
from memaug_sim.pd import damping_torque, pd_torque
from memaug_sim.terrain import FLAT, Terrain


class BridgeMode(enum.Enum):
    """PASSIVE: damping only (no command, or the last one is stale). ACTIVE: PD toward the
    latest command. ESTOP: damping, latched until the e-stop is released."""

    PASSIVE = "passive"
    ACTIVE = "active"
    ESTOP = "estop"


@dataclass(frozen=True)
class ImuNoise:
    """White noise standard deviations added to the IMU readings."""

    gyro_std: float = 0.0  # rad/s
    accelerometer_std: float = 0.0  # m/s^2


@dataclass(frozen=True)
class JointSample:
    position: np.ndarray  # rad
    velocity: np.ndarray  # rad/s
    effort: np.ndarray  # N m, the torque the actuator applied (after faults)


@dataclass(frozen=True)
class ImuSample:
    orientation_wxyz: np.ndarray  # [4], world <- base (IMU site)
    angular_velocity: np.ndarray  # [3] rad/s, IMU frame
    linear_acceleration: np.ndarray  # [3] m/s^2, IMU frame, specific force (reads +g at rest)


@dataclass(frozen=True)
class BaseSample:
    position: np.ndarray  # [3] m, world
    orientation_wxyz: np.ndarray  # [4], world <- base
    linear_velocity: np.ndarray  # [3] m/s, base frame
    angular_velocity: np.ndarray  # [3] rad/s, base frame


class Simulator:
    """One robot in MuJoCo, driven like the real one: torques from PD at physics rate.

    The watchdog runs on sim time: a command older than ``command_timeout_s`` puts the
    bridge in PASSIVE (damping) until a fresh one arrives. Every torque, PD or damping, is
    limited by the motors' torque-speed envelope (memaug_common.actuators); ``dynamics``
    moves the robot away from its nominal model (gains, strength, masses, friction, ...).
    """

    def __init__(
        self,
        description: RobotDescription,
        command_timeout_s: float = 0.1,
        imu_noise: ImuNoise = ImuNoise(),
        seed: int = 0,
        dynamics: Dynamics = NOMINAL,
        terrain: Terrain = FLAT,
    ) -> None:
        self.description = description
        self.model = build_model(description, Actuation.TORQUE, terrain=terrain)
        self.data = mujoco.MjData(self.model)
        self.index = ModelIndex.of(self.model, description)
        self.faults = FaultInjector(self.model, self.index, description)
        self.envelope = TorqueSpeedEnvelope.for_robot(description)
        self._nominal = NominalPhysics.of(self.model)
        self.dynamics = dynamics
        self.command_timeout_s = command_timeout_s
        self._imu_noise = imu_noise
        self._rng = np.random.default_rng(seed)
        self._command: JointCommand | None = None
        self._command_time_s = -np.inf
        self._estop = False
        self.reset()

    # --- lifecycle ----------------------------------------------------------------------
    def reset(self) -> None:
        """Standing keyframe, no command, no fault, sim time 0; the dynamics stay."""
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.index.keyframe)
        self.faults.clear(self.data)
        self.set_dynamics(self.dynamics)
        self._command = None
        self._command_time_s = -np.inf
        mujoco.mj_forward(self.model, self.data)

    @property
    def time_s(self) -> float:
        return float(self.data.time)

    @property
    def physics_period_s(self) -> float:
        return float(self.model.opt.timestep)

    # --- inputs -------------------------------------------------------------------------
    def submit_command(self, command: JointCommand) -> None:
        """Take a validated command; it is fresh from now (sim time)."""
        self._command = command
        self._command_time_s = self.time_s

    def set_estop(self, engaged: bool) -> None:
        """Engage (latch damping) or release the e-stop."""
        self._estop = engaged

    def set_dynamics(self, dynamics: Dynamics) -> None:
        """Move the robot to ``dynamics`` (from its nominal model); active faults are kept."""
        self.dynamics = dynamics
        apply_physics(self.model, self.index, self._nominal, dynamics)
        self.faults.reapply_body_faults()  # a payload or friction fault acts on top of the new values
        self.kp = self.description.kp * dynamics.kp_scale
        self.kd = self.description.kd * dynamics.kd_scale
        joints = self.description.num_joints
        self._strength = dynamics.joint_strength(joints)  # [J] x torque limits
        self._encoder_offset = dynamics.measured_offsets(joints)  # [J] rad

    def inject(self, fault: Fault) -> FaultEvent:
        return self.faults.apply(fault, self.data)

    def clear_faults(self) -> None:
        self.faults.clear(self.data)

    # --- stepping -----------------------------------------------------------------------
    @property
    def mode(self) -> BridgeMode:
        if self._estop:
            return BridgeMode.ESTOP
        if self._command is None or self.time_s - self._command_time_s > self.command_timeout_s:
            return BridgeMode.PASSIVE
        return BridgeMode.ACTIVE

    def step(self) -> None:
        """Advance one physics period with the torque the current mode asks for."""
        d, idx, desc = self.data, self.index, self.description
        q, dq = d.qpos[idx.qpos] + self._encoder_offset, d.qvel[idx.qvel]  # the motors' own encoders
        if self.mode is BridgeMode.ACTIVE:
            assert self._command is not None
            cmd = self._command
            tau = pd_torque(q, dq, cmd.position, cmd.velocity, cmd.effort, self.kp, self.kd, desc.torque_limits)
        else:
            tau = damping_torque(dq, desc.passive_kd, desc.torque_limits)
        d.ctrl[idx.actuators] = self.envelope.clip(tau, dq, self._strength)
        mujoco.mj_step(self.model, d)

    def step_torque(self, tau: np.ndarray) -> None:
        """Advance one physics period applying joint torques ``tau`` [J] N m (clipped to limits).

        For callers that run their own motor model (the Go2 emulator's per-motor PD); the
        bridge mode, watchdog and e-stop do not apply, the torque-speed envelope does.
        """
        dq = self.data.qvel[self.index.qvel]
        self.data.ctrl[self.index.actuators] = self.envelope.clip(tau, dq, self._strength)
        mujoco.mj_step(self.model, self.data)

    # --- outputs ------------------------------------------------------------------------
    def joints(self) -> JointSample:
        d, idx = self.data, self.index
        return JointSample(
            position=d.qpos[idx.qpos] + self._encoder_offset,  # what the encoders read
            velocity=d.qvel[idx.qvel].copy(),
            effort=d.actuator_force[idx.actuators].copy(),
        )

    def imu(self) -> ImuSample:
        s, idx, noise = self.data.sensordata, self.index, self._imu_noise
        gyro = s[idx.gyro_sensor].copy()
        acc = s[idx.acc_sensor].copy()
        if noise.gyro_std > 0:
            gyro += self._rng.normal(0.0, noise.gyro_std, 3)
        if noise.accelerometer_std > 0:
            acc += self._rng.normal(0.0, noise.accelerometer_std, 3)
        return ImuSample(orientation_wxyz=s[idx.quat_sensor].copy(), angular_velocity=gyro, linear_acceleration=acc)

    def base(self) -> BaseSample:
        """Ground-truth base pose and twist (the free joint's qpos/qvel)."""
        d = self.data
        quat = d.qpos[3:7].copy()
        world_to_base = np.empty(9)
        mujoco.mju_quat2Mat(world_to_base, quat)
        rotation = world_to_base.reshape(3, 3)  # base -> world
        return BaseSample(
            position=d.qpos[0:3].copy(),
            orientation_wxyz=quat,
            linear_velocity=rotation.T @ d.qvel[0:3],
            angular_velocity=d.qvel[3:6].copy(),
        )
