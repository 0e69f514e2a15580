"""Read a recorded bag into arrays with the independent ``rosbags`` reader (not our writer).

Times are the robot's clock (sim time in lockstep) in seconds from the first state: read
from the stamps of /joint_states and /odom, and for stamp-less topics (policy arrays, modes,
diagnostics) mapped from their receive time through the states' receive-to-stamp relation.
Arrays have a leading sample axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore


@dataclass
class RunData:
    bag: Path
    counts: dict[str, int]
    odom_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    odom_position: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    odom_quat_wxyz: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    odom_velocity: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # base frame
    odom_yaw_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    joint_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    joint_position: np.ndarray = field(default_factory=lambda: np.zeros((0, 12)))
    joint_effort: np.ndarray = field(default_factory=lambda: np.zeros((0, 12)))
    joint_names: list[str] = field(default_factory=list)
    obs_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    observation: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    memory_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    memory: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: The velocity command (vx m/s, vy m/s, yaw rate rad/s) each policy step used, [samples, 3]
    #: (/policy/command; empty in bags older than it).
    command_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    command: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    modes: list[tuple[float, str]] = field(default_factory=list)
    faults: list[dict[str, str | float]] = field(default_factory=list)
    bridge_faults: list[tuple[float, str]] = field(default_factory=list)  # (t, reason) from /bridge/state
    #: (t, reason) each time the policy node went to damp with a new reason (its /diagnostics):
    #: tilt, a bridge fault, stale state, the remote, ~/stop.
    policy_stops: list[tuple[float, str]] = field(default_factory=list)
    policy_status: dict[str, str] = field(default_factory=dict)
    bridge_status: dict[str, str] = field(default_factory=dict)


def read_run(bag: Path) -> RunData:
    bag = Path(bag)
    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_JAZZY)) as reader:
        data = RunData(bag=bag, counts={c.topic: c.msgcount for c in reader.connections})
        t0 = reader.start_time
        rows: dict[str, list] = {k: [] for k in ("odom", "joints", "obs", "memory", "command")}
        for connection, timestamp, raw in reader.messages():
            t = (timestamp - t0) * 1e-9
            msg: Any = reader.deserialize(raw, connection.msgtype)  # rosbags message dataclass
            topic = connection.topic
            if topic == "/joint_states" or topic == "/odom":
                stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
                rows.setdefault("clock", []).append((t, stamp))
            if topic == "/odom":
                p, q = msg.pose.pose.position, msg.pose.pose.orientation
                v, w = msg.twist.twist.linear, msg.twist.twist.angular
                rows["odom"].append((t, p.x, p.y, p.z, q.w, q.x, q.y, q.z, v.x, v.y, v.z, w.z))
            elif topic == "/joint_states":
                data.joint_names = list(msg.name)
                rows["joints"].append((t, np.asarray(msg.position), np.asarray(msg.effort)))
            elif topic == "/policy/observation":
                rows["obs"].append((t, np.asarray(msg.data)))
            elif topic == "/policy/memory":
                rows["memory"].append((t, np.asarray(msg.data)))
            elif topic == "/policy/command":
                rows["command"].append((t, msg.linear.x, msg.linear.y, msg.angular.z))
            elif topic == "/policy/mode":
                data.modes.append((t, msg.data))
            elif topic == "/bridge/state" and msg.data.startswith("fault"):
                data.bridge_faults.append((t, msg.data.removeprefix("fault:").strip()))
            elif topic == "/diagnostics":
                for status in msg.status:
                    values = {kv.key: kv.value for kv in status.values}
                    if status.name == "memaug_sim: fault":
                        data.faults.append(
                            {
                                "joint": values.get("joint", ""),
                                "kind": values.get("kind", ""),
                                "sim_time_s": float(values.get("sim_time_s", "nan")),
                                "t": t,
                            }
                        )
                    elif status.name == "memaug_policy: control":
                        _note_policy_stop(data, t, values)
                        data.policy_status = values
                    elif status.name in ("memaug_sim: bridge", "memaug_go2_bridge: bridge"):
                        data.bridge_status = values
    _to_robot_time(data, rows)
    if rows["odom"]:
        odom = np.array(rows["odom"])
        data.odom_t, data.odom_position, data.odom_quat_wxyz = odom[:, 0], odom[:, 1:4], odom[:, 4:8]
        data.odom_velocity, data.odom_yaw_rate = odom[:, 8:11], odom[:, 11]
    if rows["joints"]:
        data.joint_t = np.array([r[0] for r in rows["joints"]])
        data.joint_position = np.stack([r[1] for r in rows["joints"]])
        data.joint_effort = np.stack([r[2] for r in rows["joints"]])
    if rows["obs"]:
        data.obs_t = np.array([r[0] for r in rows["obs"]])
        data.observation = np.stack([r[1] for r in rows["obs"]])
    if rows["command"]:
        command = np.array(rows["command"])
        data.command_t, data.command = command[:, 0], command[:, 1:4]
    if rows["memory"]:
        data.memory_t = np.array([r[0] for r in rows["memory"]])
        data.memory = np.stack([r[1] for r in rows["memory"]])
    return data


def _note_policy_stop(data: RunData, t: float, values: dict[str, str]) -> None:
    """Keep a policy diagnostics sample that shows it going to damp, or damp for a new reason."""
    previous = data.policy_status
    if values.get("mode") == "damp" and (
        previous.get("mode") != "damp" or previous.get("reason") != values.get("reason")
    ):
        data.policy_stops.append((t, values.get("reason", "")))


def _to_robot_time(data: RunData, rows: dict[str, list]) -> None:
    """Rewrite every receive time in ``rows`` and ``data`` as robot time from the first stamp."""
    clock = np.array(sorted(rows.get("clock", [])))
    if not len(clock):
        return
    receive, stamp = clock[:, 0], clock[:, 1]
    stamp0 = stamp.min()

    def robot(t: float) -> float:
        return float(np.interp(t, receive, stamp) - stamp0)

    for key in ("odom", "joints", "obs", "memory", "command"):
        rows[key] = [(robot(r[0]), *r[1:]) for r in rows[key]]
    data.modes = [(robot(t), m) for t, m in data.modes]
    data.bridge_faults = [(robot(t), r) for t, r in data.bridge_faults]
    data.policy_stops = [(robot(t), r) for t, r in data.policy_stops]
    for fault in data.faults:
        sim_time = float(fault["sim_time_s"])
        fault["t"] = sim_time if np.isfinite(sim_time) else robot(float(fault["t"]))
