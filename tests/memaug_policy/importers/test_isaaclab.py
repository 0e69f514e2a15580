"""Isaac Lab + rsl_rl: a run folder (exported/policy.onnx, params/env.yaml) imports and runs
as Isaac Lab would run it.

The oracle below is written from Isaac Lab's documented behaviour, not from the importer:
the articulation's breadth-first joint order, each observation term clipped then scaled, its
history stacked oldest first and filled with the first frame after a reset, the group's terms
concatenated in order; actions q* = a * scale + default, clipped per joint; the LSTM state
zeroed on reset and carried otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from memaug_common.description import load_robot_description
from memaug_policy.importers import PolicyImportError, import_policy

#: Isaac Lab's Go2 articulation order: breadth-first over the legs FL, FR, RL, RR.
BFS = [f"{leg}_{part}_joint" for part in ("hip", "thigh", "calf") for leg in ("FL", "FR", "RL", "RR")]
DEFAULT = {
    **{f"{leg}_hip_joint": (0.1 if leg[1] == "L" else -0.1) for leg in ("FL", "FR", "RL", "RR")},
    **{f"{leg}_thigh_joint": (0.8 if leg[0] == "F" else 1.0) for leg in ("FL", "FR", "RL", "RR")},
    **{f"{leg}_calf_joint": -1.5 for leg in ("FL", "FR", "RL", "RR")},
}
TARGET_CLIP = {"hip": (-0.5, 0.5), "thigh": (-0.5, 2.0), "calf": (-2.6, -0.9)}

ENV_YAML = """\
viewer:
  eye: !!python/tuple [7.5, 7.5, 7.5]
sim:
  dt: 0.005
  render_interval: 4
  gravity: !!python/tuple [0.0, 0.0, -9.81]
decimation: 4
scene:
  num_envs: 4096
  robot:
    class_type: isaaclab.assets.articulation.articulation:Articulation
    prim_path: /World/envs/env_.*/Robot
    init_state:
      pos: !!python/tuple [0.0, 0.0, 0.4]
      joint_pos:
        .*L_hip_joint: 0.1
        .*R_hip_joint: -0.1
        F[L,R]_thigh_joint: 0.8
        R[L,R]_thigh_joint: 1.0
        .*_calf_joint: -1.5
      joint_vel:
        .*: 0.0
    actuators:
      base_legs:
        class_type: isaaclab.actuators.actuator_pd:DCMotor
        joint_names_expr: [.*_hip_joint, .*_thigh_joint, .*_calf_joint]
        effort_limit: 23.5
        velocity_limit: 30.0
        stiffness: 25.0
        damping: 0.5
        saturation_effort: 23.5
observations:
  policy:
    concatenate_terms: true
    enable_corruption: true
    history_length: null
    flatten_history_dim: true
    base_lin_vel:
      func: isaaclab.envs.mdp.observations:base_lin_vel
      params: {}
      modifiers: null
      noise: {func: isaaclab.utils.noise.noise_model:uniform_noise, operation: add, n_min: -0.1, n_max: 0.1}
      clip: null
      scale: 2.0
      history_length: 0
      flatten_history_dim: true
    base_ang_vel:
      func: isaaclab.envs.mdp.observations:base_ang_vel
      params:
        asset_cfg:
          name: robot
          joint_ids: !!python/object/apply:builtins.slice [null, null, null]
      modifiers: null
      noise: !!python/object:isaaclab.utils.noise.noise_cfg.UniformNoiseCfg
        n_min: -0.2
        n_max: 0.2
      clip: null
      scale: 0.25
      history_length: 3
      flatten_history_dim: true
    projected_gravity:
      func: isaaclab.envs.mdp.observations:projected_gravity
      params: {}
      modifiers: null
      noise: null
      clip: !!python/tuple [-0.8, 0.8]
      scale: null
      history_length: 0
      flatten_history_dim: true
    velocity_commands:
      func: isaaclab.envs.mdp.observations:generated_commands
      params: {command_name: base_velocity}
      modifiers: null
      noise: null
      clip: null
      scale: !!python/tuple [2.0, 2.0, 0.25]
      history_length: 0
      flatten_history_dim: true
    joint_pos:
      func: isaaclab.envs.mdp.observations:joint_pos_rel
      params: {}
      modifiers: null
      noise: null
      clip: null
      scale: 1.0
      history_length: 2
      flatten_history_dim: true
    joint_vel:
      func: isaaclab.envs.mdp.observations:joint_vel_rel
      params: {}
      modifiers: null
      noise: null
      clip: !!python/tuple [-2.0, 2.0]
      scale: 0.05
      history_length: 0
      flatten_history_dim: true
    actions:
      func: isaaclab.envs.mdp.observations:last_action
      params: {}
      modifiers: null
      noise: null
      clip: null
      scale: null
      history_length: 0
      flatten_history_dim: true
