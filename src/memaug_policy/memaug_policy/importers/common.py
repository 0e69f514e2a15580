"""What every importer produces, and the one writer of memaug's self-describing ONNX.

An importer reads a source format into :class:`ImportedPolicy` (facts in the policy's joint
order, its network in the contract's signature); :func:`write_policy` checks it against the
robot description, writes the ONNX with format-2 metadata, loads it back through the runtime's
own loader, and, when the policy was trained with other gains, default pose or control period
than the description's, writes a robot description for it beside the ONNX (the one source of
truth every node and the suite read), so the bridge applies the gains the policy expects.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnx
import yaml

from memaug_common.description import RobotDescription, load_robot_description, whole_steps
from memaug_common.errors import ConfigError
from memaug_policy.contract import FORMAT_VERSION
from memaug_policy.importers.contract_file import ContractFile, PerJoint
from memaug_policy.importers.errors import PolicyImportError
from memaug_policy.importers.onnx_graph import Network
from memaug_policy.model import ModelError, check_compatible, load_policy
from memaug_policy.observation_spec import KNOWN_TERMS

#: The observation history layout unless a source says otherwise: Isaac Lab's (its
#: CircularBuffer flattened per term; Isaac Lab and unitree_rl_lab runs): each term's frames
#: together, oldest first, the buffer filled with the first frame at a reset.
DEFAULT_HISTORY: Mapping[str, Any] = MappingProxyType({"order": "term_major", "newest_first": False, "fill": "first"})


@dataclass
class ImportedPolicy:
    """A source policy's facts, policy joint order, before the contract file is applied."""

    format: str
    network: Network
    sources: dict[str, Path]  # role -> file read (their hashes go into the provenance)
    joint_names: list[str] | None = None
    default_joint_positions: PerJoint | None = None
    kp: PerJoint | None = None
    kd: PerJoint | None = None
    control_period_s: float | None = None
    action_scale: PerJoint | None = None
    action_offset: PerJoint | None = None  # None: the default joint positions
    raw_action_clip: float | list[tuple[float, float]] | None = None  # symmetric, or (low, high) per joint
    target_clip: list[tuple[float, float]] | None = None
    last_action: str = "raw"
    #: [{name, scale (float | list), clip (low, high) | None, history}] in order
    observations: list[dict[str, Any]] = field(default_factory=list)
    #: order, newest_first, fill: what the source sets of them over DEFAULT_HISTORY
    history: dict[str, Any] = field(default_factory=dict)
    observation_clip: float | None = None
    command_ranges: dict[str, tuple[float, float]] | None = None
    #: What the importer assumed rather than read (printed, and kept in the provenance).
    assumptions: list[str] = field(default_factory=list)

    def apply(self, contract: ContractFile) -> None:
        """Let the user's contract file override or complete what the source said."""
        for key in (
            "joint_names",
            "default_joint_positions",
            "kp",
            "kd",
            "control_period_s",
            "action_scale",
            "action_offset",
            "raw_action_clip",
            "observation_clip",
            "last_action",
        ):
            value = getattr(contract, key)
            if value is not None:
                setattr(self, key, value)
        if contract.observations is not None:
            self.observations = [
                {"name": e.term, "scale": e.scale, "clip": e.clip, "history": e.history} for e in contract.observations
            ]
        if contract.observation_history is not None:
            self.history = contract.observation_history.model_dump()
        if contract.command_ranges is not None:
            self.command_ranges = {k: tuple(v) for k, v in contract.command_ranges.model_dump().items()}


def per_joint(value: PerJoint | None, joints: list[str], label: str) -> np.ndarray:
    """One value per policy joint from a number, a list in policy order, or {regex: value}."""
    if value is None:
        raise PolicyImportError(f"{label} is not in the source; give it in --contract")
    if isinstance(value, dict):
        out = []
        for name in joints:
            hits = [v for pattern, v in value.items() if re.fullmatch(pattern, name)]
            if len(hits) != 1:
                how = "no pattern" if not hits else f"{len(hits)} patterns"
                raise PolicyImportError(f"{label}: {how} of {sorted(value)} match joint {name}")
            out.append(float(hits[0]))
        return np.asarray(out)
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return np.full(len(joints), float(array))
    if array.shape != (len(joints),):
        raise PolicyImportError(f"{label} has {array.size} values for {len(joints)} joints")
    return array


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class WrittenPolicy:
    model: Path
    description: Path | None  # the robot description written for the policy, if one was needed
    differences: list[str]  # how the policy's robot differs from the description it started from
    assumptions: list[str]


