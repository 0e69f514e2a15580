"""The Go2 bridge's 500 Hz loop, in a process of its own. ROS-free.

Why a process: in the bridge node's process the loop shared one GIL with rclpy's executor
and with the publication of /joint_states and /imu/data, and on a 2-core machine beside the
emulator, the policy and the recorder it was late on 14-40 % of its ticks
(bench/results/bench_robot_loop.txt). Here it has its own interpreter and its own DDS
participant: it configures the robot (a valid rt/lowstate, Unitree's motion switcher), then
each tick takes rt/lowstate, applies the bridge's safety (memaug_hardware.safety: watchdog,
limits, e-stop, CRC, the remote's damp chord) and writes rt/lowcmd. Under ``priority`` the
whole process runs SCHED_FIFO before its participant exists, so Cyclone's receive threads,
which it starts, inherit the priority: the DDS receive path is as timely as the loop.

The node talks to it through three channels (see :class:`LoopLink`):

- control pipe, node -> loop: commands, e-stop, arm, disarm, stop (drained every tick, never
  waited on by the loop);
- events pipe, loop -> node: configure's outcome, log lines, arm answers, mode changes (rare);
- a shared block, loop -> node: the newest valid state, the remote and the counters, under a
  lock the loop only ever tries (a busy lock skips one copy, never a tick), with a doorbell
  pipe that wakes the node's publisher (one byte, dropped when the pipe is full).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from memaug_common.remote_map import KEYS
from memaug_hardware.protocol import (
    MotorCommand,
    RobotState,
    crc_ok,
    fill_lowcmd,
    new_lowcmd,
    state_from_lowstate,
)
from memaug_hardware.remote import RemoteState
from memaug_hardware.safety import BridgeMode, SafetyLimits

#: Counters in the shared block, after the state: the loop's and the safety's (BridgeSafety.counters).
COUNTERS = ("ticks", "late_ticks", "bad_crc", "non_finite_state", "watchdog_damping", "faults")


@dataclass(frozen=True)
class LoopConfig:
    """What the loop process needs; picklable (it crosses into a spawned interpreter)."""

    robot: str
    domain_id: int
    interface: str
    loop_rate_hz: float
    limits: SafetyLimits
    strict_crc: bool
    lowstate_wait_s: float
    motion_switcher: str  # check | release | skip
    motion_switcher_timeout_s: float
    priority: int  # SCHED_FIFO priority of the whole loop process; 0: normal


class StateBlock:
    """Shared float64 block: [seq, tick, q J, dq J, tau J, quat 4, gyro 3, acc 3, remote_seen,
    lx, ly, rx, ry, key bits, counters...]. ``seq`` counts valid states written."""

    def __init__(self, num_joints: int, context: Any) -> None:
        self.num_joints = num_joints
        self._state_size = 2 + 3 * num_joints + 10
        self._remote_at = self._state_size
        self._counters_at = self._remote_at + 6
        self.array = context.RawArray("d", self._counters_at + len(COUNTERS))
        self.lock = context.Lock()

    def values(self) -> np.ndarray:
        return np.frombuffer(self.array, dtype=np.float64)

    def write(self, seq: int, state: RobotState | None, remote: RemoteState | None, counters: dict[str, int]) -> bool:
        """The loop's side: a non-blocking try; a busy lock (the node copying) skips this copy
        (False), and the next tick writes the newest state instead."""
        if not self.lock.acquire(block=False):
            return False
        try:
            v, j = self.values(), self.num_joints
            if state is not None:
                v[0], v[1] = seq, state.tick
                v[2 : 2 + j], v[2 + j : 2 + 2 * j], v[2 + 2 * j : 2 + 3 * j] = (
                    state.position,
                    state.velocity,
                    state.effort,
                )
                v[2 + 3 * j : self._state_size] = np.concatenate(
                    [state.orientation_wxyz, state.angular_velocity, state.linear_acceleration]
                )
            if remote is not None:
                bits = sum(1 << i for i, k in enumerate(KEYS) if k in remote.keys)
                v[self._remote_at : self._counters_at] = (1.0, remote.lx, remote.ly, remote.rx, remote.ry, bits)
            v[self._counters_at :] = [counters[k] for k in COUNTERS]
        finally:
            self.lock.release()
        return True

    def read(self) -> tuple[int, RobotState | None, RemoteState | None, dict[str, int]]:
        """The node's side: (seq, newest state or None before the first, remote or None, counters)."""
        with self.lock:
            v = self.values().copy()
        j = self.num_joints
        seq = int(v[0])
        state = None
        if seq:
            state = RobotState(
                position=v[2 : 2 + j],
                velocity=v[2 + j : 2 + 2 * j],
                effort=v[2 + 2 * j : 2 + 3 * j],
                orientation_wxyz=v[2 + 3 * j : 6 + 3 * j],
                angular_velocity=v[6 + 3 * j : 9 + 3 * j],
                linear_acceleration=v[9 + 3 * j : 12 + 3 * j],
                tick=int(v[1]),
            )
        remote = None
        r = v[self._remote_at : self._counters_at]
        if r[0]:
            bits = int(r[5])
            remote = RemoteState(frozenset(k for i, k in enumerate(KEYS) if bits >> i & 1), *(float(x) for x in r[1:5]))
        counters = {k: int(x) for k, x in zip(COUNTERS, v[self._counters_at :], strict=True)}
        return seq, state, remote, counters