actions:
  joint_pos:
    class_type: isaaclab.envs.mdp.actions.joint_actions:JointPositionAction
    asset_name: robot
    debug_vis: false
    clip:
      .*_hip_joint: !!python/tuple [-0.5, 0.5]
      .*_thigh_joint: !!python/tuple [-0.5, 2.0]
      .*_calf_joint: !!python/tuple [-2.6, -0.9]
    joint_names: [.*]
    scale: 0.25
    offset: 0.0
    preserve_order: false
    use_default_offset: true
commands:
  base_velocity:
    class_type: isaaclab.envs.mdp.commands.velocity_command:UniformVelocityCommand
    resampling_time_range: !!python/tuple [10.0, 10.0]
    heading_command: true
    ranges:
      lin_vel_x: !!python/tuple [-1.0, 1.0]
      lin_vel_y: !!python/tuple [-0.5, 0.5]
      ang_vel_z: !!python/tuple [-1.0, 1.0]
      heading: !!python/tuple [-3.14159, 3.14159]
"""

#: (term, size, scale, clip, history) as env.yaml above says, in its order.
TERMS = [
    ("base_lin_vel", 3, 2.0, None, 1),
    ("base_ang_vel", 3, 0.25, None, 3),
    ("projected_gravity", 3, 1.0, (-0.8, 0.8), 1),
    ("velocity_commands", 3, np.array([2.0, 2.0, 0.25]), None, 1),
    ("joint_pos", 12, 1.0, None, 2),
    ("joint_vel", 12, 0.05, (-2.0, 2.0), 1),
    ("actions", 12, 1.0, None, 1),
]
OBS_DIM = sum(size * history for _, size, _, _, history in TERMS)


class IsaacLabOracle:
    def __init__(self, network: Path, sdk_names: tuple[str, ...], cell: str, gravity) -> None:
        self.session = ort.InferenceSession(str(network), providers=["CPUExecutionProvider"])
        self.sdk = np.array([sdk_names.index(name) for name in BFS])  # policy joint i -> SDK index
        self.default = np.array([DEFAULT[name] for name in BFS])
        self.clip = np.array([TARGET_CLIP[name.split("_")[1]] for name in BFS])
        self.cell, self.gravity = cell, gravity

    def reset(self) -> None:
        self.buffers: dict[str, list[np.ndarray]] = {}
        self.state = {k: np.zeros((1, 1, 8), np.float32) for k in ("h_in", "c_in")[: {"gru": 1, "lstm": 2}[self.cell]]}
        self.last_action = np.zeros(12)

    def step(self, q, dq, gyro, quat, command, lin_vel):
        values = {
            "base_lin_vel": lin_vel,
            "base_ang_vel": gyro,
            "projected_gravity": self.gravity(quat),
            "velocity_commands": command,
            "joint_pos": q[self.sdk] - self.default,
            "joint_vel": dq[self.sdk],
            "actions": self.last_action,
        }
        parts = []
        for name, _, scale, clip, history in TERMS:
            value = np.asarray(values[name], dtype=np.float64)
            if clip is not None:
                value = np.clip(value, *clip)
            value = value * scale
            buffer = self.buffers.setdefault(name, [value] * history)  # filled with the first frame
            buffer.append(value)
            del buffer[:-history]
            parts.extend(buffer)  # oldest first
        obs = np.concatenate(parts).astype(np.float32)
        names = [o.name for o in self.session.get_outputs()]
        outputs = dict(zip(names, self.session.run(None, {"obs": obs[None], **self.state}), strict=True))
        self.state = {k: outputs[k.replace("_in", "_out")] for k in self.state}
        action = outputs["actions"][0].astype(np.float64)
        self.last_action = action
        target = np.clip(action * 0.25 + self.default, self.clip[:, 0], self.clip[:, 1])
        target_sdk = np.empty(12)
        target_sdk[self.sdk] = target
        return obs, action, target_sdk


def write_run(folder: Path, source_onnx, cell: str) -> Path:
    source_onnx(folder / "exported" / "policy.onnx", OBS_DIM, cell)
    (folder / "params").mkdir(parents=True)
    (folder / "params" / "env.yaml").write_text(ENV_YAML)
    return folder


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_imported_policy_acts_as_isaac_lab_over_240_ticks_with_resets(
    tmp_path: Path, go2, run, source_onnx, drive_controller, gravity, cell: str, assert_follows_oracle
) -> None:
    folder = write_run(tmp_path / "run", source_onnx, cell)
    written = import_policy(folder, "isaaclab", go2, tmp_path / "imported.onnx")
    assert written.description is not None  # kp 25, kd 0.5: the policy's own robot description
    robot = load_robot_description(written.description)
    assert robot.kp.tolist() == [25.0] * 12 and robot.kd.tolist() == [0.5] * 12
    trace = drive_controller(written.model, written.description, run)

    oracle = IsaacLabOracle(folder / "exported" / "policy.onnx", go2.joint_names, cell, gravity)
    assert_follows_oracle(oracle, trace, run, robot, lin_vel=True)
    # the memory matters: without the resets the same run acts differently after tick 100
    assert not np.allclose(trace.actions[100], trace.actions[99], atol=1e-3)


def test_a_term_the_go2_does_not_measure_is_refused(tmp_path: Path, go2, source_onnx) -> None:
    folder = write_run(tmp_path / "run", source_onnx, "gru")
    env = (folder / "params" / "env.yaml").read_text()
    env = env.replace("isaaclab.envs.mdp.observations:base_lin_vel", "isaaclab.envs.mdp.observations:height_scan")
    (folder / "params" / "env.yaml").write_text(env)
    with pytest.raises(PolicyImportError, match=r"observation term base_lin_vel \(.*height_scan\) is not one"):
        import_policy(folder, "isaaclab", go2, tmp_path / "out.onnx")


def test_an_observation_size_that_does_not_match_the_layout_is_refused(tmp_path: Path, go2, source_onnx) -> None:
    folder = write_run(tmp_path / "run", source_onnx, "gru")
    source_onnx(folder / "exported" / "policy.onnx", OBS_DIM + 3, "gru")
    with pytest.raises(PolicyImportError, match=f"network reads {OBS_DIM + 3} observation values; .* has {OBS_DIM}"):
        import_policy(folder, "isaaclab", go2, tmp_path / "out.onnx")


def test_missing_env_yaml_and_unknown_format_are_one_line_refusals(tmp_path: Path, go2, source_onnx) -> None:
    source_onnx(tmp_path / "bare" / "exported" / "policy.onnx", OBS_DIM, "gru")
    with pytest.raises(PolicyImportError, match="params/env.yaml not found"):
        import_policy(tmp_path / "bare", "isaaclab", go2, tmp_path / "out.onnx")
    with pytest.raises(PolicyImportError, match="unknown format 'isaacgym'; known: isaaclab, rsl_rl"):
        import_policy(tmp_path / "bare", "isaacgym", go2, tmp_path / "out.onnx")
