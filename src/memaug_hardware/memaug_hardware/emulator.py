"""memaug_go2_emulator: the Go2 in MuJoCo behind the Go2's own DDS protocol.

Publishes rt/lowstate (with CRC) at 500 Hz and executes rt/lowcmd like the Go2's motor
drivers: per-motor PD + feed-forward, saturated at the torque limits. Frames with a bad CRC
or the wrong header are rejected and counted. Like the robot, the motors keep executing the
last valid command until a new one arrives (it is the bridge's watchdog that must damp);
before the first command they produce no torque. Real-time, on the interface it is told to
use (tests: loopback only).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import dataclass, field

import mujoco
import numpy as np
from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowState_, unitree_go_msg_dds__SportModeState_
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, SportModeState_

from memaug_common.arguments import ArgumentParser
from memaug_common.description import RobotDescription, load_robot_description
from memaug_common.realtime import try_realtime_priority
from memaug_hardware.dds import participant, robot_endpoints
from memaug_hardware.protocol import HEAD, MotorCommand, command_from_lowcmd, crc_of, crc_ok, motor_torque
from memaug_hardware.remote import RemoteState, parse_script
from memaug_sim.pacing import Pacer
from memaug_sim.scenario import ScenarioClock, load_scenario
from memaug_sim.simulator import Simulator

SPORT_MODE_TOPIC = "rt/sportmodestate"


@dataclass
class EmulatorStats:
    frames_accepted: int = 0
    frames_rejected: int = 0
    states_published: int = 0
    #: rt/lowstate published from the first accepted rt/lowcmd on: the window in which the
    #: controller's command rate compares with the state rate (bench/bench_robot_loop.py).
    states_since_first_command: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.frames_rejected += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def line(self) -> str:
        return (
            f"frames accepted {self.frames_accepted}, rejected {self.frames_rejected} {self.reasons}, "
            f"lowstate published {self.states_published} ({self.states_since_first_command} since the first command)"
        )


class Go2Emulator:
    """The emulated robot: a Simulator driven by validated LowCmd_ frames."""

    def __init__(self, description: RobotDescription, scenario: str = "none", suspended: bool = False) -> None:
        self.description = description
        self.sim = Simulator(description)
        #: Base held 0.3 m above its standing pose, as on a gantry: the legs swing free.
        self.suspended = suspended
        self.remote = RemoteState(frozenset())  # what the handheld remote sends
        if suspended:
            self.sim.data.qpos[2] += 0.3
        self._base_hold = self.sim.data.qpos[0:7].copy()
        self.scenario = ScenarioClock(load_scenario(scenario, description))
        self.command: MotorCommand | None = None
        self.stats = EmulatorStats()
        self._state = unitree_go_msg_dds__LowState_()
        #: An external torque on one joint: (start s, joint's dof address, N m, duration s).
        self.kick: tuple[float, int, float, float] | None = None
        #: From this sim time, s, LowState_.crc is left at 0, as some simulators do (None: never).
        self.zero_crc_after_s: float | None = None

    def kick_joint(self, start_s: float, joint: str, torque_nm: float, duration_s: float) -> None:
        """From sim time ``start_s`` for ``duration_s``, push joint ``joint`` with ``torque_nm``
        from outside the motor (a hit, a fall on the leg): what drives a real overspeed."""
        model = self.sim.model
        self.kick = (start_s, int(model.jnt_dofadr[model.joint(joint).id]), torque_nm, duration_s)

    def receive(self, frame: LowCmd_) -> None:
        if tuple(frame.head) != HEAD:
            self.stats.reject("bad head")
        elif not crc_ok(frame):
            self.stats.reject("bad crc")
        else:
            self.command = command_from_lowcmd(frame, self.description.num_joints)
            self.stats.frames_accepted += 1

    def step(self) -> None:
        for fault in self.scenario.due(self.sim.time_s):
            self.sim.inject(fault)
        joints = self.sim.joints()
        if self.command is None:
            tau = np.zeros(self.description.num_joints)
        else:
            tau = motor_torque(self.command, joints.position, joints.velocity, self.description.torque_limits)
        if self.suspended:
            self._gantry()
        if self.kick is not None:
            start, dof, torque, duration = self.kick
            self.sim.data.qfrc_applied[dof] = torque if start <= self.sim.time_s < start + duration else 0.0
        self.sim.step_torque(tau)

    def _gantry(self) -> None:
        """A stiff spring-damper from the world to the base (xfrc_applied): the robot hangs."""
        data, model = self.sim.data, self.sim.model
        base = self.sim.index.base_body
        weight = -model.opt.gravity * float(model.body_subtreemass[base])
        position_error = data.qpos[0:3] - self._base_hold[0:3]
        rotation_error = np.zeros(3)
        mujoco.mju_subQuat(rotation_error, data.qpos[3:7], self._base_hold[3:7])  # base frame
        rotation = data.xmat[base].reshape(3, 3)
        force = weight - 20000.0 * position_error - 400.0 * data.qvel[0:3]
        torque = rotation @ (-500.0 * rotation_error - 20.0 * data.qvel[3:6])
        data.xfrc_applied[base] = np.concatenate([force, torque])

    def lowstate(self):
        joints, imu = self.sim.joints(), self.sim.imu()
        state = self._state
        for i in range(self.description.num_joints):
            motor = state.motor_state[i]
            motor.mode = 0x01
            motor.temperature = 35
            motor.q, motor.dq, motor.tau_est = (
                float(joints.position[i]),
                float(joints.velocity[i]),
                float(joints.effort[i]),
            )
        state.imu_state.quaternion = [float(v) for v in imu.orientation_wxyz]
        state.imu_state.gyroscope = [float(v) for v in imu.angular_velocity]
        state.imu_state.accelerometer = [float(v) for v in imu.linear_acceleration]
        state.tick = round(self.sim.time_s * 1000)
        state.bms_state.soc = 90  # a charged battery and warm motors, as a robot reports them
        state.power_v = 28.8
        state.wireless_remote = list(self.remote.pack())
        zero_crc = self.zero_crc_after_s is not None and self.sim.time_s >= self.zero_crc_after_s
        state.crc = 0 if zero_crc else crc_of(state)
        return state


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="memaug_go2_emulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--robot", default="go2")
    parser.add_argument("--domain-id", type=int, default=0, help="DDS domain of rt/lowstate, rt/lowcmd")
    parser.add_argument("--interface", default="lo", help="network interface to bind (default: loopback)")
    parser.add_argument("--scenario", default="none")
    parser.add_argument("--rate-hz", type=float, default=500.0, help="rt/lowstate rate")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds to run (0: until stopped)")
    parser.add_argument(
        "--no-motion-switcher",
        action="store_true",
        help="do not serve Unitree's motion switcher (rt/api/motion_switcher), as simulators that lack it",
    )
    parser.add_argument(
        "--remote",
        default="",
        help="play the handheld remote: 'T:KEY+KEY,T:ly=0.5,T:none' (T in sim seconds; keys as in "
        "memaug_hardware.remote, e.g. '2:L2+A,5:R1,12:L2+B')",
    )
    parser.add_argument(
        "--odom",
        action="store_true",
        help="also publish ground-truth /odom on the ROS graph ($ROS_DOMAIN_ID), 50 Hz: what a real Go2 cannot "
        "give, so that rehearsal summaries have distance and speed",
    )
    parser.add_argument(
        "--suspended", action="store_true", help="hold the base in the air, as a robot hanging from a gantry"
    )
    parser.add_argument(
        "--kick",
        default="",
        help="an external torque on a joint, 'T:JOINT:NM:S' (from sim time T s, S seconds long), e.g. "
        "'4:RR_thigh_joint:60:0.04': a real overspeed for the bridge's velocity protection",
    )
    parser.add_argument(
        "--zero-crc-after",
        type=float,
        default=-1.0,
        help="from this sim time, s, leave LowState_.crc at 0, as some independent Go2 simulators do (negative: never)",
    )
    parser.add_argument(
        "--sport-mode",
        action="store_true",
        help="a Go2 whose own sport-mode controller is active: the motion switcher answers 'normal' (until "
        "released) and rt/sportmodestate is published",
    )
    parser.add_argument(
        "--duration-from-command",
        action="store_true",
        help="count --duration from the first accepted rt/lowcmd (the controller configured), not from the start",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=0,
        choices=range(0, 100),
        metavar="0-99",
        help="SCHED_FIFO priority of the whole emulator (its DDS threads too), as the robot's own computer "
        "does not share the bridge's CPU: for rehearsals on a loaded machine (root or CAP_SYS_NICE; 0: normal)",
    )
    args = parser.parse_args(argv)

    description = load_robot_description(args.robot)
    try:
        remote_script = parse_script(args.remote)
    except ValueError as exc:
        print(f"memaug_go2_emulator: {exc}", file=sys.stderr)
        return 2
    emulator = Go2Emulator(description, args.scenario, suspended=args.suspended)
    if args.zero_crc_after >= 0.0:
        emulator.zero_crc_after_s = args.zero_crc_after
    if args.kick:
        try:
            start, joint, torque, duration = args.kick.split(":")
            emulator.kick_joint(float(start), joint, float(torque), float(duration))
        except (ValueError, KeyError) as exc:
            print(
                f"memaug_go2_emulator: --kick {args.kick!r}: expected T:JOINT:NM:S with a joint of "
                f"{description.name} ({exc})",
                file=sys.stderr,
            )
            return 2
    if args.priority and not try_realtime_priority(args.priority):
        print(f"memaug_go2_emulator: SCHED_FIFO {args.priority} refused; normal priority", flush=True)
    dp = participant(args.domain_id, args.interface)  # after the priority: DDS threads inherit it
    endpoints = robot_endpoints(dp)
    writer = endpoints.writer
    assert writer is not None
    sport = None
    if args.sport_mode:
        from cyclonedds.pub import DataWriter
        from cyclonedds.topic import Topic

        sport = DataWriter(dp, Topic(dp, SPORT_MODE_TOPIC, SportModeState_))
    if not args.no_motion_switcher:
        from memaug_hardware.motion_switcher import MotionSwitcherServer

        switcher = MotionSwitcherServer("normal" if args.sport_mode else "")
        switcher.Init()
        switcher.Start()
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    odom = OdomPublisher() if args.odom else None
    substeps = max(1, round(1.0 / (args.rate_hz * emulator.sim.physics_period_s)))
    pacer = Pacer(1.0)
    last_report = time.monotonic()
    print(
        f"memaug_go2_emulator: {description.name} on domain {args.domain_id}, interface {args.interface}, "
        f"rt/lowstate at {args.rate_hz:.0f} Hz",
        flush=True,
    )
    end_s = args.duration if args.duration and not args.duration_from_command else None
    while not stop and not (end_s is not None and emulator.sim.time_s >= end_s):
        if end_s is None and args.duration and emulator.stats.frames_accepted:
            end_s = emulator.sim.time_s + args.duration  # the controller's first command: the run begins
        for frame in endpoints.take_all():
            emulator.receive(frame)
        for _ in range(substeps):
            emulator.step()
        while remote_script and remote_script[0][0] <= emulator.sim.time_s:
            emulator.remote = remote_script.pop(0)[1]
        writer.write(emulator.lowstate())
        emulator.stats.states_published += 1
        emulator.stats.states_since_first_command += emulator.stats.frames_accepted > 0
        if sport is not None:
            sport.write(unitree_go_msg_dds__SportModeState_())
        if odom is not None:
            odom.maybe_publish(emulator.sim)
        if time.monotonic() - last_report > 1.0:
            print(f"memaug_go2_emulator: t={emulator.sim.time_s:.1f} s, {emulator.stats.line()}", flush=True)
            last_report = time.monotonic()
        pacer.wait_until(emulator.sim.time_s)
    print(f"memaug_go2_emulator: stopped at {emulator.sim.time_s:.3f} s; {emulator.stats.line()}", flush=True)
    if odom is not None:
        odom.close()
    return 0


class OdomPublisher:
    """Ground truth on /odom, as the sim bridge publishes it (memaug_sim.messages.odometry),
    stamped with the wall clock the Go2 bridge stamps its states with."""

    PERIOD_S = 0.02

    def __init__(self) -> None:
        import rclpy
        from nav_msgs.msg import Odometry
        from rclpy.signals import SignalHandlerOptions

        from memaug_common.ros_qos import STATE_STREAM

        self._context = rclpy.Context()
        rclpy.init(context=self._context, signal_handler_options=SignalHandlerOptions.NO)
        self._node = rclpy.create_node("memaug_go2_emulator", context=self._context)
        self._publisher = self._node.create_publisher(Odometry, "odom", STATE_STREAM)
        self._next_s = 0.0

    def maybe_publish(self, sim: Simulator) -> None:
        from memaug_sim.messages import odometry

        if sim.time_s < self._next_s:
            return
        self._next_s = sim.time_s + self.PERIOD_S
        stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(odometry(sim.base(), stamp, "odom", "base"))

    def close(self) -> None:
        import rclpy

        self._node.destroy_node()
        rclpy.shutdown(context=self._context)


if __name__ == "__main__":
    sys.exit(main())
