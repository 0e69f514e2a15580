"""The end-of-run summary, computed from the bag alone."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from memaug_bringup.bag_reader import RunData
from memaug_common.falls import fallen
from memaug_policy.observation import DEFAULT_TERMS, ObservationLayout, projected_gravity


def run_start(data: RunData) -> float:
    """Bag time at which the policy entered run mode (inf if it never did)."""
    return next((t for t, mode in data.modes if mode == "run"), math.inf)


def commanded_velocity(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """When and what velocity command the policy used: times [samples] s and (vx, vy, yaw_rate)
    [samples, 3], from /policy/command. A bag older than that topic gives it back from
    /policy/observation when the observation has memaug's own 45-value layout; otherwise none."""
    if len(data.command_t):
        return data.command_t, data.command
    layout = ObservationLayout.for_joints(12, DEFAULT_TERMS)
    if data.observation.shape[1] != layout.dim:
        return np.zeros(0), np.zeros((0, 3))
    sl = layout.slices()["velocity_command"]
    return data.obs_t, data.observation[:, sl] / layout.scale[sl]


def falls(data: RunData) -> int:
    """Number of times the robot went down (memaug_common.falls) after the run began."""
    if not len(data.odom_t):
        return 0
    down = fallen(data.odom_position[:, 2], projected_gravity(data.odom_quat_wxyz))
    after_start = data.odom_t >= run_start(data)
    down &= after_start
    return int(np.sum(down[1:] & ~down[:-1]) + (1 if len(down) and down[0] else 0))


#: Window of the averaged tracking error, s: about three trot cycles, so the error measures
#: how well the gait follows the command rather than the velocity ripple within each step.
TRACKING_WINDOW_S = 1.0


def windowed_tracking_error(t: np.ndarray, command: np.ndarray, velocity: np.ndarray, window_s: float) -> float:
    """Mean over consecutive ``window_s`` windows of |mean command_xy - mean velocity_xy|, m/s.

    t [samples] s, command and velocity [samples, >=2] (base frame). NaN when no window is full.
    """
    if len(t) < 2:
        return float("nan")
    bins = np.floor((t - t[0]) / window_s).astype(int)
    errors = []
    for b in range(int(bins.max())):  # the last, partial window is left out
        inside = bins == b
        if inside.any():
            errors.append(np.linalg.norm(command[inside, :2].mean(0) - velocity[inside, :2].mean(0)))
    return float(np.mean(errors)) if errors else float("nan")


#: Safety counters of the bridges' diagnostics (Go2: watchdog_damping ticks, bad_crc frames,
#: loop ticks and late_ticks; sim: watchdog_trips) that the summary reports.
BRIDGE_COUNTERS = ("watchdog_damping", "watchdog_trips", "bad_crc", "ticks", "late_ticks")


