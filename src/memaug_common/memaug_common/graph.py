"""Who may reach a memaug run's ROS graph: one rule for the `memaug` command and the launch files.

By default the graph stays on this machine, whatever the caller's environment says
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST): an armed robot takes /cmd_vel, /joint_commands,
/estop and ~/start from this computer only. Opening it (a teleop laptop, a remote Foxglove)
is an explicit choice: the subnet (SUBNET), or named peers (ROS_STATIC_PEERS). Nodes say
which on /diagnostics (``graph_scope``) and run summaries repeat it.
"""

from __future__ import annotations

from collections.abc import Mapping

LOCAL = "LOCALHOST"
SUBNET = "SUBNET"


def graph_environment(open_graph: bool, peers: str = "") -> dict[str, str]:
    """The discovery variables a stack's processes get: LOCALHOST unless ``open_graph``;
    open, the subnet, and ``peers`` (semicolon-separated addresses) as static peers."""
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE": SUBNET if open_graph else LOCAL, "ROS_STATIC_PEERS": ""}
    if open_graph and peers:
        env["ROS_STATIC_PEERS"] = peers
    return env


def graph_scope(env: Mapping[str, str]) -> str:
    """How far this process's graph reaches, in words for /diagnostics and summaries."""
    scope = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "") or "SUBNET (ROS default)"
    if scope == LOCAL:
        return "this machine only (LOCALHOST)"
    peers = env.get("ROS_STATIC_PEERS", "")
    return f"open: {scope}" + (f", peers {peers}" if peers else "")
