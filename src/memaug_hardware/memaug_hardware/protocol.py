"""Conversions between the Go2's low-level messages and memaug's joint/IMU arrays. ROS-free.

The Go2 SDK's motor order is the robot description's joint order (config/robots/go2.yaml),
so motor i is joint i; the description's joint count says how many motor slots are used
(LowCmd_ has 20). Units: rad, rad/s, N m; IMU quaternion w-x-y-z, gyro rad/s, accel m/s^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowCmd_
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_
from unitree_sdk2py.utils.crc import CRC

#: LowCmd_ framing the Go2 firmware expects.
HEAD = (0xFE, 0xEF)
LEVEL_LOW = 0xFF
MODE_SERVO = 0x01  # motor enabled, PD + feed-forward

_CRC = CRC()


def crc_of(message: LowCmd_ | LowState_) -> int:
    """Unitree's CRC32 over the packed message (the SDK's implementation)."""
    return int(_CRC.Crc(message))


def crc_ok(message: LowCmd_ | LowState_) -> bool:
    return crc_of(message) == int(message.crc)


@dataclass(frozen=True)
class RobotState:
    """One rt/lowstate, in description order."""

    position: np.ndarray  # [J] rad
    velocity: np.ndarray  # [J] rad/s
    effort: np.ndarray  # [J] N m (estimated)
    orientation_wxyz: np.ndarray  # [4]
    angular_velocity: np.ndarray  # [3] rad/s
    linear_acceleration: np.ndarray  # [3] m/s^2
    tick: int

    def finite(self) -> bool:
        return all(
            np.all(np.isfinite(a))
            for a in (
                self.position,
                self.velocity,
                self.effort,
                self.orientation_wxyz,
                self.angular_velocity,
                self.linear_acceleration,
            )
        )


def state_from_lowstate(message: LowState_, num_joints: int) -> RobotState:
    motors = message.motor_state[:num_joints]
    imu = message.imu_state
    return RobotState(
        position=np.array([m.q for m in motors], dtype=np.float64),
        velocity=np.array([m.dq for m in motors], dtype=np.float64),
        effort=np.array([m.tau_est for m in motors], dtype=np.float64),
        orientation_wxyz=np.asarray(imu.quaternion, dtype=np.float64),
        angular_velocity=np.asarray(imu.gyroscope, dtype=np.float64),
        linear_acceleration=np.asarray(imu.accelerometer, dtype=np.float64),
        tick=int(message.tick),
    )


@dataclass(frozen=True)
class MotorCommand:
    """Per-joint PD + feed-forward command, [J] arrays: tau = kp (q* - q) + kd (dq* - dq) + tau_ff."""

    position: np.ndarray
    velocity: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    effort: np.ndarray

    @classmethod
    def damping(cls, num_joints: int, kd: float) -> MotorCommand:
        """No stiffness, only damping: what the bridge sends whenever it is not armed and fed."""
        zeros = np.zeros(num_joints)
        return cls(zeros, zeros, zeros, np.full(num_joints, kd), zeros)


def new_lowcmd() -> LowCmd_:
    """An empty framed LowCmd_ (head, low-level flag; every motor slot disabled, mode 0)."""
    message = unitree_go_msg_dds__LowCmd_()
    message.head = list(HEAD)
    message.level_flag = LEVEL_LOW
    return message


def lowcmd_from_command(command: MotorCommand) -> LowCmd_:
    """A new framed LowCmd_ for ``command`` with the CRC set; unused motor slots stay disabled."""
    return fill_lowcmd(new_lowcmd(), command)


def fill_lowcmd(message: LowCmd_, command: MotorCommand) -> LowCmd_:
    """Write ``command`` into ``message`` (from new_lowcmd) in place and set its CRC: the
    bridge's 500 Hz loop reuses one message rather than building 20 motor structs a tick
    (the DDS writer serializes at write(), so reuse is safe)."""
    for i, motor in enumerate(message.motor_cmd[: len(command.position)]):
        motor.mode = MODE_SERVO
        motor.q = float(command.position[i])
        motor.dq = float(command.velocity[i])
        motor.kp = float(command.kp[i])
        motor.kd = float(command.kd[i])
        motor.tau = float(command.effort[i])
    message.crc = crc_of(message)
    return message


def command_from_lowcmd(message: LowCmd_, num_joints: int) -> MotorCommand:
    motors = message.motor_cmd[:num_joints]
    enabled = np.array([m.mode == MODE_SERVO for m in motors], dtype=np.float64)

    def field(name: str) -> np.ndarray:
        return np.array([getattr(m, name) for m in motors], dtype=np.float64) * enabled

    return MotorCommand(field("q"), field("dq"), field("kp"), field("kd"), field("tau"))


def motor_torque(command: MotorCommand, q: np.ndarray, dq: np.ndarray, torque_limit: np.ndarray) -> np.ndarray:
    """The torque a Go2 motor driver produces for ``command`` at state (q, dq), saturated."""
    tau = command.kp * (command.position - q) + command.kd * (command.velocity - dq) + command.effort
    return np.clip(tau, -torque_limit, torque_limit)
