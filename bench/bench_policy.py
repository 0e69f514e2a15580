"""Policy benchmarks: step time vs torch eager, and state-to-command latency across processes.

    .venv/bin/python bench/bench_policy.py [--steps 5000] [--latency-ticks 500]

Prints figures and ratios against a baseline measured in the same run; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
import torch
from rclpy.executors import SingleThreadedExecutor
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import String

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM
from memaug_common.testing import NodeProcess, bench_domain, local_dds_env
from memaug_policy.actions import ActionMap
from memaug_policy.model import load_policy
from memaug_policy.observation import ObservationLayout, projected_gravity
from memaug_policy.runtime import PolicyRuntime
from memaug_train.export import build_metadata, export_onnx
from memaug_train.networks import ActorCritic, NetConfig
from memaug_train.tasks import CommandRanges

GO2 = load_robot_description("go2")


def export_gru256(folder: Path) -> tuple[Path, ActorCritic]:
    torch.manual_seed(0)
    layout = ObservationLayout.for_joints(12)
    model = ActorCritic(layout.dim, 12, NetConfig(cell="gru", hidden=256)).eval()
    path = folder / "gru256.onnx"
    export_onnx(model, path, build_metadata(GO2, layout, model, 0.25, CommandRanges(), {"method": "bench"}))
    return path, model


def percentiles(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1e3
    return f"p50 {np.percentile(ms, 50):.3f} ms  p99 {np.percentile(ms, 99):.3f} ms  max {ms.max():.3f} ms"


def step_times(path: Path, model: ActorCritic, steps: int) -> tuple[list[float], list[float]]:
    torch.set_num_threads(1)
    policy = load_policy(path, threads=1)
    runtime = PolicyRuntime(policy)
    actions = ActionMap.for_robot(GO2, 0.25)
    rng = np.random.default_rng(0)
    quat = np.array([1.0, 0.0, 0.0, 0.0])
    ours, eager = [], []
    h = model.actor_initial(1)
    for _ in range(steps):
        q, dq = rng.normal(size=12), rng.normal(size=12)
        t0 = time.perf_counter()
        raw = {
            "base_angular_velocity": dq[:3],
            "projected_gravity": projected_gravity(quat),
            "velocity_command": np.array([0.5, 0.0, 0.0]),
            "joint_position": q - GO2.default_pose,
            "joint_velocity": dq,
            "last_action": q,
        }
        obs = policy.layout.build(raw)
        actions.targets(runtime.step(obs))
        t1 = time.perf_counter()
        with torch.no_grad():
            mean, h = model.act_step(torch.from_numpy(obs).unsqueeze(0), h)
            actions.targets(mean[0].numpy())
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        eager.append(t2 - t1)
    return ours, eager


def state_to_command_latency(path: Path, ticks: int, domain: int) -> list[float]:
    """Act as a lockstep sim: publish state + /clock for tick k, time until the command returns."""
    log = Path(tempfile.mkdtemp()) / "policy.log"
    node = NodeProcess(
        [
            "memaug_policy_node",
            "--ros-args",
            "-p",
            "use_sim_time:=true",
            "-p",
            f"model:={path}",
            "-p",
            "autostart:=true",
            "-p",
            "stand_duration_s:=0.0",
            "-p",
            "stand_hold_s:=0.0",
            "-p",
            "publish_debug:=false",
        ],
        local_dds_env(domain),
        log,
    )
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    peer = rclpy.create_node("bench_policy", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(peer)
    pub_state = peer.create_publisher(JointState, "joint_states", STREAM)
    pub_imu = peer.create_publisher(Imu, "imu/data", STREAM)
    pub_clock = peer.create_publisher(Clock, "clock", STREAM)
    commands: list[float] = []
    modes: list[str] = []
    peer.create_subscription(JointState, "joint_commands", lambda _m: commands.append(time.perf_counter()), STREAM)
    peer.create_subscription(String, "policy/mode", lambda m: modes.append(m.data), LATCHED)
    state = JointState(name=list(GO2.joint_names), position=GO2.default_pose.tolist(), velocity=[0.0] * 12)
    imu = Imu()
    imu.orientation.w = 1.0
    period_ns = int(GO2.control_period_s * 1e9)
    latencies: list[float] = []
    t_ns = 0

    def publish_tick() -> float:
        nonlocal t_ns
        t_ns += period_ns
        stamp = Clock()
        stamp.clock.sec, stamp.clock.nanosec = divmod(t_ns, 1_000_000_000)
        state.header.stamp = stamp.clock
        imu.header.stamp = stamp.clock
        sent = time.perf_counter()
        pub_state.publish(state)
        pub_imu.publish(imu)
        pub_clock.publish(stamp)
        return sent

    try:
        deadline = time.monotonic() + 60
        while (not modes or modes[-1] != "run") and time.monotonic() < deadline:
            publish_tick()
            end = time.monotonic() + 0.02
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.005)
        if not modes or modes[-1] != "run":
            raise TimeoutError(f"policy node never reached run mode; log:\n{node.output()[-2000:]}")
        for _ in range(ticks):
            seen = len(commands)
            sent = publish_tick()
            wait_end = time.monotonic() + 1.0
            while len(commands) == seen and time.monotonic() < wait_end:
                executor.spin_once(timeout_sec=0.001)
            if len(commands) > seen:
                latencies.append(commands[-1] - sent)
    finally:
        executor.shutdown()
        peer.destroy_node()
        rclpy.shutdown(context=context)
        node.stop()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--latency-ticks", type=int, default=500)
    args = parser.parse_args()
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    folder = Path(tempfile.mkdtemp())
    path, model = export_gru256(folder)
    ours, eager = step_times(path, model, args.steps)
    print(f"policy step, GRU-256, one thread, {args.steps} steps (obs build + inference + action map):")
    print(f"  ONNX Runtime (memaug_policy)  {percentiles(ours)}  (target p99 <= 0.2 ms)")
    print(f"  torch eager, same network     {percentiles(eager)}")
    print(f"  p50 ratio ONNX / torch         {np.median(ours) / np.median(eager):.2f}")
    latencies = state_to_command_latency(path, args.latency_ticks, bench_domain(1))
    print(f"state-to-command latency across processes, {len(latencies)} ticks (lockstep, sim time):")
    print(f"  /joint_states+/clock out -> /joint_commands in  {percentiles(latencies)}  (target p99 <= 2 ms)")


if __name__ == "__main__":
    main()