@dataclass
class LoopLink:
    """The node's handle on a running loop process."""

    process: multiprocessing.process.BaseProcess
    control: Connection  # node -> loop
    events: Connection  # loop -> node
    block: StateBlock
    doorbell: Connection  # read end: a byte each time a new state is in the block (raw, not pickled)

    def send(self, *message: Any) -> None:
        self.control.send(message)

    def wait_event(self, timeout_s: float) -> tuple[Any, ...] | None:
        """The next event, or None after ``timeout_s`` or when the loop process has gone."""
        try:
            if self.events.poll(timeout_s):
                return tuple(self.events.recv())
        except (EOFError, OSError):
            pass
        return None

    def wait_doorbell(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self.doorbell], [], [], timeout_s)
        if ready:
            try:
                os.read(self.doorbell.fileno(), 4096)
            except BlockingIOError:
                return False
            return True
        return False

    def stop(self, timeout_s: float = 2.0) -> None:
        with contextlib.suppress(OSError):  # a loop that has gone has nothing to stop
            self.send("stop")
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout_s)
        for connection in (self.control, self.events, self.doorbell):
            connection.close()


def start_loop(config: LoopConfig, num_joints: int) -> LoopLink:
    """Spawn the loop process (a fresh interpreter: no rclpy threads inherited by a fork)."""
    context = multiprocessing.get_context("spawn")
    control_out, control_in = context.Pipe(duplex=False)  # (reader, writer)
    events_out, events_in = context.Pipe(duplex=False)
    block = StateBlock(num_joints, context)
    bell_read, bell_write = context.Pipe(duplex=False)
    os.set_blocking(bell_read.fileno(), False)
    process = context.Process(
        target=run_loop,
        args=(config, control_out, events_in, block, bell_write),
        name="memaug-go2-loop",
        daemon=True,
    )
    process.start()
    control_out.close()
    events_in.close()
    bell_write.close()
    return LoopLink(process, control_in, events_out, block, bell_read)


# --- inside the loop process ----------------------------------------------------------------


def run_loop(
    config: LoopConfig, control: Connection, events: Connection, block: StateBlock, doorbell: Connection
) -> None:
    """The loop process's main: configure, then tick until told to stop or the node is gone."""
    os.set_blocking(doorbell.fileno(), False)
    # Ctrl-C reaches the whole process group; the node stops the loop (or its pipe closes).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from memaug_common.realtime import normal_priority, try_realtime_priority

    if not config.priority:
        normal_priority()  # not the bridge node's priority, which a spawned process inherits
    realtime = bool(config.priority) and try_realtime_priority(config.priority)
    if config.priority and not realtime:
        events.send(("log", "warn", f"loop at normal priority: SCHED_FIFO {config.priority} refused"))
    loop = _Loop(config, control, events, block, doorbell)
    problem = loop.configure()
    if problem is not None:
        events.send(("configured", False, problem))
        return
    assert loop.state is not None
    events.send(
        (
            "configured",
            True,
            f"SCHED_FIFO {config.priority}" if realtime else "normal priority",
            posture(loop.description, loop.state, config.limits.position_margin_rad),
        )
    )
    loop.run()


def posture(description: Any, state: RobotState, margin_rad: float) -> str:
    """The robot's posture in words: tilt from upright and the joints outside their range."""
    from memaug_common.attitude import tilt_deg
    from memaug_policy.observation import projected_gravity

    outside = [
        name
        for name, q, low, high in zip(
            description.joint_names, state.position, description.lower_limits, description.upper_limits, strict=True
        )
        if not low - margin_rad <= q <= high + margin_rad
    ]
    joints = f"joints outside their range: {', '.join(outside)}" if outside else "every joint inside its range"
    return f"posture: {tilt_deg(projected_gravity(state.orientation_wxyz)):.0f} deg from upright, {joints}"


