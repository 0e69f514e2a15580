"""unitree_rl_lab / unitree_rl_mjlab: ``exported/policy.onnx`` with ``params/deploy.yaml``.

deploy.yaml (what Unitree's own deploy reads):

- ``joint_ids_map``: for each policy joint i, the SDK motor index it drives. The robot
  description's joint order is the SDK's motor order (config/robots/go2.yaml), so policy joint
  i is description joint joint_ids_map[i].
- ``step_dt``: the control period, s.
- ``stiffness``, ``damping``: per motor, SDK order. ``default_joint_pos``: policy order.
- ``commands.base_velocity.ranges``: lin_vel_x, lin_vel_y, ang_vel_z.
- ``actions.JointPositionAction``: ``scale`` [J], ``offset`` [J] (policy order), ``clip``
  (null or [J] x [low, high] on the target q* = a * scale + offset).
- ``observations.<term>``: ``scale`` [size], ``clip`` (null or [low, high]), ``history_length``;
  each term's values are clipped, scaled and its history stacked oldest first, terms in file
  order; a history starts filled with its first frame. last_action feeds back the raw output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memaug_common.description import RobotDescription
from memaug_policy.importers.common import ImportedPolicy
from memaug_policy.importers.errors import PolicyImportError
from memaug_policy.importers.isaaclab import (
    TERM_NAMES,
    observation_entry,
    read_run,
    velocity_command_ranges,
)


def read(src: Path, description: RobotDescription) -> ImportedPolicy:
    return read_run(src, "deploy.yaml", "unitree_rl_lab deploy config", _from_deploy, description)


def _from_deploy(
    deploy: dict[str, Any], network: Any, onnx_path: Path, deploy_path: Path, description: RobotDescription
) -> ImportedPolicy:
    ids = [int(i) for i in deploy["joint_ids_map"]]
    motors = description.num_joints
    bad = [i for i in ids if not 0 <= i < motors]
    if bad:
        raise PolicyImportError(f"{deploy_path}: joint_ids_map names motor {bad[0]}; {description.name} has {motors}")
    joints = [description.joint_names[i] for i in ids]
    stiffness, damping = list(deploy["stiffness"]), list(deploy["damping"])
    if len(stiffness) != motors or len(damping) != motors:
        raise PolicyImportError(f"{deploy_path}: stiffness/damping need {motors} values (SDK order)")
    actions = deploy["actions"]
    if list(actions) != ["JointPositionAction"]:
        raise PolicyImportError(f"{deploy_path}: actions are {list(actions)}; memaug runs one JointPositionAction")
    action = actions["JointPositionAction"]
    observations = []
    for key, term in deploy["observations"].items():
        if key not in TERM_NAMES:
            raise PolicyImportError(f"{deploy_path}: observation term {key} is not one a {description.name} measures")
        observations.append(
            observation_entry(TERM_NAMES[key], term.get("scale"), term.get("clip"), term.get("history_length"))
        )
    return ImportedPolicy(
        format="unitree_rl_lab",
        network=network,
        sources={"network": onnx_path, "deploy": deploy_path},
        joint_names=joints,
        default_joint_positions=list(deploy["default_joint_pos"]),
        kp=[float(stiffness[i]) for i in ids],
        kd=[float(damping[i]) for i in ids],
        control_period_s=float(deploy["step_dt"]),
        action_scale=list(action["scale"]),
        action_offset=list(action["offset"]),
        target_clip=action.get("clip"),
        observations=observations,
        command_ranges=velocity_command_ranges(deploy["commands"]["base_velocity"]["ranges"]),
        assumptions=["joint order: description joints by joint_ids_map (the description is in SDK motor order)"],
    )
