"""Isaac Lab + rsl_rl: ``exported/policy.onnx`` with the run's ``params/env.yaml``.

rsl_rl's ONNX exporter writes ``obs`` -> ``actions`` (MLP), ``obs, h_in`` -> ``actions, h_out``
(GRU) or ``obs, h_in, c_in`` -> ``actions, h_out, c_out`` (LSTM), states [layers, 1, hidden], the
observation normalizer inside the graph. The env.yaml dump of the task's config holds the rest:

- observations.policy.<term>: ``func`` (module:function), ``scale`` (number or per element),
  ``clip`` (low, high), ``history_length`` (0: none); the group's ``history_length`` overrides
  every term's. Terms are concatenated in order, each term's history flattened oldest first
  (term-major), clipped then scaled, and a history starts filled with its first frame.
- actions.<name> (JointPositionAction): ``scale`` and ``offset`` (number or {regex: value}),
  ``use_default_offset`` (offset = the default joint positions), ``clip`` ({regex: (low, high)}
  on the position target); last_action feeds back the raw output.
- sim.dt x decimation = the control period; scene.robot.init_state.joint_pos ({regex: rad}) =
  the default pose; scene.robot.actuators.<group>: joint_names_expr, stiffness, damping.
- commands.base_velocity.ranges: lin_vel_x, lin_vel_y, ang_vel_z.

The joint order is not stored: it is the articulation's breadth-first order. By default it is
taken as the robot description's joints ordered by depth in the leg (hip, thigh, calf), legs
sorted by name (FL, FR, RL, RR for the Go2, as Isaac Lab's Go2 asset has them); ``joint_names``
in --contract overrides it. `memaug inspect` shows the map to check before the robot moves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from memaug_common.description import RobotDescription
from memaug_policy.importers.common import ImportedPolicy
from memaug_policy.importers.errors import PolicyImportError
from memaug_policy.importers.onnx_graph import load_onnx, network_from_onnx
from memaug_policy.importers.yaml_source import read_yaml

#: Isaac Lab / unitree_rl_lab observation functions -> memaug terms.
TERM_NAMES = {
    "base_lin_vel": "base_linear_velocity",
    "base_ang_vel": "base_angular_velocity",
    "projected_gravity": "projected_gravity",
    "generated_commands": "velocity_command",
    "velocity_commands": "velocity_command",
    "joint_pos_rel": "joint_position",
    "joint_vel_rel": "joint_velocity",
    "last_action": "last_action",
}

#: Keys of an observation group that are settings, not terms.
GROUP_SETTINGS = {"concatenate_terms", "concatenate_dim", "enable_corruption", "history_length", "flatten_history_dim"}


def breadth_first_joints(description: RobotDescription) -> list[str]:
    """The description's joints by depth in their leg (hip, thigh, calf), legs sorted by name."""
    legs: dict[str, list[str]] = {}
    for name in description.joint_names:
        legs.setdefault(name.split("_")[0], []).append(name)
    depth = max(len(chain) for chain in legs.values())
    return [legs[leg][k] for k in range(depth) for leg in sorted(legs) if k < len(legs[leg])]


def find_run_files(src: Path, yaml_name: str) -> tuple[Path, Path]:
    """(policy.onnx, params/<yaml_name>) from a run folder or from the ONNX file itself."""
    if src.is_dir():
        onnx_path, params = src / "exported" / "policy.onnx", src / "params" / yaml_name
    else:
        onnx_path, params = src, src.parent.parent / "params" / yaml_name
    if not src.exists():
        raise PolicyImportError(f"source not found: {src}")
    if not params.is_file():
        raise PolicyImportError(f"{params} not found: the run folder's params/{yaml_name} describes the policy")
    return onnx_path, params


def read_run(
    src: Path, yaml_name: str, label: str, build: Callable[..., ImportedPolicy], description: RobotDescription
) -> ImportedPolicy:
    """An exported ONNX with its run's params/<yaml_name>, turned into a policy by
    ``build(config, network, onnx_path, config_path, description)``; a missing or malformed
    entry in the config is a PolicyImportError naming the file."""
    onnx_path, config_path = find_run_files(src, yaml_name)
    network = network_from_onnx(load_onnx(onnx_path), onnx_path)
    config = read_yaml(config_path, label)
    try:
        return build(config, network, onnx_path, config_path, description)
    except (KeyError, TypeError, IndexError) as exc:
        raise PolicyImportError(f"{config_path}: missing or malformed entry {exc!s}") from exc