class _Loop:
    def __init__(
        self, config: LoopConfig, control: Connection, events: Connection, block: StateBlock, doorbell: Connection
    ) -> None:
        from memaug_common.description import load_robot_description
        from memaug_hardware.dds import controller_endpoints, participant
        from memaug_hardware.safety import BridgeSafety

        self.config = config
        self.control, self.events, self.block = control, events, block
        self.doorbell = doorbell.fileno()
        self.description = load_robot_description(config.robot)
        self.safety = BridgeSafety(self.description, config.limits)
        self.endpoints = controller_endpoints(participant(config.domain_id, config.interface))
        self.state: RobotState | None = None
        self.remote: RemoteState | None = None
        self.seq = 0
        self.stats = {"ticks": 0, "late_ticks": 0}
        self._announced: tuple[BridgeMode, str] | None = None

    def log(self, level: str, text: str) -> None:
        self.events.send(("log", level, text))

    def configure(self) -> str | None:
        """Wait for a valid rt/lowstate and ask the motion switcher; the problem, or None."""
        c = self.config
        deadline = time.monotonic() + c.lowstate_wait_s
        while self.state is None and time.monotonic() < deadline:
            if self.endpoints.wait(0.05):
                self._read_states()
        if self.state is None:
            return (
                f"no valid rt/lowstate within {c.lowstate_wait_s} s on interface {c.interface}, domain "
                f"{c.domain_id} (robot on? cable in? right interface? right domain?)"
                + (f"; {self.safety.stale_reason(time.monotonic())}" if self.safety.counters["bad_crc"] else "")
            )
        return self._high_level_controller()

    def _high_level_controller(self) -> str | None:
        """Why the robot is not free for low-level control, or None. Policy: check, release, skip."""
        from memaug_hardware.motion_switcher import HELP, check_mode, release_mode

        c = self.config
        if c.motion_switcher == "skip":
            self.log("warn", "motion switcher not asked (motion_switcher:=skip): a simulator without it only")
            return None
        answer = check_mode(c.motion_switcher_timeout_s)
        if answer.mode is None:
            return f"{answer.detail}; a simulator without it needs motion_switcher:=skip"
        if answer.mode and c.motion_switcher == "release":
            self.log("warn", f"releasing the active high-level controller '{answer.mode}' (motion_switcher:=release)")
            answer = release_mode(c.motion_switcher_timeout_s)
        if answer.mode:
            return (
                f"Unitree's high-level controller '{answer.mode}' is active and would fight low-level commands; {HELP}"
            )
        if answer.mode is None:
            return answer.detail
        self.log("info", "motion switcher: no high-level controller active")
        return None

    def _read_states(self) -> None:
        """Take every new rt/lowstate; only valid frames become the state."""
        check_crc = self.config.strict_crc
        for frame in self.endpoints.take_all():
            state = state_from_lowstate(frame, self.description.num_joints)
            if self.safety.on_state(state, not check_crc or crc_ok(frame), time.monotonic()):
                self.state = state
                self.seq += 1
                try:
                    self.remote = RemoteState.parse(list(frame.wireless_remote))
                    self.safety.on_remote(self.remote)
                except ValueError:
                    pass

    def _control(self) -> bool:
        """Apply every message the node sent; False when told to stop or the node is gone."""
        try:
            while self.control.poll():
                kind, *rest = self.control.recv()
                if kind == "command":
                    self.safety.on_command(*rest)
                elif kind == "estop":
                    self.safety.set_estop(rest[0])
                elif kind == "arm":
                    from memaug_policy.observation import projected_gravity

                    s = self.state
                    tilt = float(np.linalg.norm(projected_gravity(s.orientation_wxyz)[:2])) if s else 1.0
                    self.events.send(("arm", *self.safety.arm(s, time.monotonic(), tilt)))
                elif kind == "disarm":
                    self.safety.disarm(rest[0])
                elif kind == "stop":
                    return False
        except (EOFError, OSError):
            return False
        return True

    def _follow_mode(self) -> None:
        s = self.safety
        if self._announced is None or self._announced[0] is not s.mode or self._announced[1] != s.reason:
            self._announced = (s.mode, s.reason)
            self.events.send(("mode", s.mode.value, s.reason))

    def run(self) -> None:
        from memaug_hardware.dds import RepeatingWriter

        period = 1.0 / self.config.loop_rate_hz
        lowcmd = new_lowcmd()  # one message, refilled each tick
        assert self.endpoints.writer is not None
        writer = RepeatingWriter(self.endpoints.writer)
        published = 0
        sent: MotorCommand | None = None
        next_tick = time.perf_counter()
        while self._control():
            self._read_states()
            command = self.safety.motor_command(time.monotonic())
            self._follow_mode()
            # The policy commands at 50 Hz and damping never changes: most ticks send the frame
            # of the tick before, and its fill, CRC and serialization (~200 us of Python) are skipped.
            changed = not _same(command, sent)
            if changed:
                fill_lowcmd(lowcmd, command)
                sent = command
            writer.write(lowcmd, changed)
            self.stats["ticks"] += 1
            fresh = self.seq != published
            counters = {**self.stats, **self.safety.counters}
            if self.block.write(self.seq, self.state if fresh else None, self.remote, counters) and fresh:
                published = self.seq
                # A full pipe: the node is behind; it reads the newest state when it catches up.
                with contextlib.suppress(BlockingIOError):
                    os.write(self.doorbell, b"s")
            # Absolute deadlines: a late tick is made up by the next sleep, so the average rate
            # stays loop_rate_hz; only a stall of a whole period re-anchors the schedule.
            next_tick += period
            remaining = next_tick - time.perf_counter()
            if remaining > 0:
                time.sleep(remaining)
            else:
                self.stats["late_ticks"] += 1
                if -remaining > period:
                    next_tick = time.perf_counter()


def _same(command: MotorCommand, sent: MotorCommand | None) -> bool:
    """Whether ``command`` is the one already in the frame (the same values, field by field)."""
    return sent is not None and all(
        np.array_equal(getattr(command, f), getattr(sent, f)) for f in ("position", "velocity", "kp", "kd", "effort")
    )
