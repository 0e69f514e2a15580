"""memaug_policy_node: runs an exported recurrent policy against the topic contract.

Thin: parameters, topics, services, the control timer. Inference, observation, FSM and
safety live in the ROS-free core (runtime, observation, fsm, safety, state).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist, Vector3
from nav_msgs.msg import Odometry
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.experimental import EventsExecutor
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState, Joy
from std_msgs.msg import Bool, Float32MultiArray, String
from std_srvs.srv import Trigger

from memaug_common.attitude import attitude_problem
from memaug_common.description import load_robot_description
from memaug_common.realtime import node_priority_problem
from memaug_common.remote_map import DAMP_CHORD, KEYS, RUN_CHORD, STAND_CHORD, stick_command
from memaug_common.ros_main import spin_main
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import FRESHEST, LATCHED, LATEST, STREAM
from memaug_policy.controller import NO_CORRECTION, PolicyController
from memaug_policy.fsm import ControlFsm, Mode
from memaug_policy.model import check_compatible, load_policy, resolve_model_path
from memaug_policy.params import POLICY_PARAMETERS
from memaug_policy.safety import CommandLimits
from memaug_policy.state import (
    ImuReading,
    JointOrder,
    JointReading,
    OdomReading,
    StalenessGuard,
    StateRejected,
    clamp_command,
)
from memaug_policy.timing import TickStats

NODE_NAME = "memaug_policy"


class PolicyNode(Node):
    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        p = self.params = declare_parameters(self, POLICY_PARAMETERS)
        if problem := node_priority_problem(p["node_priority"]):
            self.get_logger().warn(problem)
        self.description = load_robot_description(p["robot"])
        self.model = load_policy(resolve_model_path(p["model"]))
        check_compatible(self.model, self.description)
        self.controller = PolicyController(self.model, self.description)
        self.runtime = self.controller.runtime
        meta = self.model.metadata
        self.period_s = meta.control_period_s
        self.limits = CommandLimits.for_robot(self.description)
        self.fsm = ControlFsm(self.description.default_pose, p["stand_duration_s"], p["stand_hold_s"], p["auto_run"])
        self.order = JointOrder(self.description.joint_names)
        self.stats = TickStats(self.period_s)
        self.staleness = StalenessGuard(p["state_timeout_s"], p["stale_ticks_allowed"], self.period_s)
        self.joints: JointReading | None = None
        self.imu: ImuReading | None = None
        self.default_command = np.array([p["command_vx"], p["command_vy"], p["command_yaw_rate"]])
        self.cmd_vel: tuple[np.ndarray, float] | None = None
        self.counters = {"states_rejected": 0, "commands_clamped": 0, "commands_sent": 0, "velocity_loop_at_bound": 0}
        #: What the model's own velocity loop last added to the command (zeros without a loop),
        #: and whether it wanted more than its bound then.
        self.loop_correction, self.loop_saturated = NO_CORRECTION, False
        self.last_problem = ""

        self.pub_command = self.create_publisher(JointState, "joint_commands", STREAM)
        self.pub_obs = self.create_publisher(Float32MultiArray, "policy/observation", STREAM)
        self.pub_action = self.create_publisher(Float32MultiArray, "policy/action", STREAM)
        self.pub_memory = self.create_publisher(Float32MultiArray, "policy/memory", STREAM)
        #: The velocity command each step used (after clamping, before the model's own loop),
        #: whatever the model's observation layout: what run summaries compare the robot with.
        self.pub_velocity_command = self.create_publisher(Twist, "policy/command", STREAM)
        self.pub_mode = self.create_publisher(String, "policy/mode", LATCHED)
        self.pub_diag = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        #: (subscription, its callback): the control tick also takes their newest samples itself.
        #: A model that observes the base linear velocity reads it from the sim's ground-truth
        #: /odom (a real Go2 does not measure it), and stops when /odom stops.
        self.odom: OdomReading | None = None
        state_topics: list[tuple[Any, str, Any]] = [
            (JointState, "joint_states", self._on_joint_states),
            (Imu, "imu/data", self._on_imu),
        ]
        if self.controller.needs_base_velocity:
            state_topics.append((Odometry, "odom", self._on_odom))
        self.state_subscriptions = tuple(
            (self.create_subscription(kind, topic, handle, FRESHEST), handle) for kind, topic, handle in state_topics
        )
        self.create_subscription(Twist, "cmd_vel", self._on_cmd_vel, LATEST)
        self.create_subscription(Bool, "estop", self._on_estop, LATCHED)
        self.create_subscription(String, "bridge/state", self._on_bridge_state, LATCHED)
        self.create_subscription(Joy, "remote", self._on_remote, LATEST)
        self.remote_keys: frozenset[str] = frozenset()
        self.bridge_state = ""
        self.create_service(Trigger, "~/start", self._srv_start)
        self.create_service(Trigger, "~/stop", self._srv_stop)
        self.create_service(Trigger, "~/reset_memory", self._srv_reset_memory)
        self.create_timer(self.period_s, self._tick)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics)
        self._published_mode: str | None = None
        self._publish_mode()
        rec = meta.recurrent
        self.get_logger().info(
            f"policy {self.model.path.name}: {rec.cell} {rec.layers}x{rec.hidden}, obs {self.model.obs_dim}, "
            f"period {self.period_s * 1e3:.0f} ms; idle until ~/start"
        )

    # --- clock --------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # --- inputs -------------------------------------------------------------------------
    def _clock_started(self) -> bool:
        """Under use_sim_time the clock reads 0 until the first /clock. A reading stamped then
        looks a whole start-up old at the first tick (the lockstep start-up race: "stale
        /joint_states: 0.204 s old" at the start of stand), so none is taken before it."""
        return self.get_clock().now().nanoseconds > 0

    def _on_joint_states(self, msg: JointState) -> None:
        if not self._clock_started():
            return
        try:
            self.joints = self.order.reading(msg.name, msg.position, msg.velocity, self._now())
        except StateRejected as exc:
            self.counters["states_rejected"] += 1
            self.last_problem = str(exc)
            return
        if self._ready_to_autostart():
            self._start()

    def _ready_to_autostart(self) -> bool:
        p = self.params
        return (
            p["autostart"]
            and self.fsm.mode is Mode.IDLE
            and not self.fsm.estop
            and self.imu is not None
            and self.pub_command.get_subscription_count() >= p["wait_for_subscribers"]
            and (not p["wait_for_bridge_armed"] or self._bridge_mode == "armed")
        )

    def _on_imu(self, msg: Imu) -> None:
        if not self._clock_started():
            return
        o, w = msg.orientation, msg.angular_velocity
        self.imu = ImuReading(np.array([o.w, o.x, o.y, o.z]), np.array([w.x, w.y, w.z]), self._now())

    def _on_odom(self, msg: Odometry) -> None:
        if not self._clock_started():
            return
        v = msg.twist.twist.linear
        self.odom = OdomReading(np.array([v.x, v.y, v.z]), self._now())

    def _on_cmd_vel(self, msg: Twist) -> None:
        self.cmd_vel = (np.array([msg.linear.x, msg.linear.y, msg.angular.z]), self._now())

    def _on_remote(self, msg: Joy) -> None:
        """The Go2 remote (memaug_common.remote_map): chords on their press, sticks as /cmd_vel."""
        keys = frozenset(k for k, pressed in zip(KEYS, msg.buttons, strict=False) if pressed)
        pressed, self.remote_keys = keys - self.remote_keys, keys
        stand = keys >= STAND_CHORD and self.fsm.mode in (Mode.IDLE, Mode.DAMP)
        run = keys >= RUN_CHORD and self.fsm.mode is Mode.STAND
        if pressed and keys >= DAMP_CHORD:
            self._fault("remote damp (L2 + B)")
        elif pressed and (stand or run):
            accepted, message = self._start()
            if not accepted:
                self.get_logger().warning(f"remote start refused: {message}")
        if len(msg.axes) >= 3:
            command = stick_command(msg.axes[0], msg.axes[1], msg.axes[2], self.model.metadata.command_ranges)
            if command is not None:
                self.cmd_vel = (command, self._now())

    def _on_bridge_state(self, msg: String) -> None:
        """The bridge faulted or was disarmed: it damps whatever the policy sends, so the policy
        damps too and says why. Standing or running on would leave a robot that had gone limp in
        run mode when the bridge arms again, and the memory would hold the limp seconds."""
        self.bridge_state = msg.data
        if self._bridge_mode in ("fault", "disarmed"):
            self._fault(f"bridge {msg.data}")

    @property
    def _bridge_mode(self) -> str:
        """The Go2 bridge's mode from bridge/state ("MODE: reason"): armed, disarmed or fault;
        "" before any (no Go2 bridge, as under the sim bridge)."""
        return self.bridge_state.split(":", 1)[0]

    def _on_estop(self, msg: Bool) -> None:
        self.fsm.set_estop(bool(msg.data))
        self._publish_mode()

    # --- services -----------------------------------------------------------------------
    def _start(self) -> tuple[bool, str]:
        if self._bridge_mode not in ("", "armed"):
            # A bridge that says it is not armed damps every target: a stand-up would go
            # nowhere and its ramp would end under a lying robot.
            return False, f"the bridge is not armed ({self.bridge_state}): arm it first"
        measured = self.joints.position if self.joints is not None else None
        self.staleness.reset()
        ok, message = self.fsm.start(self._now(), measured)
        self._publish_mode()
        return ok, message

    def _srv_start(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self._start()
        return response

    def _srv_stop(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.fsm.stop()
        self._publish_mode()
        return response

    def _srv_reset_memory(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.runtime.reset_memory()
        response.success, response.message = True, f"memory reset ({self.runtime.resets} resets so far)"
        self.get_logger().info(response.message)
        return response

    # --- control tick -------------------------------------------------------------------
    def _take_newest_state(self) -> None:
        """Take the newest /joint_states and /imu/data waiting in their readers, here in the tick.

        Their callbacks alone were not enough on wall time: the events executor ran the control
        timer on time while the state callbacks waited behind it, and the state looked 0.12-0.13 s
        old at start-up although the bridge published every 2 ms (the recorder's copy had no gap
        over 9 ms). That stopped 1 of 10 `memaug robot --emulator` runs even with the state read
        best effort; with this take, 5 of 5 ran clean. The readers keep one sample (FRESHEST), so
        this takes the newest one or nothing, and a callback that runs later finds nothing left."""
        for subscription, handle in self.state_subscriptions:
            with subscription.handle:
                taken = subscription.handle.take_message(subscription.msg_type, subscription.raw)
            if taken is not None:
                handle(taken[0])

    def _tick(self) -> None:
        wall0 = time.perf_counter()
        now = self._now()
        self.fsm.tick(now)
        if self.fsm.mode in (Mode.STAND, Mode.RUN):
            self._take_newest_state()
            readings: list[tuple[str, JointReading | ImuReading | OdomReading | None]] = [
                ("/joint_states", self.joints),
                ("/imu/data", self.imu),
            ]
            if self.controller.needs_base_velocity:
                readings.append(("/odom (the policy's base velocity: a simulator's ground truth)", self.odom))
            fresh, problem = self.staleness.check(now, readings)
            if fresh:
                assert self.imu is not None
                problem = attitude_problem(self.imu.projected_gravity, self.params["max_tilt_deg"])
            if problem is not None:
                self._fault(problem)
            elif fresh and self.fsm.mode is Mode.STAND:
                assert self.fsm.stand is not None and self.joints is not None
                self._send(self.fsm.stand.targets(now))
            elif fresh:
                self._run_policy(now)
            # A late tick sends nothing: the bridge holds the last target meanwhile.
        self._publish_mode()
        self.stats.tick(wall0, time.perf_counter() - wall0)

    def _command(self, now: float) -> np.ndarray:
        command = self.default_command
        if self.cmd_vel is not None and now - self.cmd_vel[1] <= self.params["cmd_vel_timeout_s"]:
            command = self.cmd_vel[0]
        clamped, was_clamped = clamp_command(command, self.controller.command_limits)
        if was_clamped:
            self.counters["commands_clamped"] += 1
            self.last_problem = f"velocity command {command.tolist()} clamped to {clamped.tolist()}"
        return clamped

    def _run_policy(self, now: float) -> None:
        assert self.joints is not None and self.imu is not None
        if self.fsm.entered_run:
            self.controller.reset()
            self.fsm.entered_run = False
        command = self._command(now)
        t0 = time.perf_counter()
        try:
            out = self.controller.step(
                self.joints.position,
                self.joints.velocity,
                self.imu.angular_velocity,
                self.imu.orientation_wxyz,
                command,
                None if self.odom is None else self.odom.linear_velocity,
            )
        except ArithmeticError as exc:  # a non-finite observation, output or target
            self._fault(str(exc))
            return
        self.stats.inference(time.perf_counter() - t0)
        self._watch_velocity_loop(out.command_correction, out.loop_saturated)
        obs, action = out.obs, out.action
        if self._send(out.targets) and self.params["publish_debug"]:
            self.pub_obs.publish(Float32MultiArray(data=obs.tolist()))
            self.pub_action.publish(Float32MultiArray(data=action.tolist()))
            vx, vy, wz = (float(v) for v in command)
            self.pub_velocity_command.publish(Twist(linear=Vector3(x=vx, y=vy), angular=Vector3(z=wz)))
            if self.model.metadata.recurrent.has_memory:  # a policy without memory publishes none
                self.pub_memory.publish(Float32MultiArray(data=self.runtime.memory.tolist()))

    def _watch_velocity_loop(self, correction: np.ndarray, saturated: bool) -> None:
        """Count the ticks the model's velocity loop spends at its bound, and say so when it
        gets there (once per stay: a tick at the bound costs a count, no message)."""
        entered = saturated and not self.loop_saturated
        self.loop_correction, self.loop_saturated = correction, saturated
        if not saturated:
            return
        self.counters["velocity_loop_at_bound"] += 1
        if entered and self.controller.loop is not None:
            self.get_logger().warn(
                f"velocity loop at its bound ({self.controller.loop.describe()}): correction "
                f"{np.round(correction, 3).tolist()}; the velocity estimate and the robot disagree, "
                "or the robot cannot reach the command"
            )

    def _send(self, targets: np.ndarray) -> bool:
        assert self.joints is not None
        try:
            safe = self.limits.apply(targets, self.joints.position)
        except ArithmeticError as exc:
            self._fault(str(exc))
            return False
        msg = JointState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.name = list(self.description.joint_names)
        msg.position = safe.tolist()
        msg.velocity = [0.0] * len(safe)
        msg.effort = [0.0] * len(safe)
        self.pub_command.publish(msg)
        self.counters["commands_sent"] += 1
        return True

    def _fault(self, reason: str) -> None:
        if self.fsm.mode in (Mode.STAND, Mode.RUN):
            self.get_logger().error(f"stopping: {reason}")
        self.fsm.fault(reason)
        self.last_problem = reason
        self._publish_mode()
        self._publish_diagnostics()

    # --- outputs ------------------------------------------------------------------------
    def _publish_mode(self) -> None:
        if self.fsm.mode.value != self._published_mode:
            self.pub_mode.publish(String(data=self.fsm.mode.value))
            self._published_mode = self.fsm.mode.value

    def _publish_diagnostics(self) -> None:
        level = {
            Mode.RUN: DiagnosticStatus.OK,
            Mode.STAND: DiagnosticStatus.OK,
            Mode.IDLE: DiagnosticStatus.OK,
            Mode.DAMP: DiagnosticStatus.WARN,
        }[self.fsm.mode]
        values = {
            "mode": self.fsm.mode.value,
            "reason": self.fsm.reason,
            "estop": self.fsm.estop,
            "memory_resets": self.runtime.resets,
            "last_problem": self.last_problem,
            "velocity_loop": "none" if self.controller.loop is None else self.controller.loop.describe(),
            "velocity_loop_correction": ", ".join(f"{v:+.3f}" for v in self.loop_correction),
            **self.counters,
            **self.stats.summary(),
        }
        status = DiagnosticStatus(
            level=level,
            name=f"{NODE_NAME}: control",
            message=f"{self.fsm.mode.value}: {self.fsm.reason}",
            hardware_id=self.description.name,
            values=[KeyValue(key=k, value=f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.pub_diag.publish(array)


def executor_for(node: PolicyNode) -> Executor:
    """The events executor on wall time (a robot, a real-time sim); the default one under sim time.

    On wall time the default executor rebuilds its wait set in Python for every message: beside
    a 500 Hz robot that was 35-40 % of a core, and on a 2-core computer that also runs the
    bridge (and an emulator) the node was starved for over 0.1 s and stopped on stale state
    (4 runs of 5 on `memaug robot --emulator`). The events executor: 13 %; in 12 later runs
    none starved mid-run, one at start-up (measured, 2 cores). Under sim time it runs the
    control timer from clock-jump callbacks, and in gated lockstep commands bunched: the sim
    took only 290-293 of 300 (measured), so it is not used there; the sim waits for the
    policy, so its cost does not matter there.

    It is rclpy's experimental executor (known crashes with Fast DDS: ros2/rclpy#1644,
    ros2/rclcpp#2437): the recorder, on it since earlier, died once on SIGSEGV in about 30
    emulator runs. A policy node that dies leaves the robot to the bridge's 50 ms watchdog
    (damping), and the run fails naming the node."""
    if node.get_parameter("use_sim_time").value:
        return SingleThreadedExecutor()
    return EventsExecutor()


def main(args: list[str] | None = None) -> int:
    return spin_main("memaug_policy_node", PolicyNode, args, make_executor=executor_for)


if __name__ == "__main__":
    sys.exit(main())
