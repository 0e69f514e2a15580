"""End to end: the `memaug` command runs the stack as processes, records, summarises, reports."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from pathlib import Path

import numpy as np
import yaml
from mcap_ros2.reader import read_ros2_messages

from memaug_bringup.bag_reader import read_run
from memaug_common.description import load_robot_description
from memaug_sim.urdf import urdf_from_description

SUMMARY_KEYS = {
    "distance_m",
    "mean_speed_mps",
    "velocity_tracking_error_mps",
    "velocity_tracking_error_1s_mps",
    "mean_lateral_speed_mps",
    "mean_yaw_rate_radps",
    "mean_speed_after_first_fault_mps",
    "falls",
    "faults",
    "policy_step_ms_p50",
    "policy_step_ms_p99",
    "deadline_misses",
    "messages",
    "bag",
}


def processes_with_marker(marker: str) -> list[int]:
    """PIDs of live processes whose environment carries ``marker`` (children of a run)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


SIM_RUN_S = 8.0  # long enough that a slow start (wall-clock pace until the first command) leaves a run


def test_sim_run_records_every_message_and_reports(start_node, tmp_path: Path, gru_policy: Path) -> None:
    bag, logs, summary_path = tmp_path / "bag", tmp_path / "logs", tmp_path / "summary.json"
    run = start_node(
        "memaug",
        "sim",
        "--duration",
        str(SIM_RUN_S),
        "--model",
        str(gru_policy),
        "--scenario",
        "right_front_knee_limp",
        "--record",
        str(bag),
        "--summary-json",
        str(summary_path),
        "--log-dir",
        str(logs),
    )
    assert run.wait(300) == 0, run.output()
    summary = json.loads(summary_path.read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["bag"] == str(bag)
    # Every message the sim says it published is in the bag, counted by an independent reader.
    sim_log = (logs / "memaug_sim.log").read_text()
    published = int(re.search(r"joint_states published (\d+)", sim_log).group(1))
    accepted = int(re.search(r"commands accepted (\d+)", sim_log).group(1))
    data = read_run(bag)
    assert published == SIM_RUN_S * 500  # 500 Hz
    assert data.counts["/joint_states"] == published
    assert data.counts["/imu/data"] == published
    # Every command the sim accepted is in the bag; the policy's answers to the sim's last states
    # may be recorded too, though the run ended before the sim could take them (a race at
    # shutdown: 300 recorded of 299 accepted in CI once, 298 of 295 on a machine also training).
    assert accepted > 0
    assert accepted <= data.counts["/joint_commands"] <= accepted + 5
    assert summary["messages"]["/joint_states"] == published
    assert [m for _, m in data.modes][:3] == ["idle", "stand", "run"]
    # The policy acts on every 20 ms tick from the moment it runs. When that is depends on the
    # machine: the sim keeps wall-clock pace until the first command (66 actions of a 6 s run on a
    # loaded CI machine once), so the count is checked against the run's own start.
    run_start_s = next(t for t, m in data.modes if m == "run")
    ticks_in_run = (SIM_RUN_S - run_start_s) / 0.02
    assert ticks_in_run > 50, f"the policy ran only from {run_start_s:.2f} s of {SIM_RUN_S:g} s"
    # The command each policy step used, whatever the observation layout: memaug sim's default.
    assert data.counts["/policy/command"] == data.counts["/policy/action"]
    # A tick whose state came late sends nothing (a gate timeout on an overloaded machine): 5 % slack.
    assert 0.95 * ticks_in_run - 3 <= data.counts["/policy/action"] <= ticks_in_run + 3, (run_start_s, data.counts)
    assert np.array_equal(data.command, np.tile([0.5, 0.0, 0.0], (len(data.command), 1)))
    assert (bag / "metadata.yaml").is_file()
    # The official ROS 2 decoder reads every message; a lockstep bag has one clock: log times
    # are sim time (the /clock the recorder last received), like the header stamps, not the
    # wall clock. A recorder that falls behind in a burst logs a state late, by less than a second.
    decoded = list(read_ros2_messages(str(bag / "bag_0.mcap")))
    assert len(decoded) == sum(data.counts.values())
    lags = [
        m.log_time_ns - (m.ros_msg.header.stamp.sec * 10**9 + m.ros_msg.header.stamp.nanosec)
        for m in decoded
        if m.channel.topic == "/joint_states"
    ]
    assert min(m.log_time_ns for m in decoded) < 10 * 10**9  # sim seconds, not 1.7e9 s of wall clock
    assert max(abs(lag) for lag in lags) < 10**9, max(lags)
    # The robot in TF: every URDF link is a frame of /tf or /tf_static, and odom -> base is /odom's pose.
    tf_topics = ("/tf", "/tf_static")
    children = {t.child_frame_id for m in decoded if m.channel.topic in tf_topics for t in m.ros_msg.transforms}
    links = set(re.findall(r'<link name="([^"]+)"', urdf_from_description(load_robot_description("go2"))))
    assert children == links  # the base too: odom -> base
    odom = {
        (m.ros_msg.header.stamp.sec, m.ros_msg.header.stamp.nanosec): m.ros_msg.pose.pose.position.x
        for m in decoded
        if m.channel.topic == "/odom"
    }
    bases = [t for m in decoded if m.channel.topic == "/tf" for t in m.ros_msg.transforms if t.child_frame_id == "base"]
    assert len(bases) > 60 and all(t.header.frame_id == "odom" for t in bases)
    assert all(t.transform.translation.x == odom[(t.header.stamp.sec, t.header.stamp.nanosec)] for t in bases)
    # Publishers' real QoS: the policy's latched mode replays latched.
    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    qos = {
        t["topic_metadata"]["name"]: t["topic_metadata"]["offered_qos_profiles"]
        for t in info["topics_with_message_count"]
    }
    assert qos["/policy/mode"][0]["durability"] == "transient_local"
    assert qos["/joint_states"][0]["durability"] == "volatile"

    report = start_node("memaug", "report", str(bag))
    assert report.wait(120) == 0, report.output()
    for name in ("index.html", "velocity.png", "base.png", "joints.png", "memory_pca.png"):
        assert (bag / "report" / name).stat().st_size > 1000, name


def test_a_failing_node_fails_the_run_by_name_and_leaves_no_process(start_node, tmp_path: Path) -> None:
    marker = f"MEMAUG_TEST_{uuid.uuid4().hex}"
    os.environ[marker] = "1"
    try:
        run = start_node(
            "memaug",
            "sim",
            "--duration",
            "5",
            "--model",
            "/nonexistent/policy.onnx",
            "--record",
            str(tmp_path / "bag"),
            "--log-dir",
            str(tmp_path / "logs"),
        )
        assert run.wait(120) == 1
    finally:
        del os.environ[marker]
    assert "node memaug_policy (memaug_policy_node) exited with status 2" in run.output()
    assert "policy model not found" in run.output()
    assert processes_with_marker(marker) == []


def test_ctrl_c_stops_every_node_and_closes_the_bag(start_node, tmp_path: Path, gru_policy: Path) -> None:
    marker = f"MEMAUG_TEST_{uuid.uuid4().hex}"
    os.environ[marker] = "1"
    try:
        run = start_node(
            "memaug",
            "sim",
            "--duration",
            "600",
            "--model",
            str(gru_policy),
            "--record",
            str(tmp_path / "bag"),
            "--log-dir",
            str(tmp_path / "logs"),
            "--mode",
            "realtime",
        )
        mcap = tmp_path / "bag" / "bag_0.mcap"
        deadline = time.monotonic() + 90
        while not (mcap.exists() and mcap.stat().st_size > 200_000) and time.monotonic() < deadline:
            time.sleep(0.1)  # until the recorder has flushed chunks of a running stack
        os.kill(run.pid, signal.SIGINT)
        assert run.wait(60) == 0, run.output()
    finally:
        del os.environ[marker]
    assert "interrupted; all nodes stopped" in run.output()
    assert (tmp_path / "bag" / "metadata.yaml").is_file()
    assert read_run(tmp_path / "bag").counts["/joint_states"] > 100
    assert processes_with_marker(marker) == []


def test_the_shipped_policy_walks_60_s_on_the_emulator_without_a_bridge_fault(start_node, tmp_path: Path) -> None:
    """The robot path's acceptance: the bundled policy through the Go2 bridge and its protection
    (velocity with margin and persistence, tilt, CRC) on the emulator for a minute."""
    bag, summary_path = tmp_path / "bag", tmp_path / "summary.json"
    run = start_node(
        "memaug",
        "robot",
        "--emulator",
        "--duration",
        "60",
        "--record",
        str(bag),
        "--summary-json",
        str(summary_path),
        "--log-dir",
        str(tmp_path / "logs"),
    )
    assert run.wait(400) == 0, run.output()[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["bridge_faults"] == [], summary["bridge_faults"]
    assert summary["falls"] == 0, summary
    assert summary["distance_m"] > 20.0 and abs(summary["mean_speed_mps"] - 0.5) < 0.15, summary
