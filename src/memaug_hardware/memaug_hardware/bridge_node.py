"""memaug_go2_bridge: the Go2's low-level DDS protocol behind memaug's topic contract.

A lifecycle node. configure: start the 500 Hz loop in a process of its own
(memaug_hardware.loop: its own DDS participant on the named interface, no GIL shared with
this node's executor), which waits (with a timeout) for a valid rt/lowstate and asks
Unitree's motion switcher. activate: arm, only from a safe posture. deactivate: damping. The
loop owns the bridge's safety (memaug_hardware.safety: watchdog, limits, e-stop, CRC),
independent of the policy node; this node carries it onto the ROS graph.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Imu, JointState, Joy
from std_msgs.msg import Bool, String

from memaug_common.description import load_robot_description
from memaug_common.graph import graph_scope
from memaug_common.realtime import node_priority_problem
from memaug_common.remote_map import KEYS
from memaug_common.ros_main import create_or_report
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import FRESHEST, LATCHED, STREAM
from memaug_hardware.interfaces import check_interface
from memaug_hardware.loop import COUNTERS, LoopConfig, LoopLink, start_loop
from memaug_hardware.params import BRIDGE_PARAMETERS
from memaug_hardware.protocol import RobotState
from memaug_hardware.safety import BridgeMode, SafetyLimits
from memaug_sim.commands import CommandRejected, joint_command_from_fields
from memaug_sim.pacing import Every
from memaug_sim.urdf import urdf_from_description

#: /remote's period, s (50 Hz): a hand's pace.
REMOTE_PERIOD_S = 0.02
#: configure: allowance for the loop process's start (a fresh interpreter importing the SDK), s.
LOOP_STARTUP_S = 15.0


class Go2BridgeNode(LifecycleNode):
    def __init__(self) -> None:
        super().__init__("memaug_go2_bridge")
        self.params = declare_parameters(self, BRIDGE_PARAMETERS)
        p = self.params
        if problem := node_priority_problem(p["node_priority"]):
            self.get_logger().warn(problem)
        self.description = load_robot_description(p["robot"])
        check_interface(p["network_interface"])
        self.limits = SafetyLimits(
            command_timeout_s=p["command_timeout_s"],
            state_timeout_s=p["state_timeout_s"],
            arm_max_tilt=p["arm_max_tilt"],
            max_tilt_deg=p["max_tilt_deg"],
            velocity_factor=p["velocity_factor"],
            velocity_samples=p["velocity_samples"],
        )
        self.link: LoopLink | None = None  # the 500 Hz loop's process, from configure on
        self.mode, self.reason = BridgeMode.DISARMED, "not configured"
        self.estop = False
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.rejected_commands = 0
        self.arms = 0  # successful activations: 0 in the summary of a disarmed run
        self.configure_report = "not configured"  # what configure checked, for /diagnostics
        #: Who may reach this node's topics (memaug_common.graph): said on /diagnostics.
        self.graph = graph_scope(os.environ)
        self._arm_answers: queue.Queue[tuple[bool, str]] = queue.Queue()
        self._publisher: threading.Thread | None = None
        self.pub_joints = self.create_publisher(JointState, "joint_states", STREAM)
        self.pub_imu = self.create_publisher(Imu, "imu/data", STREAM)
        # The handheld remote for the policy node (stand, run, sticks): buttons in remote.KEYS
        # order, axes lx, ly, rx, ry.
        self.pub_remote = self.create_publisher(Joy, "remote", STREAM)
        self.pub_diag = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        # disarmed / armed / fault, with the reason, latched: the policy node follows it.
        self.pub_state = self.create_publisher(String, "bridge/state", LATCHED)
        # The robot for RViz and Foxglove, generated from the same description (latched).
        self.pub_description = self.create_publisher(String, "robot_description", LATCHED)
        self.pub_description.publish(String(data=urdf_from_description(self.description)))
        self.create_subscription(JointState, "joint_commands", self._on_command, FRESHEST)
        self.create_subscription(Bool, "estop", self._on_estop, LATCHED)
        self.create_timer(p["diagnostics_period_s"], self._publish_status)

    # --- lifecycle ----------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        config = LoopConfig(
            robot=p["robot"],
            domain_id=p["dds_domain_id"],
            interface=p["network_interface"],
            loop_rate_hz=p["loop_rate_hz"],
            limits=self.limits,
            strict_crc=p["lowstate_crc"] == "strict",
            lowstate_wait_s=p["lowstate_wait_s"],
            motion_switcher=p["motion_switcher"],
            motion_switcher_timeout_s=p["motion_switcher_timeout_s"],
            priority=p["loop_priority"],
        )
        link = start_loop(config, self.description.num_joints)
        # The process's start-up (a fresh interpreter's imports), the lowstate wait and the
        # motion switcher's answer (twice with release).
        wait_s = LOOP_STARTUP_S + p["lowstate_wait_s"] + 2.0 * p["motion_switcher_timeout_s"]
        deadline = time.monotonic() + wait_s
        outcome: tuple[Any, ...] | None = None
        while outcome is None and time.monotonic() < deadline:
            event = link.wait_event(deadline - time.monotonic())
            if event is None:
                break
            if event[0] == "log":
                self._log(event[1], event[2])
            elif event[0] == "configured":
                outcome = event
        if outcome is None or not outcome[1]:
            problem = outcome[2] if outcome else f"the loop process did not report within {wait_s:.0f} s"
            self.get_logger().error(f"configure failed: {problem}")
            self.configure_report = f"configure failed: {problem}"
            link.stop()
            return TransitionCallbackReturn.FAILURE
        self.link = link
        if self.estop:  # an e-stop engaged before configure holds in the loop too
            link.send("estop", True)
        self.configure_report = (
            f"rt/lowstate valid (lowstate_crc {p['lowstate_crc']}), motion switcher {p['motion_switcher']}, "
            f"loop process at {outcome[2]}; {outcome[3]}"
        )
        self._publisher = threading.Thread(target=self._follow_loop, name="go2-bridge-publisher", daemon=True)
        self._publisher.start()
        self.get_logger().info(f"configured: {self.configure_report}; sending damping until activated")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.link is None:
            return TransitionCallbackReturn.FAILURE
        while not self._arm_answers.empty():
            self._arm_answers.get_nowait()
        self.link.send("arm")
        try:
            ok, message = self._arm_answers.get(timeout=2.0)
        except queue.Empty:
            ok, message = False, "the loop process did not answer the arm request within 2 s"
        if not ok:
            self.get_logger().error(f"activate refused: {message}")
            return TransitionCallbackReturn.FAILURE
        self.arms += 1
        self.get_logger().warn("ARMED: following /joint_commands")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.link is not None:
            self.link.send("disarm", "deactivated")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def _stop_loop(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.stop()
        if self._publisher is not None:
            self._publisher.join(timeout=1.0)

    def _log(self, level: str, text: str) -> None:
        {"info": self.get_logger().info, "warn": self.get_logger().warn}.get(level, self.get_logger().error)(text)

    # --- inputs -------------------------------------------------------------------------
    def _on_command(self, msg: JointState) -> None:
        try:
            command = joint_command_from_fields(self.description, msg.name, msg.position, msg.velocity, msg.effort)
        except CommandRejected as exc:
            self.rejected_commands += 1
            self.get_logger().warn(f"rejected /joint_commands: {exc}", throttle_duration_sec=1.0)
            return
        link = self.link
        if link is not None:
            # Stamped here: the watchdog's age is the command's age at the bridge (monotonic
            # time is the machine's, shared by both processes).
            link.send("command", command.position, command.velocity, command.effort, time.monotonic())

    def _on_estop(self, msg: Bool) -> None:
        self.estop = bool(msg.data)
        link = self.link
        if link is not None:
            link.send("estop", self.estop)
        elif self.estop:
            self.mode, self.reason = BridgeMode.FAULT, "e-stop"
            self._announce()
        self._publish_status()

    # --- what the loop measures, on the ROS graph ---------------------------------------
    def _follow_loop(self) -> None:
        """Publish the loop's newest state (at most publish_rate_hz), its mode changes and
        arm answers, until the loop stops. A loop process that dies is a fault."""
        publication = Every(1.0 / self.params["publish_rate_hz"])
        remote_pace = Every(REMOTE_PERIOD_S)
        published = 0
        while (link := self.link) is not None:
            while (event := link.wait_event(0.0)) is not None:
                self._on_event(event)
            if not link.process.is_alive():
                if self.link is link:  # not a stop we asked for
                    self.mode, self.reason = BridgeMode.FAULT, "the 500 Hz loop process died"
                    self._announce()
                return
            link.wait_doorbell(0.05)
            seq, state, remote, self.counters = link.block.read()
            now = time.monotonic()
            if state is not None and seq != published and publication.due(now):
                published = seq
                self._publish_state(state)
                if remote is not None and remote_pace.due(now):
                    buttons = [int(k in remote.keys) for k in KEYS]
                    joy = Joy(axes=[remote.lx, remote.ly, remote.rx, remote.ry], buttons=buttons)
                    joy.header.stamp = self.get_clock().now().to_msg()
                    self.pub_remote.publish(joy)

    def _on_event(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "mode":
            self.mode, self.reason = BridgeMode(event[1]), event[2]
            self._announce()
        elif kind == "arm":
            self._arm_answers.put((bool(event[1]), str(event[2])))
        elif kind == "log":
            self._log(event[1], event[2])

    def _announce(self) -> None:
        """The bridge's mode on bridge/state (on each change)."""
        self.pub_state.publish(String(data=f"{self.mode.value}: {self.reason}"))
        if self.mode is BridgeMode.FAULT:
            self.get_logger().error(f"FAULT, damping: {self.reason}")

    def _publish_state(self, state: RobotState) -> None:
        stamp = self.get_clock().now().to_msg()
        joints = JointState(
            name=list(self.description.joint_names),
            position=state.position.tolist(),
            velocity=state.velocity.tolist(),
            effort=state.effort.tolist(),
        )
        joints.header.stamp = stamp
        self.pub_joints.publish(joints)
        imu = Imu()
        imu.header.stamp = stamp
        imu.header.frame_id = "imu"
        imu.orientation.w, imu.orientation.x, imu.orientation.y, imu.orientation.z = (
            float(v) for v in state.orientation_wxyz
        )
        imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z = (
            float(v) for v in state.angular_velocity
        )
        imu.linear_acceleration.x, imu.linear_acceleration.y, imu.linear_acceleration.z = (
            float(v) for v in state.linear_acceleration
        )
        self.pub_imu.publish(imu)

    def _publish_status(self) -> None:
        level = {
            BridgeMode.ARMED: DiagnosticStatus.OK,
            BridgeMode.DISARMED: DiagnosticStatus.WARN,
            BridgeMode.FAULT: DiagnosticStatus.ERROR,
        }[self.mode]
        values: dict[str, Any] = {
            "mode": self.mode.value,
            "reason": self.reason,
            "estop": self.estop,
            "rejected_commands": self.rejected_commands,
            "arms": self.arms,
            "configure": self.configure_report,
            "ros_graph": self.graph,
            **self.counters,
        }
        status = DiagnosticStatus(
            level=level,
            name="memaug_go2_bridge: bridge",
            message=f"{self.mode.value}: {self.reason}",
            hardware_id=self.description.name,
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
        )
        self.pub_diag.publish(DiagnosticArray(status=[status]))


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    node = create_or_report("memaug_go2_bridge", Go2BridgeNode)
    if node is None:
        return 2
    code = 0
    try:
        p = node.params
        if p["auto_configure"] or p["auto_activate"]:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                print(f"memaug_go2_bridge: {node.configure_report}", file=sys.stderr)
                code = 3
            elif p["auto_activate"] and node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
                print("memaug_go2_bridge: activate refused (see log)", file=sys.stderr)
                code = 3
        if code == 0:
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node._stop_loop()
        node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
