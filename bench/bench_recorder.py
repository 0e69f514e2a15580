"""Recorder throughput: messages recorded vs published at rising /joint_states rates, and its CPU cost.

    .venv/bin/python bench/bench_recorder.py [--seconds 10] [--rates 500 1000 2000]
    .venv/bin/python bench/bench_recorder.py --seconds 600 --rates 500 --no-baseline   # the 10-minute no-drop check

For each rate (500 Hz, 1 kHz, 2 kHz), this process publishes /joint_states at that rate
plus /policy/* at 50 Hz, first with no recorder (baseline CPU of the publisher), then with
memaug_recorder running; it reports the drop count (published - recorded, counted from the
bag with rosbags) and the recorder's CPU time per second. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import JointState
from std_msgs.msg import Float32MultiArray

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import STREAM
from memaug_common.testing import NodeProcess, bench_domain, local_dds_env
from memaug_policy.model import load_policy, resolve_model_path
from memaug_policy.params import DEFAULT_MODEL
from memaug_policy.runtime import PolicyRuntime

GO2 = load_robot_description("go2")
#: What the policy node publishes on /policy/memory per tick with the shipped model.
SHIPPED_MEMORY_SIZE = PolicyRuntime(load_policy(resolve_model_path(DEFAULT_MODEL))).memory.size


def bag_counts(bag: Path) -> dict[str, int]:
    """Messages per topic, from the bag's own index, read by rosbags (no deserialization)."""
    from rosbags.highlevel import AnyReader

    with AnyReader([bag]) as reader:
        return {c.topic: c.msgcount for c in reader.connections}


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publish(node, rate_hz: float, seconds: float) -> tuple[int, int]:
    states = node.create_publisher(JointState, "joint_states", STREAM)
    memory = node.create_publisher(Float32MultiArray, "policy/memory", STREAM)
    msg = JointState(name=list(GO2.joint_names), position=[0.0] * 12, velocity=[0.0] * 12, effort=[0.0] * 12)
    hidden = Float32MultiArray(data=[0.0] * SHIPPED_MEMORY_SIZE)
    sent_states = sent_memory = 0
    period = 1.0 / rate_hz
    start = time.perf_counter()
    next_t = start
    while time.perf_counter() - start < seconds:
        states.publish(msg)
        sent_states += 1
        if sent_states % max(1, round(rate_hz / 50)) == 0:
            memory.publish(hidden)
            sent_memory += 1
        next_t += period
        delay = next_t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    node.destroy_publisher(states)
    node.destroy_publisher(memory)
    return sent_states, sent_memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[500.0, 1000.0, 2000.0], help="/joint_states Hz")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without a recorder")
    args = parser.parse_args()
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    domain = bench_domain(3)
    folder = Path(tempfile.mkdtemp(prefix="bench-rec-"))
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node("bench_recorder", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    print(
        f"{'rate':>8} {'published':>10} {'recorded':>9} {'dropped':>8} {'recorder CPU':>13} "
        f"{'publisher CPU no rec':>21} {'with rec':>9}"
    )
    for rate in args.rates:
        baseline_cpu = float("nan")
        if not args.no_baseline:
            usage0 = resource.getrusage(resource.RUSAGE_SELF)
            publish(node, rate, args.seconds)
            usage1 = resource.getrusage(resource.RUSAGE_SELF)
            baseline_cpu = (usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime) / args.seconds
        bag = folder / f"bag_{int(rate)}"
        recorder = NodeProcess(
            ["memaug_recorder", "--ros-args", "-p", f"output:={bag}", "-p", "topics:=[/joint_states,/policy/memory]"],
            local_dds_env(domain),
            folder / f"recorder_{int(rate)}.log",
        )
        states = node.create_publisher(JointState, "joint_states", STREAM)
        deadline = time.monotonic() + 20
        while states.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        node.destroy_publisher(states)
        time.sleep(0.5)
        cpu0 = process_cpu_s(recorder.pid)
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        sent_states, sent_memory = publish(node, rate, args.seconds)
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(1.0)  # let the recorder drain its queue
        recorder_cpu = (process_cpu_s(recorder.pid) - cpu0) / args.seconds
        recorder.stop()
        counts = bag_counts(bag)
        recorded = counts.get("/joint_states", 0) + counts.get("/policy/memory", 0)
        published = sent_states + sent_memory
        with_rec_cpu = (usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime) / args.seconds
        print(
            f"{rate:>7.0f}Hz {published:>10d} {recorded:>9d} {published - recorded:>8d} "
            f"{recorder_cpu * 100:>11.1f} % {baseline_cpu * 100:>19.1f} % {with_rec_cpu * 100:>7.1f} %"
        )
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)


if __name__ == "__main__":
    main()
