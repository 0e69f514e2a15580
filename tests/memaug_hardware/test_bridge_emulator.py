"""Go2 bridge against the emulator, each its own process, DDS on loopback only."""

from __future__ import annotations

import re
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from memaug_hardware.dds import LOWCMD_TOPIC, participant
from memaug_hardware.protocol import MotorCommand, lowcmd_from_command
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, String
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM

GO2 = load_robot_description("go2")


def start_pair(start_node, go2_domain: int, *bridge_args: str, suspended: bool = False):
    emulator = start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), *(["--suspended"] * suspended))
    bridge = start_node(
        "memaug_go2_bridge",
        "--ros-args",
        "-p",
        "network_interface:=lo",
        "-p",
        f"dds_domain_id:={go2_domain}",
        *bridge_args,
    )
    return emulator, bridge


def transition(ros, transition_id: int) -> bool:
    client = ros.node.create_client(ChangeState, "/memaug_go2_bridge/change_state")
    ros.wait_for(lambda: client.service_is_ready(), 20.0, "the bridge's lifecycle service")
    future = client.call_async(ChangeState.Request(transition=Transition(id=transition_id)))
    return bool(ros.wait_for(lambda: future.result(), 20.0, "the lifecycle transition").success)


def hold(ros, pub, pose: np.ndarray, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pub.publish(JointState(name=list(GO2.joint_names), position=pose.tolist()))
        ros.spin_for(0.02)


def test_no_motion_before_arming_then_each_motor_moves_its_own_joint(ros, start_node, go2_domain, lowcmd_tap) -> None:
    states = ros.subscribe(JointState, "joint_states", STREAM)
    diagnostics = ros.subscribe(DiagnosticArray, "diagnostics")
    commands = ros.node.create_publisher(JointState, "joint_commands", STREAM)
    # A loaded test machine can stall a process for tens of ms; this test is about joint
    # mapping, not the 50 ms stale-state fault (tested in test_protocol_and_safety).
    start_pair(start_node, go2_domain, "-p", "state_timeout_s:=0.3", suspended=True)
    assert transition(ros, Transition.TRANSITION_CONFIGURE)
    ros.wait_for(lambda: len(states) > 50, 20.0, "/joint_states from the configured bridge")
    ros.spin_for(1.0)  # motors off, then damping: the legs hang
    lowcmd_tap.take(N=256)
    hold(ros, commands, GO2.default_pose, 1.5)  # commanded, but not armed
    frames = [f for f in lowcmd_tap.take(N=256) if isinstance(f, LowCmd_)]
    assert frames and all(m.kp == 0.0 for f in frames for m in f.motor_cmd[:12]), "stiffness before arming"
    lying = np.array(states[-1].position)
    assert np.max(np.abs(lying - GO2.default_pose)) > 0.3, "the unarmed robot took the commanded pose"

    assert transition(ros, Transition.TRANSITION_ACTIVATE)
    for alpha in np.linspace(0.0, 1.0, 50):  # stand up gently, as the policy's stand phase does
        hold(ros, commands, lying + alpha * (GO2.default_pose - lying), 0.03)
    hold(ros, commands, GO2.default_pose, 1.0)
    standing = np.array(states[-1].position)
    status = [s.message for d in diagnostics[-3:] for s in d.status]
    assert np.max(np.abs(standing - GO2.default_pose)) < 0.3, f"did not stand; bridge says {status}"
    for joint in range(GO2.num_joints):
        before = np.array(states[-1].position)
        pose = GO2.default_pose.copy()
        pose[joint] += 0.25 if GO2.upper_limits[joint] - pose[joint] > 0.3 else -0.25
        for alpha in np.linspace(0.2, 1.0, 5):  # a short ramp, not a step: a hanging leg is light
            hold(ros, commands, GO2.default_pose + alpha * (pose - GO2.default_pose), 0.04)
        hold(ros, commands, pose, 0.4)
        moved = np.abs(np.array(states[-1].position) - before)
        status = [s.message for d in diagnostics[-2:] for s in d.status]
        assert int(np.argmax(moved)) == joint, f"motor {joint} moved joint {int(np.argmax(moved))}: {moved}; {status}"
        assert moved[joint] > 0.15
        hold(ros, commands, GO2.default_pose, 0.4)


def test_states_go_out_at_the_publish_rate_while_the_loop_keeps_500_hz(ros, start_node, go2_domain) -> None:
    """publish_rate_hz thins /joint_states and /imu/data for a computer short of cores; the
    motor loop (rt/lowcmd, the safety checks) stays at loop_rate_hz."""
    states = ros.subscribe(JointState, "joint_states", STREAM)
    diagnostics = ros.subscribe(DiagnosticArray, "diagnostics")
    start_pair(start_node, go2_domain, "-p", "publish_rate_hz:=50.0", "-p", "state_timeout_s:=0.3")
    assert transition(ros, Transition.TRANSITION_CONFIGURE)
    ros.wait_for(lambda: len(states) > 10, 20.0, "/joint_states from the configured bridge")
    first, ticks_before = len(states), _loop_ticks(diagnostics)
    ros.spin_for(3.0)
    stamps = np.array([m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for m in states[first:]])
    rate_hz = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    loop_hz = (_loop_ticks(diagnostics) - ticks_before) / 3.0
    assert 35.0 < rate_hz <= 51.0, f"/joint_states at {rate_hz:.1f} Hz, publish_rate_hz 50"
    assert loop_hz > 200.0, f"the loop ran at {loop_hz:.0f} Hz"


def _loop_ticks(diagnostics: list[DiagnosticArray]) -> int:
    """The bridge loop's tick count in its newest /diagnostics."""
    values = {v.key: v.value for v in diagnostics[-1].status[0].values}
    return int(values["ticks"])


def wait_for_reader(writer, timeout_s: float) -> bool:
    """True once ``writer`` has matched at least one reader, False after ``timeout_s``."""
    from cyclonedds.core import DDSStatus

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if writer.get_status_changes() & DDSStatus.PublicationMatched:  # set on the first match
            return True
        time.sleep(0.05)
    return False


def test_emulator_rejects_frames_with_a_bad_crc(start_node, go2_domain) -> None:
    from cyclonedds.pub import DataWriter
    from cyclonedds.topic import Topic

    emulator = start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), "--duration", "8")
    dp = participant(go2_domain, "lo")
    writer = DataWriter(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_))
    good = lowcmd_from_command(MotorCommand(GO2.default_pose, np.zeros(12), GO2.kp.copy(), GO2.kd.copy(), np.zeros(12)))
    bad = lowcmd_from_command(MotorCommand(GO2.default_pose, np.zeros(12), GO2.kp.copy(), GO2.kd.copy(), np.zeros(12)))
    bad.crc ^= 0x1
    deadline = time.monotonic() + 20  # the emulator's loop (after its motion switcher service) starts
    while "rt/lowstate at" not in emulator.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wait_for_reader(writer, 10.0), "the emulator's rt/lowcmd reader did not match within 10 s"
    # The emulator's reader keeps only the latest frame (depth 1, as the SDK's), so two frames
    # written back to back would overwrite each other: space them over several 2 ms ticks.
    for _ in range(20):
        writer.write(good)
        time.sleep(0.02)
        writer.write(bad)
        time.sleep(0.02)
    assert emulator.wait(30) == 0
    final = emulator.output().strip().splitlines()[-1]
    accepted = int(re.search(r"frames accepted (\d+)", final).group(1))
    rejected = int(re.search(r"rejected (\d+)", final).group(1))
    assert accepted >= 1 and rejected >= 1 and "bad crc" in final
    assert rejected <= 20