def summarize(data: RunData) -> dict[str, Any]:
    start = run_start(data)
    running = data.odom_t >= start
    velocity = data.odom_velocity[running]
    command_t, command = commanded_velocity(data)
    if len(command) and running.any():
        # Command at each odom sample: the latest policy step's command.
        index = np.clip(np.searchsorted(command_t, data.odom_t[running], side="right") - 1, 0, len(command) - 1)
        cmd = command[index]
        tracking = float(np.mean(np.linalg.norm(cmd[:, :2] - velocity[:, :2], axis=1)))
        tracking_window = windowed_tracking_error(data.odom_t[running], cmd, velocity, TRACKING_WINDOW_S)
        mean_cmd, mean_cmd_vy, mean_cmd_yaw = (float(v) for v in np.mean(cmd, axis=0))
    else:
        tracking = tracking_window = mean_cmd = mean_cmd_vy = mean_cmd_yaw = float("nan")
        if len(command) and (command_t >= start).any():  # no /odom: the command alone, per policy step
            mean_cmd, mean_cmd_vy, mean_cmd_yaw = (float(v) for v in np.mean(command[command_t >= start], axis=0))
    first_fault = min((float(f["t"]) for f in data.faults), default=math.inf)
    after_fault = running & (data.odom_t >= first_fault)
    path = data.odom_position[running, :2]
    distance = float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1))) if len(path) > 1 else 0.0
    # Only a simulator (memaug sim, the emulator) publishes the base's true pose on /odom. On a
    # robot or Unitree's simulator nothing measures the distance or a fall: they are unknown
    # (None), never a 0 that reads as "stood still, never fell".
    odometry = bool(len(data.odom_t))
    policy = data.policy_status
    return {
        "odometry": odometry,
        "distance_m": distance if odometry else None,
        "mean_speed_mps": float(np.mean(velocity[:, 0])) if len(velocity) else float("nan"),
        "mean_commanded_speed_mps": mean_cmd,
        "mean_lateral_speed_mps": float(np.mean(velocity[:, 1])) if len(velocity) else float("nan"),
        "mean_commanded_lateral_speed_mps": mean_cmd_vy,
        "mean_yaw_rate_radps": float(np.mean(data.odom_yaw_rate[running])) if running.any() else float("nan"),
        "mean_commanded_yaw_rate_radps": mean_cmd_yaw,
        "velocity_tracking_error_mps": tracking,
        "velocity_tracking_error_1s_mps": tracking_window,
        "mean_speed_after_first_fault_mps": (
            float(np.mean(data.odom_velocity[after_fault, 0])) if after_fault.any() else float("nan")
        ),
        "falls": falls(data) if odometry else None,
        "faults": [{"joint": f["joint"], "kind": f["kind"], "sim_time_s": f["sim_time_s"]} for f in data.faults],
        # A stale-lowstate fault once the robot's data has ended is the end of the run (the
        # emulator finished, the robot was switched off): listed apart, still shown.
        "bridge_faults": [{"t": t, "reason": r} for t, r in data.bridge_faults if not _after_data(data, t, r)],
        "bridge_faults_after_data_ended": [
            {"t": t, "reason": r} for t, r in data.bridge_faults if _after_data(data, t, r)
        ],
        # The policy's damps. Its answer to an end-of-data bridge fault goes with that fault;
        # its own stale-state stop once the states ended is listed apart, as the bridge's is.
        "policy_stops": [
            {"t": t, "reason": r}
            for t, r in data.policy_stops
            if not _after_data(data, t, r.removeprefix(BRIDGE_FAULT_ECHO))
        ],
        "policy_stops_after_data_ended": [
            {"t": t, "reason": r} for t, r in data.policy_stops if _after_data(data, t, r)
        ],
        # The bridge's last safety counters: its watchdog (damping for want of a fresh command:
        # the policy stopped or died), lowstate frames dropped for a bad CRC, late loop ticks.
        "bridge_counters": {k: int(data.bridge_status[k]) for k in BRIDGE_COUNTERS if k in data.bridge_status},
        "policy_step_ms_p50": float(policy.get("policy_step_ms_p50", "nan")),
        "policy_step_ms_p99": float(policy.get("policy_step_ms_p99", "nan")),
        "deadline_misses": int(policy.get("deadline_misses", "0")),
        "messages": dict(data.counts),
        "bag": str(data.bag),
        # The Go2 bridge's own account (absent for the sim bridge): how often it armed (0: a
        # disarmed run, which walked nowhere), what its configure checked, who could reach the graph.
        "bridge_arms": int(data.bridge_status["arms"]) if "arms" in data.bridge_status else None,
        "bridge_configure": data.bridge_status.get("configure", ""),
        "ros_graph": data.bridge_status.get("ros_graph", ""),
    }


#: How the policy names its answer to a bridge fault (memaug_policy.node: "bridge " + bridge/state).
BRIDGE_FAULT_ECHO = "bridge fault: "
#: And to the bridge being disarmed (lifecycle deactivate, shutdown): the operator's act, not a fault.
BRIDGE_DISARM_ECHO = "bridge disarmed: "


def run_faults(summary: dict[str, Any]) -> list[str]:
    """What went wrong during the run, one line each: the bridge's faults, then the policy's
    stops that are not its answer to one of them or to the bridge being disarmed. Empty for a
    healthy run. A fall is not listed: under a fault scenario it can be the experiment's result
    (the summary counts falls)."""
    lines = [f"the bridge faulted at {f['t']:.2f} s: {f['reason']}" for f in summary["bridge_faults"]]
    lines += [
        f"the policy stopped at {s['t']:.2f} s: {s['reason']}"
        for s in summary["policy_stops"]
        if not s["reason"].startswith((BRIDGE_FAULT_ECHO, BRIDGE_DISARM_ECHO))
    ]
    return lines


#: How a stale-state stop begins: the bridge's (rt/lowstate) and the policy node's (its topics).
STALE_STATE_REASONS = ("stale lowstate", "stale /joint_states", "stale /imu/data")


def _after_data(data: RunData, t: float, reason: str) -> bool:
    """A stale-state stop at the end of the robot's data: the robot, emulator or sim stopped.
    Not one that names bad CRCs: frames kept coming, and failed the check. A stop while the
    states went on (the policy starved of CPU, say) is a fault."""
    last_state = float(data.joint_t[-1]) if len(data.joint_t) else -math.inf
    return reason.startswith(STALE_STATE_REASONS) and "bad CRC" not in reason and t >= last_state - 0.01


