"""Load an exported policy (ONNX), read its self-description, check it against the robot.

Raises :class:`ModelError` naming what is wrong: a missing, truncated or corrupt file,
wrong input/output names or shapes, missing or malformed metadata, an observation size that
does not match the described layout, or a model made for another robot (joints, default
pose, gains, control period). The metadata's keys are memaug_policy.contract's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from memaug_common.description import RobotDescription, whole_steps
from memaug_policy.contract import (
    CELLS,
    OPTIONAL_METADATA,
    REQUIRED_METADATA,
    SUPPORTED_FORMAT_VERSIONS,
    input_names,
    output_names,
)
from memaug_policy.observation import ObservationLayout
from memaug_policy.observation_spec import ObservationSpec, ObservationSpecError
from memaug_policy.velocity_loop import VelocityFeedback

#: Format 1 clipped the network's raw output to this magnitude before scaling.
FORMAT1_RAW_CLIP = 10.0


class ModelError(ValueError):
    """The policy file cannot be used; the message names every problem found."""


@dataclass(frozen=True)
class RecurrentShape:
    cell: str  # gru | lstm | none
    layers: int
    hidden: int

    @property
    def has_memory(self) -> bool:
        return self.cell != "none"


@dataclass(frozen=True)
class ActionSpec:
    """Raw network output a [J] (policy order) -> position target q* [J], rad:
    q* = clip(offset + scale * clip(a, raw_clip), target_clip)."""

    scale: np.ndarray  # [J]
    offset: np.ndarray  # [J] rad
    raw_clip: np.ndarray | None  # [J, 2] on a, or None
    target_clip: np.ndarray | None  # [J, 2] rad, or None
    last_action: str  # "raw" | "clipped": what the observation's last_action term feeds back

    @classmethod
    def parse(cls, values: dict[str, Any], defaults: np.ndarray) -> ActionSpec:
        """From the metadata; a file without ``actions`` (format 1, and memaug_train's own
        exports) keeps format 1's raw clip of +-FORMAT1_RAW_CLIP."""
        joints = len(defaults)
        scale = np.broadcast_to(np.asarray(values["action_scale"], dtype=np.float64), (joints,)).copy()
        if "actions" not in values:
            format1_clip = np.tile([-FORMAT1_RAW_CLIP, FORMAT1_RAW_CLIP], (joints, 1))
            return cls(scale, defaults, format1_clip, None, "raw")
        extra = dict(values["actions"])
        offset = np.asarray(extra.pop("offset", defaults), dtype=np.float64)
        raw_clip = extra.pop("raw_clip", None)
        target_clip = extra.pop("target_clip", None)
        last_action = extra.pop("last_action", "raw")
        if extra:
            raise ValueError(f"actions has unknown keys {sorted(extra)}")
        if offset.shape != (joints,):
            raise ValueError(f"actions.offset has {offset.size} values for {joints} joints")
        if last_action not in ("raw", "clipped"):
            raise ValueError(f"actions.last_action {last_action!r} is not raw or clipped")
        return cls(
            scale,
            offset,
            _bounds(raw_clip, joints, "raw_clip"),
            _bounds(target_clip, joints, "target_clip"),
            last_action,
        )


def _bounds(value: Any, joints: int, label: str) -> np.ndarray | None:
    if value is None:
        return None
    bounds = np.asarray(value, dtype=np.float64)
    if bounds.shape != (joints, 2) or not np.all(bounds[:, 0] <= bounds[:, 1]):
        raise ValueError(f"actions.{label} must be {joints} [low, high] pairs, got {value!r}")
    return bounds