def damping_delay(tap, trigger, timeout_s: float = 2.0) -> float:
    """Seconds from ``trigger()`` to the first damping frame (all kp == 0) on rt/lowcmd."""
    tap.take(N=256)
    start = time.perf_counter()
    trigger()
    while time.perf_counter() - start < timeout_s:
        for frame in tap.take(N=64):
            if isinstance(frame, LowCmd_) and all(m.kp == 0.0 for m in frame.motor_cmd[:12]):
                return time.perf_counter() - start
        time.sleep(0.0005)
    raise TimeoutError(f"no damping frame on rt/lowcmd within {timeout_s} s")


def wait_for_stiff_frames(tap, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        frames = [f for f in tap.take(N=64) if isinstance(f, LowCmd_)]
        if frames and all(f.motor_cmd[0].kp > 0 for f in frames[-5:]):
            return
        time.sleep(0.02)
    raise TimeoutError("the bridge never sent stiff (armed, commanded) frames")


def test_killed_policy_means_damping_within_the_watchdog(
    ros, start_node, go2_domain, lowcmd_tap, gru_policy, recorded_summary
):
    diagnostics = ros.subscribe(DiagnosticArray, "diagnostics")
    _, bridge = start_pair(start_node, go2_domain, "-p", "auto_activate:=true")
    # As memaug robot starts it: standing into a bridge not yet armed would leave the robot lying.
    policy = start_node(
        "memaug_policy_node", "--ros-args", "-p", f"model:={gru_policy}", "-p", "autostart:=true",
        "-p", "wait_for_bridge_armed:=true",
    )  # fmt: skip
    try:
        wait_for_stiff_frames(lowcmd_tap, 60.0)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\nbridge:\n{bridge.output()[-1500:]}\npolicy:\n{policy.output()[-1500:]}") from exc
    delay = damping_delay(lowcmd_tap, policy.kill)
    # 50 ms watchdog after the last command, which left up to one 20 ms control period before the kill.
    assert delay < 0.08, f"{delay * 1e3:.1f} ms from kill to damping"

    def watchdog_counted() -> bool:
        bridge = [s for a in diagnostics for s in a.status if s.name == "memaug_go2_bridge: bridge"]
        return bool(bridge) and int({kv.key: kv.value for kv in bridge[-1].values}["watchdog_damping"]) > 0

    # The bridge says so on /diagnostics, and the summary of the bag recorded meanwhile counts it.
    ros.wait_for(watchdog_counted, 10.0, "the bridge's watchdog count on /diagnostics")
    ros.spin_for(0.2)
    assert recorded_summary()["bridge_counters"]["watchdog_damping"] > 0


def test_estop_reaches_the_wire_as_damping(ros, start_node, go2_domain, lowcmd_tap) -> None:
    commands = ros.node.create_publisher(JointState, "joint_commands", STREAM)
    estop = ros.node.create_publisher(Bool, "estop", LATCHED)
    start_pair(start_node, go2_domain, "-p", "auto_activate:=true")
    ros.wait_for(lambda: estop.get_subscription_count() > 0, 20.0, "the bridge subscribed to /estop")
    end = time.monotonic() + 30
    while time.monotonic() < end:
        commands.publish(JointState(name=list(GO2.joint_names), position=GO2.default_pose.tolist()))
        ros.spin_for(0.02)
        frames = [f for f in lowcmd_tap.take(N=64) if isinstance(f, LowCmd_)]
        if frames and frames[-1].motor_cmd[0].kp > 0:
            break
    delay = damping_delay(lowcmd_tap, lambda: estop.publish(Bool(data=True)))
    assert delay < 0.05, f"{delay * 1e3:.1f} ms from /estop to damping"
    hold(ros, commands, GO2.default_pose, 0.3)  # commands keep coming: still damping (latched)
    frames = [f for f in lowcmd_tap.take(N=64) if isinstance(f, LowCmd_)]
    assert frames and all(f.motor_cmd[0].kp == 0 for f in frames)


def test_configure_refuses_while_sport_mode_runs(start_node, go2_domain, start_bridge) -> None:
    start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), "--sport-mode")
    bridge = start_bridge()
    assert bridge.wait(60) == 3
    assert "high-level controller 'normal' is active" in bridge.output()


