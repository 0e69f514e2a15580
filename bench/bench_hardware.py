"""Go2 bridge benchmarks against the emulator, all on loopback, measured on the wire (rt/lowcmd).

    .venv/bin/python bench/bench_hardware.py [--seconds 10] [--trials 20]

- bridge loop period jitter at 500 Hz (rt/lowcmd source timestamps), at normal priority (the default)
  and under SCHED_FIFO (loop_priority:=80), against the emulator's own
  rt/lowstate inter-arrival in the same run (the baseline: same machine, same transport);
- state-to-lowcmd latency: this process plays the robot, writes rt/lowstate and times the
  next rt/lowcmd (includes waiting for the bridge's next loop tick);
- policy killed (SIGKILL) -> first damping frame, over --trials trials;
- /estop published -> first damping frame, over --trials trials.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
from cyclonedds.pub import DataWriter
from cyclonedds.qos import Policy, Qos
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from memaug_hardware.dds import LOWCMD_TOPIC, LOWSTATE_TOPIC, participant
from memaug_hardware.protocol import crc_of
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowState_
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM
from memaug_common.testing import NodeProcess, bench_domain, local_dds_env

GO2 = load_robot_description("go2")
FOLDER = Path(tempfile.mkdtemp(prefix="bench-hw-"))


def stats(values_s: list[float] | np.ndarray) -> str:
    ms = np.asarray(values_s) * 1e3
    return (
        f"p50 {np.percentile(ms, 50):.3f} ms  p99 {np.percentile(ms, 99):.3f} ms  max {ms.max():.3f} ms (n={len(ms)})"
    )


STARTED: list[NodeProcess] = []


def rate(times: list[float]) -> float:
    """Mean rate of a stream from its time stamps, Hz."""
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


def start(name: str, args: list[str], domain: int) -> NodeProcess:
    process = NodeProcess([name, *args], local_dds_env(domain), FOLDER / f"{name}-{time.monotonic_ns()}.log")
    STARTED.append(process)
    return process


def bridge_args(go2_domain: int, *extra: str) -> list[str]:
    return ["--ros-args", "-p", "network_interface:=lo", "-p", f"dds_domain_id:={go2_domain}", *extra]


def is_damping(frame: LowCmd_) -> bool:
    return all(m.kp == 0.0 for m in frame.motor_cmd[:12])


def loop_jitter(seconds: float, domain: int, go2_domain: int, priority: int) -> None:
    emulator = start("memaug_go2_emulator", ["--domain-id", str(go2_domain)], domain)
    args = bridge_args(go2_domain, "-p", "auto_activate:=true", "-p", f"loop_priority:={priority}")
    bridge = start("memaug_go2_bridge", args, domain)
    dp = participant(go2_domain, "lo")
    # The writers' source timestamps (taken when each frame was written), so this tap can read
    # every 20 ms with a deep history: a tap polling every 0.2 ms was a third busy process on
    # 2 cores and spoiled what it measured.
    deep = Qos(Policy.Reliability.BestEffort, Policy.History.KeepLast(1000))
    cmd_reader = DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_), qos=deep)
    state_reader = DataReader(dp, Topic(dp, LOWSTATE_TOPIC, LowState_), qos=deep)
    time.sleep(4.0)
    cmd_reader.take(N=1000)
    state_reader.take(N=1000)
    cmd_times: list[float] = []
    state_times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(0.02)
        cmd_times += [s.sample_info.source_timestamp * 1e-9 for s in cmd_reader.take(N=1000)]
        state_times += [s.sample_info.source_timestamp * 1e-9 for s in state_reader.take(N=1000)]
    bridge.stop()
    emulator.stop()
    period = 0.002
    print(f"bridge loop (loop_priority {priority}), {seconds:.0f} s, on the wire (writers' source timestamps):")
    print(
        f"  rt/lowcmd  (bridge)   {rate(cmd_times):6.1f} Hz, |interval - 2 ms| "
        f"{stats(np.abs(np.diff(cmd_times) - period))}"
    )
    print(
        f"  rt/lowstate (emulator, baseline) {rate(state_times):6.1f} Hz, |interval - 2 ms| "
        f"{stats(np.abs(np.diff(state_times) - period))}"
    )


def state_to_lowcmd(samples: int, domain: int, go2_domain: int) -> None:
    """This process is the robot: write rt/lowstate, time the next rt/lowcmd."""
    dp = participant(go2_domain, "lo")
    state_writer = DataWriter(dp, Topic(dp, LOWSTATE_TOPIC, LowState_))
    cmd_reader = DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_))
    state = unitree_go_msg_dds__LowState_()
    for i in range(12):
        state.motor_state[i].q = float(GO2.default_pose[i])
    state.imu_state.quaternion = [1.0, 0.0, 0.0, 0.0]
    state.crc = crc_of(state)
    # This process plays the robot without Unitree's motion switcher service: skip asking it.
    bridge_params = bridge_args(go2_domain, "-p", "auto_activate:=true", "-p", "motion_switcher:=skip")
    bridge = start("memaug_go2_bridge", bridge_params, domain)
    end = time.monotonic() + 15
    while time.monotonic() < end and not cmd_reader.take(N=8):
        state_writer.write(state)
        time.sleep(0.002)
    latencies = []
    for _ in range(samples):
        cmd_reader.take(N=64)
        sent = time.perf_counter()
        state_writer.write(state)
        while time.perf_counter() - sent < 0.05:
            if cmd_reader.take(N=64):
                latencies.append(time.perf_counter() - sent)
                break
        time.sleep(0.003 + np.random.default_rng(len(latencies)).uniform(0, 0.002))
    bridge.stop()
    if not latencies:
        raise RuntimeError(f"no rt/lowcmd from the bridge; its log:\n{bridge.output()[-2000:]}")
    print(f"state-to-lowcmd, {samples} samples (rt/lowstate written -> next rt/lowcmd; loop period 2 ms):")
    print(f"  {stats(latencies)}")


def kill_and_estop(trials: int, domain: int, go2_domain: int, model: Path) -> None:
    emulator = start("memaug_go2_emulator", ["--domain-id", str(go2_domain)], domain)
    bridge = start("memaug_go2_bridge", bridge_args(go2_domain, "-p", "auto_activate:=true"), domain)
    dp = participant(go2_domain, "lo")
    tap = DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_))

    def until_damping(trigger) -> float:
        """Seconds from trigger() to the first damping frame; NaN unless the bridge was stiff just before."""
        time.sleep(0.01)
        recent = [f for f in tap.take(N=256) if isinstance(f, LowCmd_)]
        if not recent or is_damping(recent[-1]):
            return float("nan")
        t0 = time.perf_counter()
        trigger()
        while time.perf_counter() - t0 < 2.0:
            if any(isinstance(f, LowCmd_) and is_damping(f) for f in tap.take(N=64)):
                return time.perf_counter() - t0
            time.sleep(0.0002)
        return float("nan")

    def until_stiff(timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            frames = [f for f in tap.take(N=64) if isinstance(f, LowCmd_)]
            if frames and not is_damping(frames[-1]):
                return True
            time.sleep(0.01)
        return False

    kills = []
    for _ in range(trials):
        policy = start(
            "memaug_policy_node",
            ["--ros-args", "-p", f"model:={model}", "-p", "autostart:=true", "-p", "stand_duration_s:=0.5"],
            domain,
        )
        if until_stiff(30.0):
            time.sleep(0.3)
            kills.append(until_damping(policy.kill))
        policy.stop()
        time.sleep(0.2)
    valid = [k for k in kills if np.isfinite(k)]
    print(
        f"policy SIGKILLed -> first damping frame on rt/lowcmd, {len(valid)} of {trials} trials valid "
        "(bridge stiff right before the kill; watchdog 50 ms after the last command):"
    )
    print(f"  {stats(valid)}" if valid else "  no valid trial")

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node("bench_estop", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    commands = node.create_publisher(JointState, "joint_commands", STREAM)
    latencies = []
    for _ in range(trials):
        # A fresh robot and bridge each trial: the last e-stop left the robot lying damped, and the
        # bridge arms only from a safe posture. Then feed commands, then e-stop.
        bridge.stop()
        emulator.stop()
        emulator = start("memaug_go2_emulator", ["--domain-id", str(go2_domain)], domain)
        bridge = start("memaug_go2_bridge", bridge_args(go2_domain, "-p", "auto_activate:=true"), domain)
        # A new latched publisher each trial: the last one's history (True) would reach the new
        # bridge and latch its e-stop before it could arm.
        estop = node.create_publisher(Bool, "estop", LATCHED)
        end = time.monotonic() + 30
        stiff = False
        while time.monotonic() < end and not stiff:
            commands.publish(JointState(name=list(GO2.joint_names), position=GO2.default_pose.tolist()))
            executor.spin_once(timeout_sec=0.02)
            frames = [f for f in tap.take(N=64) if isinstance(f, LowCmd_)]
            stiff = bool(frames) and not is_damping(frames[-1])
        if stiff:
            latencies.append(until_damping(lambda publisher=estop: publisher.publish(Bool(data=True))))
        node.destroy_publisher(estop)
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)
    bridge.stop()
    emulator.stop()
    valid = [x for x in latencies if np.isfinite(x)]
    print(f"/estop published -> first damping frame on rt/lowcmd, {len(valid)} of {trials} trials valid:")
    print(f"  {stats(valid)}" if valid else "  no valid trial")


def stop_on_sigterm() -> None:
    """SIGTERM (timeout, a CI limit) unwinds like Ctrl-C, so every started process is stopped."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--model", default=None, help="policy for the kill trials (default: the bundled one)")
    args = parser.parse_args()
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    domain = bench_domain(2)
    go2_domain = 101 + (os.getpid() % 3) * 3  # 101-109: no test uses these (tests: 111-210)
    from memaug_policy.model import resolve_model_path

    model = resolve_model_path(args.model or "go2_memaug.onnx")
    stop_on_sigterm()
    try:
        loop_jitter(args.seconds, domain, go2_domain, 0)  # the default: normal priority
        loop_jitter(args.seconds, domain, go2_domain, 80)  # the same loop under SCHED_FIFO
        state_to_lowcmd(args.samples, domain, go2_domain + 1)
        kill_and_estop(args.trials, domain, go2_domain + 2, model)
    finally:
        for process in STARTED:
            process.stop()


if __name__ == "__main__":
    main()
