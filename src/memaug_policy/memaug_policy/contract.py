"""Names and version of the exported policy contract (shared by exporter and runtime)."""

from __future__ import annotations

FORMAT_VERSION = 1

REQUIRED_METADATA = (
    "format_version",
    "robot",
    "joint_names",
    "default_joint_positions",
    "action_scale",
    "kp",
    "kd",
    "control_period_s",
    "observation_terms",
    "command_ranges",
    "recurrent",
    "provenance",
)


def input_names(cell: str) -> list[str]:
    return ["obs", "h_in", "c_in"] if cell == "lstm" else ["obs", "h_in"]


def output_names(cell: str) -> list[str]:
    return ["actions", "h_out", "c_out"] if cell == "lstm" else ["actions", "h_out"]