def test_release_only_behind_its_flag_then_the_bridge_arms(ros, start_node, go2_domain, start_bridge) -> None:
    states = ros.subscribe(String, "bridge/state", LATCHED)
    start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), "--sport-mode")
    start_bridge("-p", "motion_switcher:=release")
    ros.wait_for(lambda: any(m.data.startswith("armed") for m in states), 60.0, "the bridge to arm after release")


def test_no_motion_switcher_is_named_and_skip_is_explicit(ros, start_node, go2_domain, start_bridge) -> None:
    start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), "--no-motion-switcher")
    bridge = start_bridge("-p", "motion_switcher_timeout_s:=1.0")
    assert bridge.wait(60) == 3
    assert "no answer from the motion switcher" in bridge.output() and "motion_switcher:=skip" in bridge.output()
    states = ros.subscribe(String, "bridge/state", LATCHED)
    start_bridge("-p", "motion_switcher:=skip")
    ros.wait_for(lambda: any(m.data.startswith("armed") for m in states), 60.0, "the bridge to arm")


def test_configure_fails_clearly_without_a_robot(start_node, go2_domain, start_bridge) -> None:
    bridge = start_bridge("-p", "lowstate_wait_s:=1.0")
    assert bridge.wait(60) == 3
    assert "no valid rt/lowstate within 1.0 s on interface lo" in bridge.output()


def test_lowstate_left_without_a_crc_is_a_fault_that_names_it(ros, fault_rehearsal, recorded_summary) -> None:
    """A simulator that stops filling LowState_.crc: frames are dropped and counted, and with no
    valid one the armed bridge damps; the fault names the CRC, on /bridge/state and in the summary."""
    fault = fault_rehearsal(("--zero-crc-after", "4.0"))
    assert "had a bad CRC" in fault and "lowstate_crc:=ignore" in fault
    ros.spin_for(1.0)  # a bridge diagnostics period: its bad_crc count reaches the bag
    summary = recorded_summary()
    assert any("bad CRC" in fault["reason"] for fault in summary["bridge_faults"]), summary["bridge_faults"]
    assert summary["bridge_counters"]["bad_crc"] > 0


def test_a_real_overspeed_damps_and_names_the_joint(fault_rehearsal, recorded_summary) -> None:
    """A 60 N m push on a rear thigh for 40 ms (the emulator's --kick) spins it past 1.1x its
    30.1 rad/s limit for more than 10 lowstates, inside its range: the bridge damps and says
    why, on /bridge/state and in the summary."""
    fault = fault_rehearsal(("--kick", "4.0:RR_thigh_joint:60:0.04"))
    assert fault.startswith("fault: joint RR_thigh_joint over its velocity limit (")
    reasons = [fault["reason"] for fault in recorded_summary()["bridge_faults"]]
    assert [r.startswith("joint RR_thigh_joint over its velocity limit") for r in reasons] == [True], reasons


def test_a_bad_kick_is_one_named_line(start_node) -> None:
    emulator = start_node("memaug_go2_emulator", "--kick", "4.0:RR_knee_joint:60:0.04")
    assert emulator.wait(60) == 2
    assert "--kick '4.0:RR_knee_joint:60:0.04': expected T:JOINT:NM:S" in emulator.output()
    assert "Traceback" not in emulator.output()
