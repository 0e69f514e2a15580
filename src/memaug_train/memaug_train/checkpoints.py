"""Trained checkpoints read back: the network a run saved, rebuilt from its run.json."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from memaug_common.description import load_robot_description
from memaug_policy.observation import ObservationLayout
from memaug_train.methods import METHODS
from memaug_train.networks import ActorCritic, NetConfig


def load_trained(checkpoint: Path) -> tuple[ActorCritic, dict, dict]:
    """The ActorCritic saved in ``checkpoint`` (its run.json beside it), the run metadata and state.

    Raises FileNotFoundError naming the missing file: a checkpoint copied without its run.json
    cannot be rebuilt (the method, robot and network size are recorded there).
    """
    meta_path = checkpoint.parent / "run.json"
    for needed in (checkpoint, meta_path):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed} not found (a checkpoint needs the run.json of its run beside it)")
    meta = json.loads(meta_path.read_text())
    state = torch.load(checkpoint, weights_only=False, map_location="cpu")
    method = METHODS[meta["method"]]
    description = load_robot_description(meta["robot"])
    net = (
        NetConfig.from_json(meta["ppo"]["net"]) if "ppo" in meta else NetConfig(cell=method.cell, hidden=meta["hidden"])
    )
    model = ActorCritic(ObservationLayout.for_joints(description.num_joints).dim, description.num_joints, net)
    model.load_state_dict(state["model"])
    return model.eval(), meta, state
