"""``--contract FILE.yaml``: what a source format does not store, written by the user.

Every key is optional; a key given here overrides what the importer read from the source
(and the format's documented defaults). Per-joint values are one number for every joint,
a list in the policy's joint order, or a mapping from joint-name regex to value (Isaac Lab's
style: every joint must match exactly one pattern). Units: rad, N m/rad, N m s/rad, s.

    joint_names: [FL_hip_joint, ...]      # the policy's joint order
    default_joint_positions: {".*_hip_joint": 0.0, ...}
    kp: 20.0
    kd: 0.5
    control_period_s: 0.02
    action_scale: 0.25
    action_offset: [...]                  # default: the default joint positions
    raw_action_clip: 100.0                # symmetric clip of the network output before scaling
    last_action: clipped                  # raw | clipped: what the last_action term feeds back
    observations:                         # replaces the format's list, in order
      - {term: base_linear_velocity, scale: 2.0}
      - {term: joint_velocity, scale: 0.05, clip: [-100, 100], history: 1}
    observation_history: {order: term_major, newest_first: false, fill: first}
    observation_clip: 100.0               # symmetric clip of the whole scaled observation
    command_ranges: {vx: [-1, 1], vy: [-1, 1], yaw_rate: [-1, 1]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memaug_common.yaml_io import load_yaml_model

PerJoint = float | list[float] | dict[str, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermEntry(_Strict):
    term: str = Field(description="a memaug observation term (memaug_policy.observation_spec.KNOWN_TERMS)")
    scale: float | list[float] = 1.0
    clip: tuple[float, float] | None = None
    history: int = Field(default=1, ge=1)


class HistoryLayout(_Strict):
    order: Literal["term_major", "time_major"] = "term_major"
    newest_first: bool = False
    fill: Literal["first", "zeros"] = "first"


class CommandRangesEntry(_Strict):
    vx: tuple[float, float]
    vy: tuple[float, float]
    yaw_rate: tuple[float, float]


class ContractFile(_Strict):
    joint_names: list[str] | None = None
    default_joint_positions: PerJoint | None = None
    kp: PerJoint | None = None
    kd: PerJoint | None = None
    control_period_s: float | None = Field(default=None, gt=0.0)
    action_scale: PerJoint | None = None
    action_offset: PerJoint | None = None
    raw_action_clip: float | None = Field(default=None, gt=0.0)
    last_action: Literal["raw", "clipped"] | None = None
    observations: list[TermEntry] | None = None
    observation_history: HistoryLayout | None = None
    observation_clip: float | None = Field(default=None, gt=0.0)
    command_ranges: CommandRangesEntry | None = None


def load_contract_file(path: Path | None) -> ContractFile:
    """The user's contract file, or an empty one (ConfigError naming the file and field)."""
    if path is None:
        return ContractFile()
    return load_yaml_model(Path(path), ContractFile, "contract file")