def build_metadata(policy: ImportedPolicy, description: RobotDescription) -> dict[str, Any]:
    """The format-2 metadata of ``policy`` (values before JSON encoding)."""
    joints = policy.joint_names
    if joints is None:
        raise PolicyImportError("joint_names (the policy's joint order) is not in the source; give it in --contract")
    unknown = [n for n in joints if n not in description.joint_names]
    if unknown:
        raise PolicyImportError(
            f"joint {unknown[0]!r} is not a joint of {description.name} (it has {list(description.joint_names)})"
        )
    if len(joints) != description.num_joints or len(set(joints)) != len(joints):
        raise PolicyImportError(
            f"the policy drives {len(set(joints))} distinct joints; {description.name} has {description.num_joints}"
        )
    net = policy.network
    if net.act_dim != len(joints):
        raise PolicyImportError(f"the network outputs {net.act_dim} actions for {len(joints)} joints")
    defaults = per_joint(policy.default_joint_positions, joints, "default_joint_positions")
    order = [description.joint_index(n) for n in joints]
    lower, upper = description.lower_limits[order], description.upper_limits[order]
    for name, q, lo, hi in zip(joints, defaults, lower, upper, strict=True):
        if not lo <= q <= hi:
            raise PolicyImportError(
                f"default position of {name} {q:+.3f} rad is outside its range [{lo:+.3f}, {hi:+.3f}]"
            )
    for label in ("kp", "kd"):
        gains = per_joint(getattr(policy, label), joints, label)
        if not np.all(np.isfinite(gains)) or np.any(gains < 0) or (label == "kp" and np.any(gains <= 0)):
            raise PolicyImportError(
                f"{label} {gains.tolist()} outside what the bridge applies (finite, kp > 0, kd >= 0)"
            )
    offset = defaults if policy.action_offset is None else per_joint(policy.action_offset, joints, "action_offset")
    period = policy.control_period_s
    if period is None:
        raise PolicyImportError("control_period_s is not in the source; give it in --contract")
    if whole_steps(period, description.physics_period_s) is None:
        raise PolicyImportError(
            f"control period {period} s is not a whole number of the bridge's {description.physics_period_s} s "
            "periods: the bridge cannot run it"
        )
    if policy.command_ranges is None:
        raise PolicyImportError("command ranges are not in the source; give command_ranges in --contract")
    terms = _observation_terms(policy.observations, len(joints), description.name)
    described = sum(t["size"] * t.get("history", 1) for t in terms)
    if described != net.obs_dim:
        layout = " + ".join(f"{t['name']} {t['size']}x{t.get('history', 1)}" for t in terms)
        raise PolicyImportError(
            f"the network reads {net.obs_dim} observation values; the described layout has {described} ({layout})"
        )
    observation = {**DEFAULT_HISTORY, "clip": policy.observation_clip} | policy.history
    raw_clip = _raw_clip(policy.raw_action_clip, len(joints))
    return {
        "format_version": FORMAT_VERSION,
        "robot": description.name,
        "joint_names": list(joints),
        "default_joint_positions": defaults.tolist(),
        "action_scale": per_joint(policy.action_scale, joints, "action_scale").tolist(),
        "kp": per_joint(policy.kp, joints, "kp").tolist(),
        "kd": per_joint(policy.kd, joints, "kd").tolist(),
        "control_period_s": float(period),
        "observation_terms": terms,
        "observation": observation,
        "actions": {
            "offset": offset.tolist(),
            "raw_clip": raw_clip,
            "target_clip": None if policy.target_clip is None else [list(map(float, c)) for c in policy.target_clip],
            "last_action": policy.last_action,
        },
        "command_ranges": {k: list(v) for k, v in (policy.command_ranges or {}).items()},
        "recurrent": {"cell": net.cell, "layers": net.layers, "hidden": net.hidden},
        "provenance": {
            "format": policy.format,
            "imported_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "sources": {role: {"file": str(path), "sha256": file_hash(path)} for role, path in policy.sources.items()},
            "assumptions": policy.assumptions,
        },
    }


