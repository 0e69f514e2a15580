"""Sim bridge benchmark: lockstep real-time factor vs bare MuJoCo, realtime publish jitter.

    .venv/bin/python bench/bench_sim.py [--sim-seconds 20] [--realtime-seconds 10]

Prints figures and ratios against a baseline measured in the same run; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import JointState

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import STREAM
from memaug_common.testing import NodeProcess, bench_domain, local_dds_env
from memaug_sim.commands import JointCommand
from memaug_sim.simulator import Simulator


def bare_mujoco_rtf(sim_seconds: float) -> float:
    """Simulator core alone (PD in Python + mj_step), commanded to stand: sim s per wall s."""
    d = load_robot_description("go2")
    sim = Simulator(d, command_timeout_s=1e9)
    sim.submit_command(JointCommand(d.default_pose.copy(), np.zeros(12), np.zeros(12)))
    steps = round(sim_seconds / sim.physics_period_s)
    start = time.perf_counter()
    for _ in range(steps):
        sim.step()
    return sim_seconds / (time.perf_counter() - start)


def bridge_lockstep_rtf(sim_seconds: float, domain: int) -> float:
    log = Path(tempfile.mkdtemp()) / "sim.log"
    node = NodeProcess(
        ["memaug_sim_node", "--ros-args", "-p", "mode:=lockstep", "-p", f"duration_s:={sim_seconds}"],
        local_dds_env(domain),
        log,
    )
    node.wait(sim_seconds * 10 + 30)
    match = re.search(r"real-time factor ([0-9.]+)", node.output())
    node.stop()
    if not match:
        raise RuntimeError(f"no real-time factor in memaug_sim_node output:\n{node.output()}")
    return float(match.group(1))


def realtime_jitter(seconds: float, domain: int) -> dict[str, float]:
    """Receive /joint_states from a realtime bridge; intervals between stamps and arrivals."""
    log = Path(tempfile.mkdtemp()) / "sim.log"
    node = NodeProcess(["memaug_sim_node", "--ros-args", "-p", "mode:=realtime"], local_dds_env(domain), log)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    peer = rclpy.create_node("bench_sim", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(peer)
    stamps: list[float] = []
    arrivals: list[float] = []

    def on_state(msg: JointState) -> None:
        stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
        arrivals.append(time.perf_counter())

    peer.create_subscription(JointState, "joint_states", on_state, STREAM)
    deadline = time.monotonic() + 30
    while not stamps and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    stamps.clear()
    arrivals.clear()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)
    executor.shutdown()
    peer.destroy_node()
    rclpy.shutdown(context=context)
    node.stop()
    period = 1.0 / 500.0
    stamp_err = np.abs(np.diff(stamps) - period) * 1e3
    arrival_err = np.abs(np.diff(arrivals) - period) * 1e3
    return {
        "rate_hz": (len(stamps) - 1) / (stamps[-1] - stamps[0]),
        "publish_jitter_ms_p50": float(np.percentile(stamp_err, 50)),
        "publish_jitter_ms_p99": float(np.percentile(stamp_err, 99)),
        "publish_jitter_ms_max": float(stamp_err.max()),
        "arrival_jitter_ms_p99": float(np.percentile(arrival_err, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim-seconds", type=float, default=20.0)
    parser.add_argument("--realtime-seconds", type=float, default=10.0)
    args = parser.parse_args()
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    domain = bench_domain(0)

    bare = bare_mujoco_rtf(args.sim_seconds)
    bridge = bridge_lockstep_rtf(args.sim_seconds, domain)
    print(f"lockstep, {args.sim_seconds:.0f} s of sim time, publishing /joint_states+/imu 500 Hz, /odom 100 Hz, /clock")
    print(f"  bare simulator core (PD + mj_step, no ROS)   real-time factor {bare:7.1f}x")
    print(f"  full bridge node (memaug_sim_node)           real-time factor {bridge:7.1f}x  (target >= 10x)")
    print(f"  bridge / bare                                 {bridge / bare:.2f}")
    jitter = realtime_jitter(args.realtime_seconds, domain)
    print(f"realtime, {args.realtime_seconds:.0f} s: /joint_states at {jitter['rate_hz']:.1f} Hz (target 500)")
    print(
        "  publish-time jitter |dt - 2 ms|  p50 {publish_jitter_ms_p50:.3f} ms  p99 {publish_jitter_ms_p99:.3f} ms"
        "  max {publish_jitter_ms_max:.3f} ms  (target p99 < 1 ms)".format(**jitter)
    )
    print("  arrival jitter at a subscriber in another process  p99 {arrival_jitter_ms_p99:.3f} ms".format(**jitter))


if __name__ == "__main__":
    main()