def format_disarmed(summary: dict[str, Any]) -> str:
    """A disarmed run: what the bridge checked and that it stayed damped; no walking figures."""
    lines = [
        "disarmed run           the bridge never armed: damping only, the policy never moved the robot",
        f"bridge configure       {summary['bridge_configure'] or 'no report (the bridge published no diagnostics)'}",
        "bridge faults          "
        + (", ".join(f"{f['reason']} at {f['t']:.2f} s" for f in summary["bridge_faults"]) or "none"),
        "bridge counters        " + (", ".join(f"{k} {v}" for k, v in summary["bridge_counters"].items()) or "none"),
        f"ROS graph              {summary['ros_graph']}",
        "messages recorded      " + ", ".join(f"{t} {c}" for t, c in summary["messages"].items() if c),
        f"bag                    {summary['bag']}",
    ]
    return "\n".join(lines)


def _walking_lines(summary: dict[str, Any]) -> list[str]:
    """What the robot did, from the simulator's ground-truth /odom, against what was commanded."""
    return [
        f"distance walked        {summary['distance_m']:.2f} m",
        f"mean speed             {summary['mean_speed_mps']:.3f} m/s "
        f"(commanded {summary['mean_commanded_speed_mps']:.3f})",
        f"lateral, yaw rate      {summary['mean_lateral_speed_mps']:.3f} m/s "
        f"(commanded {summary['mean_commanded_lateral_speed_mps']:.3f}), "
        f"{summary['mean_yaw_rate_radps']:.3f} rad/s (commanded {summary['mean_commanded_yaw_rate_radps']:.3f})",
        f"velocity tracking err  {summary['velocity_tracking_error_mps']:.3f} m/s instantaneous, "
        f"{summary['velocity_tracking_error_1s_mps']:.3f} m/s over {TRACKING_WINDOW_S:.0f} s windows",
        f"speed after 1st fault  {summary['mean_speed_after_first_fault_mps']:.3f} m/s",
        f"falls                  {summary['falls']}",
    ]


def _commanded_lines(summary: dict[str, Any]) -> list[str]:
    """A run without /odom (a robot, Unitree's simulator): what was commanded, and that the
    distance, speeds and falls were not measured."""
    return [
        "walking figures        not measured: no /odom (only memaug sim and the emulator publish the base's true pose)",
        f"commanded              {summary['mean_commanded_speed_mps']:.3f} m/s forward, "
        f"{summary['mean_commanded_lateral_speed_mps']:.3f} m/s lateral, "
        f"{summary['mean_commanded_yaw_rate_radps']:.3f} rad/s yaw (mean)",
    ]


def format_summary(summary: dict[str, Any]) -> str:
    if summary.get("bridge_arms") == 0:
        return format_disarmed(summary)
    faults = ", ".join(f"{f['kind']} {f['joint']} at {f['sim_time_s']:.2f} s" for f in summary["faults"]) or "none"
    lines = [
        *(_walking_lines(summary) if summary.get("odometry", True) else _commanded_lines(summary)),
        f"faults                 {faults}",
        "bridge faults          "
        + (", ".join(f"{f['reason']} at {f['t']:.2f} s" for f in summary["bridge_faults"]) or "none")
        + "".join(
            f"; after the robot's data ended: {f['reason']} at {f['t']:.2f} s"
            for f in summary["bridge_faults_after_data_ended"]
        ),
        "policy stops           "
        + (", ".join(f"{f['reason']} at {f['t']:.2f} s" for f in summary["policy_stops"]) or "none")
        + "".join(
            f"; after the robot's data ended: {f['reason']} at {f['t']:.2f} s"
            for f in summary["policy_stops_after_data_ended"]
        ),
        "bridge counters        " + (", ".join(f"{k} {v}" for k, v in summary["bridge_counters"].items()) or "none"),
        f"policy step            p50 {summary['policy_step_ms_p50']:.3f} ms, "
        f"p99 {summary['policy_step_ms_p99']:.3f} ms",
        f"deadline misses        {summary['deadline_misses']}",
        *([f"ROS graph              {summary['ros_graph']}"] if summary.get("ros_graph") else []),
        "messages recorded      " + ", ".join(f"{t} {c}" for t, c in summary["messages"].items() if c),
        f"bag                    {summary['bag']}",
    ]
    return "\n".join(lines)