def _observation_terms(entries: list[dict[str, Any]], joints: int, robot: str) -> list[dict[str, Any]]:
    """The metadata's observation_terms: known terms, one scale per element, clip and history."""
    terms = []
    for entry in entries:
        name = entry["name"]
        if name not in KNOWN_TERMS:
            raise PolicyImportError(
                f"observation term {name!r} is not one {robot} measures (known: {sorted(KNOWN_TERMS)})"
            )
        size = KNOWN_TERMS[name].size or joints
        scale = np.asarray(entry.get("scale", 1.0), dtype=np.float64)
        scale = np.full(size, float(scale)) if scale.ndim == 0 else scale
        if scale.shape != (size,):
            raise PolicyImportError(f"observation term {name} has {scale.size} scales for size {size}")
        term: dict[str, Any] = {"name": name, "size": size, "scale": scale.tolist()}
        if entry.get("clip") is not None:
            term["clip"] = [float(entry["clip"][0]), float(entry["clip"][1])]
        if int(entry.get("history", 1)) > 1:
            term["history"] = int(entry["history"])
        terms.append(term)
    return terms


def _raw_clip(value: float | list[tuple[float, float]] | None, joints: int) -> list[list[float]] | None:
    """[J] x [low, high] from a symmetric bound or per-joint pairs."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return [[-float(value), float(value)]] * joints
    if len(value) != joints:
        raise PolicyImportError(f"the action clip has {len(value)} pairs for {joints} joints")
    return [[float(low), float(high)] for low, high in value]


def write_policy(policy: ImportedPolicy, description: RobotDescription, out: Path) -> WrittenPolicy:
    """Write ``out`` (and ``out``.robot.yaml when needed), then load both back and check them."""
    metadata = build_metadata(policy, description)
    proto = policy.network.proto
    del proto.metadata_props[:]
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=json.dumps(value))
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        raise PolicyImportError(
            f"the converted network does not pass onnx.checker: {str(exc).splitlines()[0]}"
        ) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out))
    try:
        model = load_policy(out)
    except ModelError as exc:
        raise PolicyImportError(str(exc).replace("\n", " ")) from exc
    meta = model.metadata
    order = meta.joint_map(description)
    robot_kp, robot_kd, robot_q0 = (np.empty(len(order)) for _ in range(3))
    robot_kp[order], robot_kd[order], robot_q0[order] = meta.kp, meta.kd, meta.default_joint_positions
    differences = [
        f"{label}: policy {ours.tolist()} vs {theirs.tolist()}"
        for label, ours, theirs in (
            ("kp", robot_kp, description.kp),
            ("kd", robot_kd, description.kd),
            ("default pose", robot_q0, description.default_pose),
        )
        if not np.allclose(ours, theirs, atol=1e-6)
    ]
    if abs(meta.control_period_s - description.control_period_s) > 1e-9:
        differences.append(f"control period: policy {meta.control_period_s} s vs {description.control_period_s} s")
    robot_file = None
    target = description
    if differences:
        robot_file = out.with_suffix(".robot.yaml")
        target = _write_description(description, robot_file, robot_kp, robot_kd, robot_q0, meta.control_period_s)
    try:
        check_compatible(model, target)
    except ModelError as exc:
        raise PolicyImportError(str(exc).replace("\n  ", "; ")) from exc
    return WrittenPolicy(out, robot_file, differences, policy.assumptions)


def _write_description(
    description: RobotDescription, path: Path, kp: np.ndarray, kd: np.ndarray, q0: np.ndarray, period_s: float
) -> RobotDescription:
    """``description`` with the policy's gains, default pose and control period, as a YAML file."""
    assert description.source is not None
    data = yaml.safe_load(Path(description.source).read_text())
    data["mjcf"] = str(description.mjcf_path)
    data["control_period_s"] = float(period_s)
    for joint, gain_p, gain_d, default in zip(data["joints"], kp, kd, q0, strict=True):
        joint.update(kp=float(gain_p), kd=float(gain_d), default=float(default))
    header = (
        f"# {description.name} for an imported policy: {description.source} with the policy's gains,\n"
        "# default pose and control period (written by `memaug policy import`). Run the policy with\n"
        "# --robot pointing here, so that the bridge applies the gains the policy was trained with.\n"
    )
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=120))
    try:
        return load_robot_description(path)
    except ConfigError as exc:
        raise PolicyImportError(
            f"the policy's robot description is not valid: {str(exc).splitlines()[-1].strip()}"
        ) from exc
