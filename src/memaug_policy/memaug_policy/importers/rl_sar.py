"""rl_sar: ``policy/<robot>/<name>/config.yaml`` with the robot's ``policy/<robot>/base.yaml``.

config.yaml holds one mapping under ``<robot>/<name>``, base.yaml one under ``<robot>``; the
config's keys override the base's (rl_sar reads base, then config). What they mean:

- ``model_name``: the network beside config.yaml, TorchScript (.pt) or ONNX.
- ``joint_mapping``: policy joint i reads and drives SDK motor joint_mapping[i];
  ``joint_names`` (base) names the SDK motors. ``default_dof_pos``, ``rl_kp``, ``rl_kd``,
  ``action_scale``, ``clip_actions_lower/upper`` are per policy joint.
- ``observations``: ordered terms, each scaled by its ``*_scale``: lin_vel (lin_vel_scale;
  ground truth, sim only), ang_vel / ang_vel_body (ang_vel_scale, gyro), gravity_vec,
  commands (commands_scale), dof_pos (q - default_dof_pos, dof_pos_scale), dof_vel
  (dof_vel_scale), actions (the clipped previous action). The frame is clipped to
  +-``clip_obs``.
- ``observations_history``: frame indices, 0 the newest; ``observations_history_priority``
  time (whole frames one after another) or term (each term's frames together). The history
  starts at zeros when the policy starts. Only 0..H-1 in order is supported.
- ``dt`` x ``decimation``: the control period. Command ranges are not stored: +-1 unless
  --contract gives command_ranges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memaug_common.description import RobotDescription
from memaug_policy.importers.common import ImportedPolicy
from memaug_policy.importers.errors import PolicyImportError
from memaug_policy.importers.onnx_graph import load_onnx, name_single_io, network_from_onnx
from memaug_policy.importers.torchscript import torchscript_to_onnx
from memaug_policy.importers.yaml_source import read_yaml

#: rl_sar observation names -> (memaug term, the key of its scale or None).
TERMS: dict[str, tuple[str, str | None]] = {
    "lin_vel": ("base_linear_velocity", "lin_vel_scale"),
    "ang_vel": ("base_angular_velocity", "ang_vel_scale"),
    "ang_vel_body": ("base_angular_velocity", "ang_vel_scale"),
    "gravity_vec": ("projected_gravity", None),
    "commands": ("velocity_command", "commands_scale"),
    "dof_pos": ("joint_position", "dof_pos_scale"),
    "dof_vel": ("joint_velocity", "dof_vel_scale"),
    "actions": ("last_action", None),
}


def read(src: Path, description: RobotDescription) -> ImportedPolicy:
    folder = src if src.is_dir() else src.parent
    config_path, base_path = folder / "config.yaml", folder.parent / "base.yaml"
    config = read_yaml(config_path, "rl_sar policy config")
    if len(config) != 1:
        raise PolicyImportError(f"{config_path}: expected one <robot>/<name> mapping, found {list(config)}")
    ((key, values),) = config.items()
    robot = str(key).split("/")[0]
    params: dict[str, Any] = {}
    sources = {"config": config_path}
    if base_path.is_file():
        base = read_yaml(base_path, "rl_sar robot config")
        params.update(base.get(robot) or {})
        sources["base"] = base_path
    params.update(values or {})
    try:
        return _from_params(params, folder, sources, description)
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyImportError(f"{config_path}: missing or malformed entry {exc!s}") from exc


def _from_params(
    params: dict[str, Any], folder: Path, sources: dict[str, Path], description: RobotDescription
) -> ImportedPolicy:
    if params.get("wheel_indices"):
        raise PolicyImportError(
            f"{sources['config']}: wheel_indices {params['wheel_indices']}: wheels are not supported"
        )
    history = [int(i) for i in params.get("observations_history") or []]
    if history and history != list(range(len(history))):
        raise PolicyImportError(f"{sources['config']}: observations_history {history} must be 0..H-1 in order")
    frames = max(len(history), 1)
    model = folder / str(params["model_name"])
    sources["network"] = model
    if model.suffix == ".onnx":
        proto = name_single_io(load_onnx(model))
    else:
        proto = torchscript_to_onnx(model, int(params["num_observations"]) * frames)
    network = network_from_onnx(proto, model)
    motors = list(params.get("joint_names") or description.joint_names)
    mapping = [int(i) for i in params["joint_mapping"]]
    if any(not 0 <= i < len(motors) for i in mapping):
        raise PolicyImportError(
            f"{sources['config']}: joint_mapping {mapping} names a motor outside 0..{len(motors) - 1}"
        )
    observations = []
    for name in params["observations"]:
        if name not in TERMS:
            raise PolicyImportError(f"{sources['config']}: observation {name} is not one a {description.name} measures")
        term, scale_key = TERMS[name]
        scale = 1.0 if scale_key is None else params[scale_key]
        observations.append({"name": term, "scale": scale, "clip": None, "history": frames})
    order = "time_major" if params.get("observations_history_priority", "time") == "time" else "term_major"
    lower, upper = params.get("clip_actions_lower"), params.get("clip_actions_upper")
    raw_clip = list(zip(map(float, lower), map(float, upper), strict=True)) if lower and upper else None
    return ImportedPolicy(
        format="rl_sar",
        network=network,
        sources=sources,
        joint_names=[str(motors[i]) for i in mapping],
        default_joint_positions=[float(v) for v in params["default_dof_pos"]],
        kp=[float(v) for v in params["rl_kp"]],
        kd=[float(v) for v in params["rl_kd"]],
        control_period_s=float(params["dt"]) * int(params["decimation"]),
        action_scale=[float(v) for v in params["action_scale"]]
        if isinstance(params["action_scale"], list)
        else float(params["action_scale"]),
        raw_action_clip=raw_clip,
        last_action="clipped",
        observations=observations,
        history={"order": order, "newest_first": True, "fill": "zeros"},
        observation_clip=float(params["clip_obs"]) if params.get("clip_obs") else None,
        command_ranges={"vx": (-1.0, 1.0), "vy": (-1.0, 1.0), "yaw_rate": (-1.0, 1.0)},
        assumptions=["command ranges +-1 (rl_sar does not store them; --contract command_ranges to change)"],
    )