def observation_entry(name: str, scale: Any, clip: Any, history: Any) -> dict[str, Any]:
    """One observation term in the contract's terms: scale None is 1; history None or 0 is one frame."""
    return {"name": name, "scale": 1.0 if scale is None else scale, "clip": clip, "history": max(int(history or 1), 1)}


def velocity_command_ranges(ranges: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """commands.base_velocity.ranges (lin_vel_x, lin_vel_y, ang_vel_z) as the contract's ranges."""
    return {"vx": tuple(ranges["lin_vel_x"]), "vy": tuple(ranges["lin_vel_y"]), "yaw_rate": tuple(ranges["ang_vel_z"])}


def read(src: Path, description: RobotDescription) -> ImportedPolicy:
    return read_run(src, "env.yaml", "Isaac Lab env config", _from_env, description)


def _from_env(
    env: dict[str, Any], network: Any, onnx_path: Path, env_path: Path, description: RobotDescription
) -> ImportedPolicy:
    joints = breadth_first_joints(description)
    robot = env["scene"]["robot"]
    kp: dict[str, float] = {}
    kd: dict[str, float] = {}
    for group in robot["actuators"].values():
        for label, target in (("stiffness", kp), ("damping", kd)):
            value = group[label]
            patterns = group["joint_names_expr"]
            if isinstance(value, dict):
                target.update({k: float(v) for k, v in value.items()})
            elif value is not None:
                target.update(dict.fromkeys(patterns, float(value)))
    action = _joint_position_action(env["actions"], env_path)
    offset: Any = None if action.get("use_default_offset", True) else action.get("offset", 0.0)
    clip = action.get("clip")
    target_clip = None
    if clip:
        target_clip = [_match_one(clip, name, "actions clip") for name in joints]
    policy_group = env["observations"]["policy"]
    group_history = policy_group.get("history_length")
    observations = []
    for key, term in policy_group.items():
        if key in GROUP_SETTINGS or term is None:
            continue
        func = str(term["func"]).rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        if func not in TERM_NAMES:
            raise PolicyImportError(
                f"{env_path}: observation term {key} ({term['func']}) is not one a {description.name} measures"
            )
        history = group_history if group_history is not None else term.get("history_length")
        observations.append(observation_entry(TERM_NAMES[func], term.get("scale"), term.get("clip"), history))
    return ImportedPolicy(
        format="isaaclab",
        network=network,
        sources={"network": onnx_path, "env": env_path},
        joint_names=joints,
        default_joint_positions={k: float(v) for k, v in robot["init_state"]["joint_pos"].items()},
        kp=kp,
        kd=kd,
        control_period_s=float(env["sim"]["dt"]) * int(env["decimation"]),
        action_scale=action.get("scale", 1.0),
        action_offset=offset,
        target_clip=target_clip,
        observations=observations,
        command_ranges=velocity_command_ranges(env["commands"]["base_velocity"]["ranges"]),
        assumptions=[f"joint order: breadth-first, {', '.join(joints)} (not stored by Isaac Lab)"],
    )


def _joint_position_action(actions: dict[str, Any], env_path: Path) -> dict[str, Any]:
    terms = [a for a in actions.values() if a is not None]
    if len(terms) != 1 or not str(terms[0].get("class_type", "")).endswith("JointPositionAction"):
        kinds = [str(a.get("class_type", "?")).rsplit(":", 1)[-1] for a in terms]
        raise PolicyImportError(f"{env_path}: actions are {kinds}; memaug runs one JointPositionAction")
    return terms[0]


def _match_one(mapping: dict[str, Any], name: str, label: str) -> Any:
    import re

    hits = [v for pattern, v in mapping.items() if re.fullmatch(pattern, name)]
    if len(hits) != 1:
        raise PolicyImportError(f"{label}: {len(hits)} patterns of {sorted(mapping)} match joint {name}")
    return hits[0]
