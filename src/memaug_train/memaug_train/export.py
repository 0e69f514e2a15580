"""Export a trained actor to the ONNX contract of memaug_policy (see DESIGN.md).

Inputs ``obs`` [1, obs_dim] and ``h_in`` (+ ``c_in`` for LSTM) [layers, 1, hidden];
outputs ``actions`` [1, act_dim] and ``h_out`` (+ ``c_out``). The file describes itself in
metadata_props (JSON values), which the policy node checks against the robot description.
An actor with a concurrent estimator may carry its velocity loop inside the graph
(memaug_train.velocity_feedback); the contract stays the same, with a longer hidden state.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import onnx
import torch

from memaug_common.description import RobotDescription
from memaug_policy.contract import FORMAT_VERSION, input_names, output_names
from memaug_policy.observation import ObservationLayout
from memaug_policy.state import command_limits
from memaug_policy.velocity_loop import AXES, VelocityFeedback
from memaug_train.networks import ActorCritic, ExportedPolicy
from memaug_train.tasks import CommandRanges
from memaug_train.velocity_feedback import FeedbackPolicy


def build_metadata(
    description: RobotDescription,
    layout: ObservationLayout,
    model: ActorCritic,
    action_scale: float,
    commands: CommandRanges,
    provenance: dict[str, Any],
    feedback: VelocityFeedback | None = None,
) -> dict[str, str]:
    """The contract's metadata; ``feedback``: the velocity loop the export will carry, if any
    (``export_onnx`` builds it from the provenance recorded here)."""
    net = model.config
    values: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "robot": description.name,
        "joint_names": list(description.joint_names),
        "default_joint_positions": description.default_pose.tolist(),
        "action_scale": action_scale,
        "kp": description.kp.tolist(),
        "kd": description.kd.tolist(),
        "control_period_s": description.control_period_s,
        "observation_terms": layout.describe(),
        "command_ranges": {
            "vx": list(commands.vx),
            "vy": list(commands.vy),
            "yaw_rate": list(commands.yaw_rate),
        },
        "recurrent": {
            "cell": net.cell,
            "layers": net.layers,
            "hidden": net.actor_hidden + (AXES if feedback else 0),
        },
        "provenance": {
            "exported_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "velocity_feedback": dataclasses.asdict(feedback) if feedback else None,
            **provenance,
        },
    }
    return {key: json.dumps(value) for key, value in values.items()}


def export_onnx(model: ActorCritic, path: Path, metadata: dict[str, str]) -> None:
    """Write the actor of ``model`` to ``path`` with ``metadata`` (``build_metadata``), with the
    velocity loop its provenance names, if any; onnx.checker must pass. The metadata is the one
    description of the export: what the runtime reads back is what the graph does."""
    cell = model.config.cell
    layers, hidden = model.config.layers, json.loads(metadata["recurrent"])["hidden"]
    feedback = VelocityFeedback.from_provenance(json.loads(metadata["provenance"]))
    if feedback is None:
        policy: torch.nn.Module = ExportedPolicy(model).eval()
    else:
        limits = command_limits(json.loads(metadata["command_ranges"]))
        policy = FeedbackPolicy(model, feedback, json.loads(metadata["control_period_s"]), limits).eval()
    obs = torch.zeros(1, model.obs_dim)
    state = [torch.zeros(layers, 1, hidden)] * (2 if cell == "lstm" else 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            policy,
            (obs, *state),
            str(path),
            input_names=input_names(cell),
            output_names=output_names(cell),
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
