"""memaug_sim_node: the MuJoCo sim bridge behind memaug's topic contract.

Thin by design: parameters, topics and the physics thread. All physics, safety and fault
logic lives in the ROS-free core (simulator, faults, scenario, commands).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, String

from memaug_common.description import load_robot_description
from memaug_common.ros_main import spin_main
from memaug_common.ros_params import check_parameter_update, declare_parameters
from memaug_common.ros_qos import LATCHED, LATEST, STATE_STREAM, STREAM
from memaug_common.ros_wait import wait_for_subscribers
from memaug_sim.commands import CommandRejected, joint_command_from_fields
from memaug_sim.faults import FaultEvent, check_fault, fault_label, parse_fault
from memaug_sim.messages import fill_quaternion, fill_vector, odometry
from memaug_sim.pacing import Every, Pacer
from memaug_sim.params import SIM_PARAMETERS
from memaug_sim.scenario import ScenarioClock, load_scenario
from memaug_sim.simulator import BridgeMode, ImuNoise, Simulator
from memaug_sim.stats import BridgeStats
from memaug_sim.urdf import urdf_from_description

NODE_NAME = "memaug_sim"


def _stamp(seconds: float) -> Time:
    """Sim time, s -> builtin_interfaces/Time, rounded to the nanosecond."""
    sec, nanosec = divmod(round(seconds * 1e9), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


class SimBridgeNode(Node):
    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = declare_parameters(self, SIM_PARAMETERS)
        p = self.params
        self.description = load_robot_description(p["robot"])
        scenario = load_scenario(p["scenario"], self.description)
        self.sim = Simulator(
            self.description,
            command_timeout_s=p["command_timeout_s"],
            imu_noise=ImuNoise(p["gyro_noise_std"], p["accelerometer_noise_std"]),
            seed=p["seed"],
            dynamics=scenario.dynamics,
            terrain=scenario.terrain,
        )
        self.scenario = ScenarioClock(scenario)
        initial_fault = parse_fault(p["fault"])
        self.lockstep = p["mode"] == "lockstep"
        self.stats = BridgeStats()
        self._lock = threading.Lock()
        self._command_arrived = threading.Condition()
        self._commands_seen = 0
        self._stop = threading.Event()
        self.finished = threading.Event()

        self.pub_joints = self.create_publisher(JointState, "joint_states", STATE_STREAM)
        self.pub_imu = self.create_publisher(Imu, "imu/data", STATE_STREAM)
        self.pub_odom = self.create_publisher(Odometry, "odom", STATE_STREAM)
        self.pub_diag = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        # The robot for RViz and Foxglove, generated from the same description (latched).
        self.pub_description = self.create_publisher(String, "robot_description", LATCHED)
        self.pub_description.publish(String(data=urdf_from_description(self.description)))
        self.pub_clock = self.create_publisher(Clock, "clock", STREAM) if self.lockstep else None
        self.create_subscription(JointState, "joint_commands", self._on_command, LATEST)
        self.create_subscription(Bool, "estop", self._on_estop, LATCHED)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.create_timer(p["diagnostics_period_s"], self._publish_status)

        if initial_fault is not None:
            self._announce(self.sim.inject(initial_fault))
        self._thread = threading.Thread(target=self._physics_loop, name="physics", daemon=True)
        self.get_logger().info(
            f"{self.description.name}: {self.description.num_joints} joints, mode {p['mode']}, "
            f"physics {self.sim.physics_period_s * 1e3:.1f} ms, passive until commanded"
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    # --- inputs -------------------------------------------------------------------------
    def _on_command(self, msg: JointState) -> None:
        try:
            command = joint_command_from_fields(self.description, msg.name, msg.position, msg.velocity, msg.effort)
        except CommandRejected as exc:
            self.stats.reject(str(exc))
            return
        with self._lock:
            self.sim.submit_command(command)
        self.stats.commands_accepted += 1
        with self._command_arrived:
            self._commands_seen += 1
            self._command_arrived.notify_all()

    def _on_estop(self, msg: Bool) -> None:
        with self._lock:
            self.sim.set_estop(bool(msg.data))
        self.get_logger().warn("e-stop ENGAGED: damping latched" if msg.data else "e-stop released")
        self._publish_status()

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Only ``fault`` may change at run time; it is validated before it is applied."""
        for param in params:
            problem = check_parameter_update(SIM_PARAMETERS, param.name, param.value)
            if problem is None and param.name != "fault":
                problem = f"parameter {param.name} cannot change at run time (only fault can)"
            if problem is None:
                try:
                    fault = parse_fault(param.value)
                    if fault is not None:
                        check_fault(fault, self.description)
                except ValueError as exc:
                    problem = str(exc)
            if problem is not None:
                return SetParametersResult(successful=False, reason=problem)
            with self._lock:
                if fault is None:
                    self.sim.clear_faults()
                else:
                    self._announce(self.sim.inject(fault))
        return SetParametersResult(successful=True)

    # --- physics thread -----------------------------------------------------------------
    def _physics_loop(self) -> None:
        p = self.params
        sim = self.sim
        pacer = Pacer(0.0 if self.lockstep and p["max_realtime_factor"] == 0.0 else (p["max_realtime_factor"] or 1.0))
        state_due = Every(1.0 / p["publish_rate_hz"])
        odom_due = Every(1.0 / p["odom_rate_hz"])
        clock_due = Every(1.0 / p["clock_rate_hz"])
        duration = p["duration_s"]
        gate = self.lockstep and p["lockstep_gate"]
        # Gated lockstep runs at wall-clock pace until the controller's first command, so a
        # controller that is still starting up does not miss the start of the run.
        startup_pacer = Pacer(1.0)
        control_due = Every(self.description.control_period_s)
        self._wait_for_subscribers(p["wait_for_subscribers"], p["subscriber_timeout_s"])
        wall_start = time.perf_counter()
        try:
            while not self._stop.is_set():
                with self._lock:
                    for fault in self.scenario.due(sim.time_s):
                        self._announce(sim.inject(fault))
                    previous_mode = sim.mode
                    sim.step()
                    mode = sim.mode
                    now = sim.time_s
                    if previous_mode is BridgeMode.ACTIVE and mode is BridgeMode.PASSIVE:
                        self.stats.watchdog_trips += 1
                    stamp = _stamp(sim.time_s) if self.lockstep else self.get_clock().now().to_msg()
                    # State before clock: a controller ticking on /clock finds this step's state.
                    if state_due.due(now):
                        self._publish_state(stamp)
                    if odom_due.due(now):
                        self._publish_odom(stamp)
                    seen = self._commands_seen
                    if self.pub_clock is not None and clock_due.due(now):
                        self.pub_clock.publish(Clock(clock=stamp))
                    self.stats.mode = mode.value
                    self.stats.sim_time_s = sim.time_s
                self.stats.wall_time_s = time.perf_counter() - wall_start
                if duration and sim.time_s >= duration - 1e-9:
                    break
                if gate and control_due.due(now) and mode is BridgeMode.ACTIVE:
                    self._wait_for_command(seen, p["gate_timeout_s"])
                if gate and self._commands_seen == 0:
                    startup_pacer.wait_until(sim.time_s)
                else:
                    pacer.wait_until(sim.time_s)
        finally:
            self.finished.set()

    def _wait_for_subscribers(self, count: int, timeout_s: float) -> None:
        if wait_for_subscribers(self.pub_joints, count, timeout_s, self._stop.is_set):
            if count:
                time.sleep(0.1)  # matched is not yet acknowledged: let discovery settle on both sides
        elif not self._stop.is_set():
            self.get_logger().warn(
                f"starting with {self.pub_joints.get_subscription_count()} of {count} /joint_states "
                f"subscribers after waiting {timeout_s} s"
            )

    def _wait_for_command(self, seen: int, timeout_s: float) -> None:
        """Block the physics thread until a command newer than ``seen`` arrives, or timeout."""
        with self._command_arrived:
            if not self._command_arrived.wait_for(lambda: self._commands_seen > seen, timeout=timeout_s):
                self.stats.gate_timeouts += 1

    def _publish_state(self, stamp: Time) -> None:
        joints = self.sim.joints()
        msg = JointState()
        msg.header.stamp = stamp
        msg.name = list(self.description.joint_names)
        msg.position = joints.position.tolist()
        msg.velocity = joints.velocity.tolist()
        msg.effort = joints.effort.tolist()
        self.pub_joints.publish(msg)
        self.stats.joint_states_published += 1

        imu = self.sim.imu()
        imu_msg = Imu()
        imu_msg.header.stamp = stamp
        imu_msg.header.frame_id = self.params["imu_frame"]
        fill_quaternion(imu_msg.orientation, imu.orientation_wxyz)
        fill_vector(imu_msg.angular_velocity, imu.angular_velocity)
        fill_vector(imu_msg.linear_acceleration, imu.linear_acceleration)
        self.pub_imu.publish(imu_msg)

    def _publish_odom(self, stamp: Time) -> None:
        p = self.params
        self.pub_odom.publish(odometry(self.sim.base(), stamp, p["odom_frame"], p["base_frame"]))

    # --- diagnostics --------------------------------------------------------------------
    def _announce(self, event: FaultEvent) -> None:
        label = fault_label(event.fault)
        self.get_logger().warn(f"fault injected at sim time {event.sim_time_s:.3f} s: {label}")
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN,
            name=f"{NODE_NAME}: fault",
            message=f"fault injected: {label}",
            hardware_id=self.description.name,
            values=[KeyValue(key=k, value=str(v)) for k, v in event.fault.model_dump().items()]
            + [KeyValue(key="sim_time_s", value=f"{event.sim_time_s:.6f}")],
        )
        self.pub_diag.publish(DiagnosticArray(header=self._diag_header(), status=[status]))

    def _diag_header(self) -> Any:
        msg = DiagnosticArray()
        msg.header.stamp = _stamp(self.sim.time_s) if self.lockstep else self.get_clock().now().to_msg()
        return msg.header

    def _publish_status(self) -> None:
        s = self.stats
        level = DiagnosticStatus.OK
        if s.mode == BridgeMode.ESTOP.value:
            level = DiagnosticStatus.ERROR
        elif s.commands_rejected or s.mode == BridgeMode.PASSIVE.value:
            level = DiagnosticStatus.WARN
        faults = ";".join(f"{fault_label(e.fault)}@{e.sim_time_s:.3f}" for e in self.sim.faults.active)
        values = {**s.as_dict(), "faults": faults or "none"}
        status = DiagnosticStatus(
            level=level,
            name=f"{NODE_NAME}: bridge",
            message=f"mode {s.mode}" + (f", last rejected command: {s.last_rejection}" if s.last_rejection else ""),
            hardware_id=self.description.name,
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
        )
        self.pub_diag.publish(DiagnosticArray(header=self._diag_header(), status=[status]))


def _report_and_stop(node: SimBridgeNode) -> None:
    """Stop the physics thread first (it publishes), then report how far the sim got."""
    node.stop()
    node._publish_status()
    print(f"memaug_sim_node: stopped at sim time {node.sim.time_s:.3f} s; {node.stats.summary()}")


def main(args: list[str] | None = None) -> int:
    return spin_main(
        "memaug_sim_node",
        _started,
        args,
        finished=lambda node: node.finished.is_set(),
        on_stop=_report_and_stop,
    )


def _started() -> SimBridgeNode:
    node = SimBridgeNode()
    node.start()
    return node


if __name__ == "__main__":
    sys.exit(main())