@dataclass(frozen=True)
class PolicyMetadata:
    robot: str
    joint_names: tuple[str, ...]  # the policy's joint order (format 1: the description's)
    default_joint_positions: np.ndarray  # [J] rad, policy order
    action_scale: np.ndarray  # [J], policy order
    kp: np.ndarray  # [J] N m/rad, policy order
    kd: np.ndarray  # [J] N m s/rad, policy order
    control_period_s: float
    observation_terms: tuple[dict[str, Any], ...]
    command_ranges: dict[str, tuple[float, float]]
    recurrent: RecurrentShape
    provenance: dict[str, Any]
    raw: dict[str, str]
    actions: ActionSpec
    observation: ObservationSpec
    format_version: int = 2
    #: The velocity loop the graph carries (its error in the hidden state's last entries), if any.
    velocity_loop: VelocityFeedback | None = None

    @classmethod
    def parse(cls, props: dict[str, str], source: Path) -> PolicyMetadata:
        missing = [key for key in REQUIRED_METADATA if key not in props]
        if missing:
            raise ModelError(f"{source}: metadata_props lacks {missing} (not exported by memaug_train?)")
        try:
            values = {key: json.loads(props[key]) for key in (*REQUIRED_METADATA, *OPTIONAL_METADATA) if key in props}
        except json.JSONDecodeError as exc:
            raise ModelError(f"{source}: metadata value is not JSON: {exc}") from exc
        version = values["format_version"]
        if version not in SUPPORTED_FORMAT_VERSIONS:
            raise ModelError(
                f"{source}: format_version {version} is not a supported one {list(SUPPORTED_FORMAT_VERSIONS)}"
            )
        try:
            rec = values["recurrent"]
            cell = str(rec["cell"])
            if cell not in CELLS:
                raise ValueError(f"recurrent cell {cell!r} is not one of {list(CELLS)}")
            joint_names = tuple(str(n) for n in values["joint_names"])
            if len(set(joint_names)) != len(joint_names):
                raise ValueError(f"joint_names repeat a joint: {list(joint_names)}")
            defaults = _per_joint(values["default_joint_positions"], len(joint_names), "default_joint_positions")
            actions = ActionSpec.parse(values, defaults)
            observation = ObservationSpec.parse(
                values["observation_terms"], values.get("observation"), len(joint_names)
            )
            return cls(
                robot=str(values["robot"]),
                joint_names=joint_names,
                default_joint_positions=defaults,
                action_scale=actions.scale,
                kp=_per_joint(values["kp"], len(joint_names), "kp"),
                kd=_per_joint(values["kd"], len(joint_names), "kd"),
                control_period_s=float(values["control_period_s"]),
                observation_terms=tuple(values["observation_terms"]),
                command_ranges={k: (float(v[0]), float(v[1])) for k, v in values["command_ranges"].items()},
                recurrent=RecurrentShape(cell, int(rec["layers"]), int(rec["hidden"])),
                provenance=dict(values["provenance"]),
                raw=dict(props),
                actions=actions,
                observation=observation,
                format_version=int(version),
                velocity_loop=VelocityFeedback.from_provenance(values["provenance"]),
            )
        except ObservationSpecError as exc:
            raise ModelError(f"{source}: {exc}") from exc
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"{source}: malformed metadata: {exc!r}") from exc

    def layout(self, source: Path | None = None) -> ObservationLayout:
        """One frame of the observation the model was trained with (terms, sizes, scales)."""
        return self.observation.layout()

    def joint_map(self, description: RobotDescription) -> np.ndarray:
        """[J] description index of each policy joint: robot_array[map] is in policy order."""
        return np.array([description.joint_index(name) for name in self.joint_names])

    def mismatches(self, description: RobotDescription) -> list[str]:
        """Every way this model disagrees with the robot description (empty: compatible)."""
        problems = []
        if self.robot != description.name:
            problems.append(f"robot: model is for {self.robot!r}, description is {description.name!r}")
        unknown = [n for n in self.joint_names if n not in description.joint_names]
        undriven = [n for n in description.joint_names if n not in self.joint_names]
        if unknown:
            problems.append(f"joints: the robot has no joint {unknown} (it has {list(description.joint_names)})")
        if undriven:
            problems.append(f"joints: the model does not drive the robot's {undriven}")
        if len(self.joint_names) != description.num_joints:
            problems.append(f"joint count: model has {len(self.joint_names)}, description {description.num_joints}")
        elif self.format_version < 2 and self.joint_names != description.joint_names:
            problems.append(
                f"joint order: model {list(self.joint_names)} differs from description {list(description.joint_names)}"
            )
        if not (unknown or undriven) and len(self.joint_names) == description.num_joints:
            order = self.joint_map(description)
            lower, upper = description.lower_limits[order], description.upper_limits[order]
            outside = [
                f"{name} {q:+.3f} not in [{lo:+.3f}, {hi:+.3f}]"
                for name, q, lo, hi in zip(self.joint_names, self.default_joint_positions, lower, upper, strict=True)
                if not lo <= q <= hi
            ]
            if outside:
                problems.append("default joint positions outside the robot's range: " + "; ".join(outside))
            for label, gains in (("kp", self.kp), ("kd", self.kd)):
                if not np.all(np.isfinite(gains)) or np.any(gains < 0):
                    problems.append(f"{label}: model gains must be finite and non-negative, got {gains.tolist()}")
            for label, ours, theirs in (
                ("default joint positions", self.default_joint_positions, description.default_pose[order]),
                ("kp", self.kp, description.kp[order]),
                ("kd", self.kd, description.kd[order]),
            ):
                if not np.allclose(ours, theirs, atol=1e-6):
                    problems.append(
                        f"{label}: model {_in_robot_order(ours, order)} vs description "
                        f"{_in_robot_order(theirs, order)} (robot order)"
                    )
        if whole_steps(self.control_period_s, description.physics_period_s) is None:
            problems.append(
                f"control period: model {self.control_period_s} s is not a whole number of the bridge's "
                f"{description.physics_period_s} s periods"
            )
        if abs(self.control_period_s - description.control_period_s) > 1e-9:
            problems.append(
                f"control period: model {self.control_period_s} s vs description {description.control_period_s} s"
            )
        return problems


