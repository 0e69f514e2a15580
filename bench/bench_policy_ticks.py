"""Policy tick jitter and deadline misses at 50 Hz with the sim in realtime mode.

    .venv/bin/python bench/bench_policy_ticks.py [--seconds 300]

Runs `memaug sim --mode realtime` (sim bridge + policy + recorder, separate processes) and
reads the figures back from the bag: the policy node's own tick statistics from its last
/diagnostics, and, as the baseline measured in the same run, the jitter of the sim bridge's
500 Hz /joint_states stamps. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from memaug_common.testing import bench_domain, local_dds_env, resolve_executable


def state_stamp_jitter_ms(bag: Path) -> np.ndarray:
    stamps = []
    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_JAZZY)) as reader:
        connections = [c for c in reader.connections if c.topic == "/joint_states"]
        for connection, _, raw in reader.messages(connections=connections):
            msg = reader.deserialize(raw, connection.msgtype)
            stamps.append(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
    return np.abs(np.diff(stamps) - 0.002) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--model", default="go2_memaug.onnx")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ticks-"))
    bag = folder / "bag"
    env = local_dds_env(bench_domain(4))
    run = subprocess.run(
        [
            resolve_executable("memaug"),
            "sim",
            "--mode",
            "realtime",
            "--duration",
            str(args.seconds),
            "--model",
            args.model,
            "--record",
            str(bag),
            "--log-dir",
            str(folder / "logs"),
            "--cmd-vel",
            "0.3",
            "0",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        sys.exit(f"memaug sim failed:\n{run.stderr[-3000:]}")
    from memaug_bringup.bag_reader import read_run

    policy = read_run(bag).policy_status
    sim_jitter = state_stamp_jitter_ms(bag)
    print(f"realtime sim-in-the-loop, {args.seconds:.0f} s, policy at 50 Hz (wall clock):")
    print(f"  policy ticks {policy.get('ticks')}, deadline misses {policy.get('deadline_misses')} (target 0)")
    print(
        f"  policy tick jitter p99 {float(policy.get('tick_jitter_ms_p99', 'nan')):.3f} ms "
        f"(|interval - 20 ms|, last 500 ticks)"
    )
    print(
        f"  policy step p50 {float(policy.get('policy_step_ms_p50', 'nan')):.3f} ms, "
        f"p99 {float(policy.get('policy_step_ms_p99', 'nan')):.3f} ms"
    )
    print(
        f"  baseline, sim /joint_states stamp jitter |dt - 2 ms|: p50 {np.percentile(sim_jitter, 50):.3f} ms, "
        f"p99 {np.percentile(sim_jitter, 99):.3f} ms, max {sim_jitter.max():.3f} ms"
    )


if __name__ == "__main__":
    main()
