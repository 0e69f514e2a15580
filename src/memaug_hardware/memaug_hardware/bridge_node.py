"""memaug_go2_bridge: the Go2's low-level DDS protocol behind memaug's topic contract.

A lifecycle node. configure: open the DDS channel on the named interface, wait (with a
timeout) for a valid rt/lowstate, refuse if Unitree's sport-mode controller is running.
activate: arm, only from a safe posture. deactivate: damping. Its own safety (watchdog,
limits, e-stop, CRC) is in memaug_hardware.safety, independent of the policy node.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Imu, JointState, Joy
from std_msgs.msg import Bool, String

from memaug_common.description import load_robot_description
from memaug_common.remote_map import KEYS
from memaug_common.ros_main import create_or_report
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import FRESHEST, LATCHED, STREAM
from memaug_hardware.dds import Go2Endpoints, controller_endpoints, participant
from memaug_hardware.motion_switcher import HELP, check_mode, release_mode
from memaug_hardware.params import BRIDGE_PARAMETERS
from memaug_hardware.protocol import RobotState, crc_ok, fill_lowcmd, new_lowcmd, state_from_lowstate
from memaug_hardware.realtime import try_realtime_priority
from memaug_hardware.remote import RemoteState
from memaug_hardware.safety import BridgeMode, BridgeSafety, SafetyLimits
from memaug_policy.observation import projected_gravity
from memaug_sim.commands import CommandRejected, joint_command_from_fields
from memaug_sim.pacing import Every
from memaug_sim.urdf import urdf_from_description

#: /remote goes out every this many loop ticks (50 Hz at 500 Hz): a hand's pace.
REMOTE_EVERY = 10


def _remote(frame: Any) -> RemoteState | None:
    """The remote in a lowstate frame, or None if its bytes do not parse."""
    try:
        return RemoteState.parse(list(frame.wireless_remote))
    except ValueError:
        return None


class Go2BridgeNode(LifecycleNode):
    def __init__(self) -> None:
        super().__init__("memaug_go2_bridge")
        self.params = declare_parameters(self, BRIDGE_PARAMETERS)
        p = self.params
        self.description = load_robot_description(p["robot"])
        self.safety = BridgeSafety(
            self.description,
            SafetyLimits(
                command_timeout_s=p["command_timeout_s"],
                state_timeout_s=p["state_timeout_s"],
                arm_max_tilt=p["arm_max_tilt"],
                max_tilt_deg=p["max_tilt_deg"],
                velocity_factor=p["velocity_factor"],
                velocity_samples=p["velocity_samples"],
            ),
        )
        self.endpoints: Go2Endpoints | None = None
        self.state: RobotState | None = None
        self._unpublished: RobotState | None = None  # the newest valid state, until published
        self._remote: RemoteState | None = None  # the newest remote, published as /remote (Joy)
        # The mode and reason last put on bridge/state: compared every loop tick, so no string
        # is built on the control path unless the mode changed.
        self._announced: tuple[BridgeMode, str] | None = None
        self.rejected_commands = 0
        self.loop_stats = {"ticks": 0, "late_ticks": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
        self.endpoints = controller_endpoints(participant(p["dds_domain_id"], p["network_interface"]))
        deadline = time.monotonic() + p["lowstate_wait_s"]
        while self.state is None and time.monotonic() < deadline:
            if self.endpoints.wait(0.05):
                self._read_states()
        if self.state is None:
            self.get_logger().error(
                f"configure failed: no valid rt/lowstate within {p['lowstate_wait_s']} s on interface "
                f"{p['network_interface']}, domain {p['dds_domain_id']} (robot on? cable in? right interface?)"
                + (f"; {self.safety.stale_reason(time.monotonic())}" if self.safety.counters["bad_crc"] else "")
            )
            return TransitionCallbackReturn.FAILURE
        problem = self._high_level_controller(p["motion_switcher"], p["motion_switcher_timeout_s"])
        if problem is not None:
            self.get_logger().error(f"configure refused: {problem}")
            return TransitionCallbackReturn.FAILURE
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="go2-bridge", daemon=True)
        self._thread.start()
        self.get_logger().info("configured: rt/lowstate valid; sending damping until activated")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._lock:
            tilt = float(np.linalg.norm(projected_gravity(self.state.orientation_wxyz)[:2])) if self.state else 1.0
            ok, message = self.safety.arm(self.state, time.monotonic(), tilt)
        if not ok:
            self.get_logger().error(f"activate refused: {message}")
            return TransitionCallbackReturn.FAILURE
        self.get_logger().warn("ARMED: following /joint_commands")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._lock:
            self.safety.disarm("deactivated")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_loop()
        return TransitionCallbackReturn.SUCCESS

    def _stop_loop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def _high_level_controller(self, policy: str, timeout_s: float) -> str | None:
        """Why the robot is not free for low-level control (its sport-mode controller is
        active, or nobody answered for it), or None. ``policy``: check, release, skip."""
        if policy == "skip":
            self.get_logger().warn("motion switcher not asked (motion_switcher:=skip): a simulator without it only")
            return None
        answer = check_mode(timeout_s)
        if answer.mode is None:
            return f"{answer.detail}; a simulator without it needs motion_switcher:=skip"
        if answer.mode and policy == "release":
            self.get_logger().warn(
                f"releasing the active high-level controller '{answer.mode}' (motion_switcher:=release)"
            )
            answer = release_mode(timeout_s)
        if answer.mode:
            return (
                f"Unitree's high-level controller '{answer.mode}' is active and would fight low-level commands; {HELP}"
            )
        if answer.mode is None:
            return answer.detail
        self.get_logger().info("motion switcher: no high-level controller active")
        return None

    # --- inputs -------------------------------------------------------------------------
    def _on_command(self, msg: JointState) -> None:
        try:
            command = joint_command_from_fields(self.description, msg.name, msg.position, msg.velocity, msg.effort)
        except CommandRejected as exc:
            self.rejected_commands += 1
            self.get_logger().warn(f"rejected /joint_commands: {exc}", throttle_duration_sec=1.0)
            return
        with self._lock:
            self.safety.on_command(command.position, command.velocity, command.effort, time.monotonic())

    def _on_estop(self, msg: Bool) -> None:
        with self._lock:
            self.safety.set_estop(bool(msg.data))
        self._publish_status()

    def _read_states(self) -> None:
        """Take every new rt/lowstate. Only valid frames become the state, and each is
        published once: after a fault the bridge goes on publishing what it measures, never
        a frozen copy with a fresh stamp."""
        assert self.endpoints is not None
        check_crc = self.params["lowstate_crc"] == "strict"
        for frame in self.endpoints.take_all():
            state = state_from_lowstate(frame, self.description.num_joints)
            remote = _remote(frame)
            with self._lock:
                if self.safety.on_state(state, crc_ok(frame) or not check_crc, time.monotonic()):
                    self.state = state
                    self._unpublished = state
                    if remote is not None:
                        self.safety.on_remote(remote)
                        self._remote = remote
            self._follow_mode()

    # --- the 500 Hz loop ----------------------------------------------------------------
    def _loop(self) -> None:
        assert self.endpoints is not None
        period = 1.0 / self.params["loop_rate_hz"]
        lowcmd = new_lowcmd()  # one message, refilled each tick
        priority = self.params["loop_priority"]
        if priority and not try_realtime_priority(priority):
            self.get_logger().warn(
                f"500 Hz loop at normal priority: SCHED_FIFO {priority} refused (root or CAP_SYS_NICE)"
            )
        # /joint_states and /imu/data at publish_rate_hz (monotonic time), each the newest state.
        publication = Every(1.0 / self.params["publish_rate_hz"])
        next_tick = time.perf_counter()
        while not self._stop.is_set():
            self._read_states()
            now = time.monotonic()
            with self._lock:
                command = self.safety.motor_command(now)
                state = None
                if self._unpublished is not None and publication.due(now):
                    state, self._unpublished = self._unpublished, None
            self._follow_mode()
            self.endpoints.writer.write(fill_lowcmd(lowcmd, command))
            if state is not None:
                self._publish_state(state)
                if self._remote is not None and self.loop_stats["ticks"] % REMOTE_EVERY == 0:
                    r = self._remote
                    joy = Joy(axes=[r.lx, r.ly, r.rx, r.ry], buttons=[int(k in r.keys) for k in KEYS])
                    joy.header.stamp = self.get_clock().now().to_msg()
                    self.pub_remote.publish(joy)
            self.loop_stats["ticks"] += 1
            # Absolute deadlines: a tick that runs late is made up by the next sleep, so the
            # average rate stays 500 Hz; only a stall of a whole period re-anchors the schedule.
            next_tick += period
            remaining = next_tick - time.perf_counter()
            if remaining > 0:
                time.sleep(remaining)
            else:
                self.loop_stats["late_ticks"] += 1
                if -remaining > period:
                    next_tick = time.perf_counter()

    def _follow_mode(self) -> None:
        """Announce the bridge's mode on bridge/state whenever it changes."""
        s = self.safety
        if self._announced is not None and self._announced[0] is s.mode and self._announced[1] == s.reason:
            return
        self._announced = (s.mode, s.reason)
        self.pub_state.publish(String(data=f"{s.mode.value}: {s.reason}"))
        if s.mode is BridgeMode.FAULT:
            self.get_logger().error(f"FAULT, damping: {s.reason}")

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
        s = self.safety
        level = {
            BridgeMode.ARMED: DiagnosticStatus.OK,
            BridgeMode.DISARMED: DiagnosticStatus.WARN,
            BridgeMode.FAULT: DiagnosticStatus.ERROR,
        }[s.mode]
        values: dict[str, Any] = {
            "mode": s.mode.value,
            "reason": s.reason,
            "estop": s.estop,
            "rejected_commands": self.rejected_commands,
            **s.counters,
            **self.loop_stats,
        }
        status = DiagnosticStatus(
            level=level,
            name="memaug_go2_bridge: bridge",
            message=f"{s.mode.value}: {s.reason}",
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
        if node.params["auto_activate"]:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                print("memaug_go2_bridge: configure failed (see log)", file=sys.stderr)
                code = 3
            elif node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
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