def _per_joint(value: Any, joints: int, label: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (joints,):
        raise ValueError(f"{label} has {array.size} values for {joints} joints")
    return array


def _in_robot_order(values: np.ndarray, order: np.ndarray) -> list[float]:
    out = np.empty_like(values)
    out[order] = values
    return out.tolist()


@dataclass(frozen=True)
class PolicyModel:
    path: Path
    session: ort.InferenceSession
    metadata: PolicyMetadata
    layout: ObservationLayout  # one frame of the observation (terms, sizes, scales)

    @property
    def obs_dim(self) -> int:
        """Length of the network's input: every term times its history."""
        return self.metadata.observation.dim

    @property
    def act_dim(self) -> int:
        return len(self.metadata.joint_names)


def load_policy(path: str | Path, threads: int = 1) -> PolicyModel:
    """Open ``path`` with ONNX Runtime and validate its contract (not yet the robot)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"policy model not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for corrupt files
        raise ModelError(f"{path}: not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc
    props = dict(session.get_modelmeta().custom_metadata_map)
    metadata = PolicyMetadata.parse(props, path)
    _check_signature(session, metadata, path)
    return PolicyModel(path, session, metadata, metadata.layout())


def _check_signature(session: ort.InferenceSession, meta: PolicyMetadata, path: Path) -> None:
    rec = meta.recurrent
    state_shape = [rec.layers, 1, rec.hidden]
    obs_dim = meta.observation.dim
    declared = {i.name: i.shape for i in session.get_inputs()}
    if "obs" in declared and len(declared["obs"]) == 2 and declared["obs"][1] != obs_dim:
        terms = " + ".join(f"{t.name} {t.size}x{t.history}" for t in meta.observation.terms)
        raise ModelError(
            f"{path}: the network reads {declared['obs'][1]} observation values, the described layout "
            f"has {obs_dim} ({terms})"
        )
    want_inputs = dict.fromkeys(input_names(rec.cell), state_shape) | {"obs": [1, obs_dim]}
    want_outputs = dict.fromkeys(output_names(rec.cell), state_shape) | {"actions": [1, len(meta.joint_names)]}
    problems = []
    for kind, actual, wanted in (
        ("input", session.get_inputs(), want_inputs),
        ("output", session.get_outputs(), want_outputs),
    ):
        names = [a.name for a in actual]
        if sorted(names) != sorted(wanted):
            problems.append(f"{kind}s are {names}, expected {list(wanted)}")
            continue
        for arg in actual:
            if list(arg.shape) != wanted[arg.name]:
                problems.append(f"{kind} {arg.name} has shape {arg.shape}, expected {wanted[arg.name]}")
    if problems:
        raise ModelError(f"{path}: " + "; ".join(problems))


def check_compatible(model: PolicyModel, description: RobotDescription) -> None:
    """Raise ModelError listing every mismatch between the model and the robot description."""
    problems = model.metadata.mismatches(description)
    if problems:
        raise ModelError(
            f"{model.path} does not match robot description {description.source}:\n  " + "\n  ".join(problems)
        )


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A model path as given, or a bare file name looked up in config/policies/."""
    path = Path(name_or_path)
    if path.is_file() or path.parent != Path("."):
        return path
    from memaug_common.paths import config_dir

    return config_dir() / "policies" / path.name
