"""Small policies exported by the real exporter with fixed seeds (tests never need a walker)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_policy.observation import ObservationLayout
from memaug_train.export import build_metadata, export_onnx
from memaug_train.networks import ActorCritic, NetConfig
from memaug_train.tasks import CommandRanges

ExportFn = Callable[..., tuple[Path, ActorCritic]]


@pytest.fixture(scope="session")
def export_policy(tmp_path_factory: pytest.TempPathFactory) -> ExportFn:
    """export_policy(cell="gru", hidden=32, seed=0, metadata_overrides=None) -> (path, torch model)."""
    description = load_robot_description("go2")
    layout = ObservationLayout.for_joints(description.num_joints)
    folder = tmp_path_factory.mktemp("policies")

    def export(
        cell: str = "gru", hidden: int = 32, seed: int = 0, metadata_overrides: dict[str, str] | None = None
    ) -> tuple[Path, ActorCritic]:
        torch.manual_seed(seed)
        model = ActorCritic(layout.dim, description.num_joints, NetConfig(cell=cell, hidden=hidden, head=(64,)))  # type: ignore[arg-type]
        metadata = build_metadata(description, layout, model, 0.25, CommandRanges(), {"method": "test", "seed": seed})
        metadata.update(metadata_overrides or {})
        path = folder / f"{cell}_{hidden}_{seed}_{len(list(folder.iterdir()))}.onnx"
        export_onnx(model, path, metadata)
        return path, model.eval()

    return export


@pytest.fixture(scope="session")
def gru_policy(export_policy: ExportFn) -> Path:
    return export_policy("gru")[0]


@pytest.fixture
def go2_domain(domain_id: int) -> int:
    """DDS domain of the Go2 channels: distinct from the ROS domain, unique per test."""
    return domain_id + 110


@pytest.fixture
def lowcmd_tap(go2_domain: int):
    """Read rt/lowcmd on the wire (what the robot receives), from the test process."""
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from memaug_hardware.dds import LOWCMD_TOPIC, participant
    from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_

    dp = participant(go2_domain, "lo")
    return DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_))
