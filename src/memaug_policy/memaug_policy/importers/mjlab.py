"""mjlab: an ONNX policy whose metadata_props describe the robot side.

mjlab's exporter attaches ``joint_names`` (the policy's joint order), ``joint_stiffness``,
``joint_damping``, ``default_joint_pos``, ``action_scale`` (one value or one per joint),
``observation_names``, ``command_names`` and ``run_path``; lists are comma-separated strings
(newer versions write JSON; both are read). The network is ``obs`` -> ``actions``.

Observation scales, history, clips and the control period are not stored: they come from
--contract (``control_period_s`` is required; a term without an entry there has scale 1 and
no history, mjlab's velocity task's defaults). The action offset is the default pose
(use_default_offset) and last_action feeds back the raw output.
"""

from __future__ import annotations

import json
from pathlib import Path

from memaug_common.description import RobotDescription
from memaug_policy.importers.common import ImportedPolicy
from memaug_policy.importers.errors import PolicyImportError
from memaug_policy.importers.onnx_graph import load_onnx, network_from_onnx

#: mjlab's velocity-task observation names -> memaug terms.
TERM_NAMES = {
    "base_lin_vel": "base_linear_velocity",
    "base_ang_vel": "base_angular_velocity",
    "projected_gravity": "projected_gravity",
    "joint_pos": "joint_position",
    "joint_vel": "joint_velocity",
    "actions": "last_action",
    "command": "velocity_command",
}

REQUIRED = ("joint_names", "joint_stiffness", "joint_damping", "default_joint_pos", "action_scale", "observation_names")


def _values(text: str) -> list[str]:
    """A metadata list: JSON, or comma-separated."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return [part.strip() for part in text.split(",") if part.strip()]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def read(src: Path, description: RobotDescription) -> ImportedPolicy:
    proto = load_onnx(src)
    props = {p.key: p.value for p in proto.metadata_props}
    missing = [k for k in REQUIRED if k not in props]
    if missing:
        raise PolicyImportError(f"{src}: metadata_props lacks {missing}; not an mjlab export?")
    network = network_from_onnx(proto, src)
    try:
        floats = {
            k: [float(v) for v in _values(props[k])] for k in REQUIRED if k not in ("joint_names", "observation_names")
        }
    except ValueError as exc:
        raise PolicyImportError(f"{src}: a numeric metadata list does not parse: {exc}") from exc
    observations = []
    for name in _values(props["observation_names"]):
        if name not in TERM_NAMES:
            raise PolicyImportError(f"{src}: observation term {name} is not one a {description.name} measures")
        observations.append({"name": TERM_NAMES[name], "scale": 1.0, "clip": None, "history": 1})
    scale = floats["action_scale"]
    return ImportedPolicy(
        format="mjlab",
        network=network,
        sources={"network": src},
        joint_names=_values(props["joint_names"]),
        default_joint_positions=floats["default_joint_pos"],
        kp=floats["joint_stiffness"],
        kd=floats["joint_damping"],
        action_scale=scale[0] if len(scale) == 1 else scale,
        observations=observations,
        assumptions=["observation scales 1 and no history unless --contract says otherwise (mjlab stores neither)"],
    )
