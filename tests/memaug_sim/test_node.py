"""memaug_sim_node as a separate process, over real DDS on loopback."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pytest
import yourdfpy
from diagnostic_msgs.msg import DiagnosticArray
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool, String

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM

GO2 = load_robot_description("go2")
NODE = "memaug_sim_node"


def stamp_s(msg: JointState | Imu | Clock) -> float:
    t = msg.clock if isinstance(msg, Clock) else msg.header.stamp
    return t.sec + t.nanosec * 1e-9


def bridge_status(diagnostics: list[DiagnosticArray]) -> dict[str, str]:
    """Key values of the newest 'memaug_sim: bridge' status."""
    for array in reversed(diagnostics):
        for status in array.status:
            if status.name == "memaug_sim: bridge":
                return {kv.key: kv.value for kv in status.values}
    return {}


def hold_command(pose: np.ndarray) -> JointState:
    msg = JointState()
    msg.name = list(GO2.joint_names)
    msg.position = pose.tolist()
    return msg


def test_realtime_rates_and_names(ros, start_node) -> None:
    states = ros.subscribe(JointState, "joint_states", STREAM)
    start_node(NODE, "--ros-args", "-p", "mode:=realtime", "-p", "publish_rate_hz:=200.0")
    ros.wait_for(lambda: len(states) > 20, 20.0, "first /joint_states from memaug_sim_node")
    states.clear()
    ros.spin_for(2.0)
    # Stamps are the bridge's publish times: their spacing is its rate, whatever this process does.
    stamps = [stamp_s(m) for m in states]
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert 180 < rate < 220, f"/joint_states at {rate:.0f} Hz, expected 200"
    assert tuple(states[-1].name) == GO2.joint_names
    assert all(len(m.position) == len(m.velocity) == len(m.effort) == 12 for m in states)


def test_the_robot_description_is_latched_for_late_joiners(ros, start_node) -> None:
    start_node(NODE, "--ros-args", "-p", "mode:=realtime")
    states = ros.subscribe(JointState, "joint_states", STREAM)
    ros.wait_for(lambda: states, 20.0, "first /joint_states from memaug_sim_node")
    descriptions = ros.subscribe(String, "robot_description", LATCHED)  # subscribed after it was published
    ros.wait_for(lambda: descriptions, 10.0, "the latched /robot_description")
    urdf = yourdfpy.URDF.load(io.StringIO(descriptions[0].data), load_meshes=False)
    assert urdf.actuated_joint_names == list(GO2.joint_names)


def test_lockstep_clock_is_monotonic_and_faster_than_realtime(ros, start_node) -> None:
    clocks = ros.subscribe(Clock, "clock", STREAM)
    ros.subscribe(JointState, "joint_states", STREAM)  # the sim holds time at 0 until this matches
    node = start_node(
        NODE, "--ros-args", "-p", "mode:=lockstep", "-p", "duration_s:=20.0", "-p", "wait_for_subscribers:=1"
    )
    ros.wait_for(lambda: not node.alive(), 120.0, "memaug_sim_node to finish 20 s of sim time")
    assert node.wait(1.0) == 0, node.output()
    times = [stamp_s(c) for c in clocks]
    assert len(times) > 100
    assert all(b > a for a, b in itertools.pairwise(times))
    assert "stopped at sim time 20.000 s" in node.output()


def test_standing_reads_gravity_and_one_commanded_joint_moves(ros, start_node) -> None:
    """The test is the controller of a gated lockstep sim: one command per control period."""
    states = ros.subscribe(JointState, "joint_states", STREAM)
    imus = ros.subscribe(Imu, "imu/data", STREAM)
    clock = ros.subscribe(Clock, "clock", STREAM)
    pub = ros.node.create_publisher(JointState, "joint_commands", STREAM)
    start_node(NODE, "--ros-args", "-p", "mode:=lockstep", "-p", "lockstep_gate:=true", "-p", "wait_for_subscribers:=1")
    ros.wait_for(lambda: states and clock, 20.0, "first /joint_states and /clock")
    period = GO2.control_period_s

    def hold_for(pose: np.ndarray, seconds: float) -> np.ndarray:
        start = stamp_s(clock[-1])
        sent_for = -1
        while stamp_s(clock[-1]) < start + seconds:
            tick = int(stamp_s(clock[-1]) / period + 1e-6)
            if tick > sent_for:
                pub.publish(hold_command(pose))
                sent_for = tick
            ros.spin(0.002)
        return np.array(states[-1].position)

    stand = hold_for(GO2.default_pose, 3.0)
    # Standing still: the accelerometer reads +g along the base z axis, the gyro nothing.
    acc, gyro = imus[-1].linear_acceleration, imus[-1].angular_velocity
    assert math.isclose(acc.z, 9.81, abs_tol=0.3) and math.hypot(acc.x, acc.y) < 0.5
    assert math.hypot(gyro.x, gyro.y, gyro.z) < 0.05
    knee = GO2.joint_index("FL_calf_joint")
    bent = GO2.default_pose.copy()
    bent[knee] += 0.4
    after = hold_for(bent, 1.0)
    moved = np.abs(after - stand)
    assert moved[knee] > 0.25
    # The others give under the shifted load (PD at kp 40 is compliant), much less than the commanded one.
    assert np.all(np.delete(moved, knee) < 0.6 * moved[knee]), moved


def test_watchdog_estop_and_malformed_commands(ros, start_node) -> None:
    diagnostics = ros.subscribe(DiagnosticArray, "diagnostics")
    pub = ros.node.create_publisher(JointState, "joint_commands", STREAM)
    estop = ros.node.create_publisher(Bool, "estop", LATCHED)
    start_node(
        NODE, "--ros-args", "-p", "mode:=realtime", "-p", "diagnostics_period_s:=0.1", "-p", "command_timeout_s:=0.05"
    )
    ros.wait_for(lambda: bridge_status(diagnostics), 20.0, "bridge status on /diagnostics")

    def send(seconds: float, msg: JointState) -> None:
        end = ros.node.get_clock().now().nanoseconds + seconds * 1e9
        while ros.node.get_clock().now().nanoseconds < end:
            pub.publish(msg)
            ros.spin_for(0.02)

    send(0.5, hold_command(GO2.default_pose))
    assert bridge_status(diagnostics)["mode"] == "active"
    ros.spin_for(0.4)  # commands stop: watchdog
    status = bridge_status(diagnostics)
    assert status["mode"] == "passive" and int(status["watchdog_trips"]) >= 1

    estop.publish(Bool(data=True))
    send(0.4, hold_command(GO2.default_pose))
    assert bridge_status(diagnostics)["mode"] == "estop"
    estop.publish(Bool(data=False))
    send(0.4, hold_command(GO2.default_pose))
    assert bridge_status(diagnostics)["mode"] == "active"

    bad = hold_command(GO2.default_pose)
    bad.position[3] = float("nan")
    short = JointState(position=[0.0] * 5)
    for msg in (bad, short, bad):
        pub.publish(msg)
        ros.spin_for(0.05)
    ros.wait_for(
        lambda: int(bridge_status(diagnostics).get("commands_rejected", 0)) == 3, 5.0, "3 rejected commands counted"
    )
    assert (
        "position has 5 values" in bridge_status(diagnostics)["last_rejection"]
        or "non-finite" in (bridge_status(diagnostics)["last_rejection"])
    )


def test_scheduled_fault_is_announced_with_its_sim_time(ros, start_node) -> None:
    diagnostics = ros.subscribe(DiagnosticArray, "diagnostics")
    ros.subscribe(JointState, "joint_states", STREAM)  # the sim holds time at 0 until this matches
    start_node(
        NODE,
        "--ros-args",
        "-p",
        "mode:=lockstep",
        "-p",
        "scenario:=right_front_knee_limp",
        "-p",
        "max_realtime_factor:=10.0",
        "-p",
        "duration_s:=12.0",
        "-p",
        "wait_for_subscribers:=1",
    )

    def fault_status() -> dict[str, str] | None:
        for array in diagnostics:
            for status in array.status:
                if status.name == "memaug_sim: fault":
                    return {kv.key: kv.value for kv in status.values}
        return None

    fault = ros.wait_for(fault_status, 30.0, "fault announcement on /diagnostics")
    assert fault["kind"] == "limp" and fault["joint"] == "FR_calf_joint"
    assert float(fault["sim_time_s"]) == pytest.approx(10.0, abs=0.003)


def test_bad_start_up_input_exits_non_zero_naming_it(start_node) -> None:
    cases = {
        ("-p", "robot:=spot"): "no robots named 'spot'",
        ("-p", "scenario:=nowhere"): "no scenarios named 'nowhere'",
        ("-p", "fault:=limp:FR_elbow"): "unknown joint 'FR_elbow'",
        ("-p", "publish_rate_hz:=1e6"): "publish_rate_hz",
        ("-p", "publsh_rate_hz:=100.0"): "unknown parameter 'publsh_rate_hz'",
    }
    for args, message in cases.items():
        node = start_node(NODE, "--ros-args", *args)
        assert node.wait(30.0) == 2
        assert message in node.output()
