"""Load an exported policy (ONNX), read its self-description, check it against the robot.

Raises :class:`ModelError` naming what is wrong: a missing, truncated or corrupt file,
wrong input/output names or shapes, missing or malformed metadata, or a model made for
another robot (joint order, count, default pose, gains, control period).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from memaug_common.description import RobotDescription
from memaug_policy.contract import FORMAT_VERSION, REQUIRED_METADATA, input_names, output_names
from memaug_policy.observation import DEFAULT_TERMS, ObservationLayout, ObservationTerm
from memaug_policy.velocity_loop import VelocityFeedback


class ModelError(ValueError):
    """The policy file cannot be used; the message names every problem found."""


@dataclass(frozen=True)
class RecurrentShape:
    cell: str  # gru | lstm | mlp
    layers: int
    hidden: int


@dataclass(frozen=True)
class PolicyMetadata:
    robot: str
    joint_names: tuple[str, ...]
    default_joint_positions: np.ndarray
    action_scale: float
    kp: np.ndarray
    kd: np.ndarray
    control_period_s: float
    observation_terms: tuple[dict[str, Any], ...]
    command_ranges: dict[str, tuple[float, float]]
    recurrent: RecurrentShape
    provenance: dict[str, Any]
    raw: dict[str, str]
    #: The velocity loop the graph carries (its error in the hidden state's last entries), if any.
    velocity_loop: VelocityFeedback | None = None

    @classmethod
    def parse(cls, props: dict[str, str], source: Path) -> PolicyMetadata:
        missing = [key for key in REQUIRED_METADATA if key not in props]
        if missing:
            raise ModelError(f"{source}: metadata_props lacks {missing} (not exported by memaug_train?)")
        try:
            values = {key: json.loads(props[key]) for key in REQUIRED_METADATA}
        except json.JSONDecodeError as exc:
            raise ModelError(f"{source}: metadata value is not JSON: {exc}") from exc
        if values["format_version"] != FORMAT_VERSION:
            raise ModelError(
                f"{source}: format_version {values['format_version']} is not the supported {FORMAT_VERSION}"
            )
        try:
            rec = values["recurrent"]
            return cls(
                robot=str(values["robot"]),
                joint_names=tuple(values["joint_names"]),
                default_joint_positions=np.asarray(values["default_joint_positions"], dtype=np.float64),
                action_scale=float(values["action_scale"]),
                kp=np.asarray(values["kp"], dtype=np.float64),
                kd=np.asarray(values["kd"], dtype=np.float64),
                control_period_s=float(values["control_period_s"]),
                observation_terms=tuple(values["observation_terms"]),
                command_ranges={k: (float(v[0]), float(v[1])) for k, v in values["command_ranges"].items()},
                recurrent=RecurrentShape(str(rec["cell"]), int(rec["layers"]), int(rec["hidden"])),
                provenance=dict(values["provenance"]),
                raw=dict(props),
                velocity_loop=VelocityFeedback.from_provenance(values["provenance"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"{source}: malformed metadata: {exc!r}") from exc

    def layout(self, source: Path) -> ObservationLayout:
        """The observation layout the model was trained with (terms must be known ones)."""
        known = {t.name: t for t in DEFAULT_TERMS}
        terms: list[ObservationTerm] = []
        for entry in self.observation_terms:
            name = entry.get("name")
            if name not in known:
                raise ModelError(f"{source}: unknown observation term {name!r}; known: {sorted(known)}")
            size = int(entry["size"])
            scale = tuple(float(s) for s in entry["scale"])
            if len(scale) != size:
                raise ModelError(f"{source}: observation term {name} has {len(scale)} scales for size {size}")
            terms.append(ObservationTerm(name, size, scale, known[name].mirror, known[name].description))
        return ObservationLayout.for_joints(len(self.joint_names), tuple(terms))

    def mismatches(self, description: RobotDescription) -> list[str]:
        """Every way this model disagrees with the robot description (empty: compatible)."""
        problems = []
        if self.robot != description.name:
            problems.append(f"robot: model is for {self.robot!r}, description is {description.name!r}")
        if len(self.joint_names) != description.num_joints:
            problems.append(f"joint count: model has {len(self.joint_names)}, description {description.num_joints}")
        elif self.joint_names != description.joint_names:
            problems.append(
                f"joint order: model {list(self.joint_names)} differs from description {list(description.joint_names)}"
            )
        comparable = len(self.joint_names) == description.num_joints
        for label, ours, theirs in (
            ("default joint positions", self.default_joint_positions, description.default_pose),
            ("kp", self.kp, description.kp),
            ("kd", self.kd, description.kd),
        ):
            if comparable and (ours.shape != theirs.shape or not np.allclose(ours, theirs, atol=1e-6)):
                problems.append(f"{label}: model {ours.tolist()} vs description {theirs.tolist()}")
        if abs(self.control_period_s - description.control_period_s) > 1e-9:
            problems.append(
                f"control period: model {self.control_period_s} s vs description {description.control_period_s} s"
            )
        return problems


@dataclass(frozen=True)
class PolicyModel:
    path: Path
    session: ort.InferenceSession
    metadata: PolicyMetadata
    layout: ObservationLayout

    @property
    def obs_dim(self) -> int:
        return self.layout.dim

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
    layout = metadata.layout(path)
    _check_signature(session, metadata, layout, path)
    return PolicyModel(path, session, metadata, layout)


def _check_signature(
    session: ort.InferenceSession, meta: PolicyMetadata, layout: ObservationLayout, path: Path
) -> None:
    rec = meta.recurrent
    state_shape = [rec.layers, 1, rec.hidden]
    want_inputs = dict.fromkeys(input_names(rec.cell), state_shape) | {"obs": [1, layout.dim]}
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
