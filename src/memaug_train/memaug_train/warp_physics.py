"""MuJoCo Warp as the training environment's physics (``--backend warp``).

VecGo2Env keeps one MjModel per robot and edits it for that robot's dynamics, faults, payload
and torque envelope; the task (observations, rewards, terminations, commands, randomization
draws) is the same code for both backends. This module steps those robots with MuJoCo Warp
instead of mujoco.rollout: the model fields the environment edits per robot become Warp's
batched (per-world) model fields, copied from the robots' MjModels before every control step,
and the full-physics state (time, qpos, qvel) and sensors come back in mujoco.rollout's shapes.

Warp holds some fields once for all worlds (the friction cone, condim, contact priority and
affinity, the height field's size): a robot whose model differs there is refused, naming the
field, rather than stepped on the wrong contact model.

The arrays cross between host and device every control step, so this serves parity and small
runs, not GPU throughput; on warp's CPU device it is ~100x slower than C MuJoCo
(bench/bench_train.py --warp-drift).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence

import mujoco
import numpy as np

from memaug_common.description import RandomizationRanges
from memaug_train.randomization import CONTACT_MODEL_OFF

#: Model fields VecGo2Env changes per robot (memaug_sim.dynamics, memaug_sim.faults, the
#: torque envelope), held per world by Warp.
BATCHED = (
    "dof_damping",
    "dof_frictionloss",
    "dof_armature",
    "body_mass",
    "body_ipos",
    "body_inertia",
    "geom_friction",
    "geom_solref",
    "actuator_gainprm",
    "actuator_biasprm",
    "actuator_forcerange",
    "eq_data",
)
#: Fields Warp holds once for all worlds: every robot must keep the first one's.
SHARED = ("geom_condim", "geom_priority", "geom_conaffinity", "hfield_size")
SHARED_OPTIONS = ("cone", "impratio")


def warp_ranges(ranges: RandomizationRanges) -> tuple[RandomizationRanges, list[str]]:
    """``ranges`` without the terms MuJoCo Warp cannot vary per world (the contact model: rich
    contact's condim, elliptic cones, impratio, soft feet's contact priority; rough ground's
    height field), and the names of those that were on."""
    off = {**CONTACT_MODEL_OFF, "rough_ground_m": (0.0, 0.0)}
    dropped = [name for name, value in off.items() if getattr(ranges, name) != value]
    if ranges.rough_ground_m[1] == 0.0 and "rough_ground_m" in dropped:
        dropped.remove("rough_ground_m")
    return ranges.model_copy(update=off), dropped


def unavailable() -> str | None:
    """What is missing for this backend, or None when mujoco-warp and warp-lang are installed."""
    packages = (("mujoco-warp", "mujoco_warp"), ("warp-lang", "warp"))
    missing = [package for package, module in packages if importlib.util.find_spec(module) is None]
    if not missing:
        return None
    return f"{' and '.join(missing)} not installed here (pip install -e 'src/memaug_train[gpu]')"


class WarpRollout:
    """Steps ``num_worlds`` copies of ``template`` (each with its own batched fields) on
    ``device`` ("cpu", "cuda", "cuda:N") for ``substeps`` physics steps per call."""

    def __init__(self, template: mujoco.MjModel, num_worlds: int, substeps: int, device: str) -> None:
        import warp as wp

        wp.config.log_level = wp.LOG_WARNING  # one line of ours below, not one per kernel module
        wp.init()
        import mujoco_warp as mjw

        self._wp, self._mjw = wp, mjw
        self.device = device
        self.substeps = substeps
        self._template = template
        cache = wp.config.kernel_cache_dir
        if os.environ.get("RANK", "0") == "0":  # under torchrun, one line for the run
            print(
                f"MuJoCo Warp on {device}: its kernels compile on the first step (about 40 s on a CPU the first "
                f"time; then loaded from {cache})",
                file=sys.stderr,
                flush=True,
            )
        data = mujoco.MjData(template)
        mujoco.mj_forward(template, data)
        with wp.ScopedDevice(device):
            self._model = mjw.put_model(template, batch_sizes=dict.fromkeys(BATCHED, num_worlds))
            # The Newton solver's linesearch cap warns on each step it is reached; the parity
            # test and the drift benchmark measure what it costs.
            self._model.opt.warn_overflow = 0
            self._data = mjw.put_data(template, data, nworld=num_worlds, nconmax=32, njmax=128)
        self._shared = {name: getattr(template, name).copy() for name in SHARED}
        nq, nv = template.nq, template.nv
        self._qpos = slice(1, 1 + nq)
        self._qvel = slice(1 + nq, 1 + nq + nv)
        self.state_size = 1 + nq + nv
        if mujoco.mj_stateSize(template, mujoco.mjtState.mjSTATE_FULLPHYSICS) != self.state_size:
            raise ValueError("--backend warp: the model has state besides time, qpos and qvel (actuator activations?)")

    def rollout(
        self,
        models: Sequence[mujoco.MjModel],
        state: np.ndarray,
        control: np.ndarray,
        states_out: np.ndarray,
        sensors_out: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """mujoco.rollout's contract for VecGo2Env: from full-physics ``state`` [N, S] under
        ``control`` [N, substeps, nu], fill ``states_out`` [N, substeps, S] and ``sensors_out``
        [N, substeps, nsensordata] (sensors of the state each physics step began from)."""
        wp, mjw = self._wp, self._mjw
        self._check_shared(models)
        with wp.ScopedDevice(self.device):
            for name in BATCHED:
                field = getattr(self._model, name)
                values = np.stack([getattr(m, name) for m in models]).astype(np.float32)
                field.assign(wp.array(values, dtype=field.dtype))
            data = self._data
            data.eq_active.assign(np.stack([m.eq_active0 for m in models]).astype(bool))
            data.time.assign(state[:, 0].astype(np.float32))
            data.qpos.assign(state[:, self._qpos].astype(np.float32))
            data.qvel.assign(state[:, self._qvel].astype(np.float32))
            for k in range(self.substeps):
                data.ctrl.assign(control[:, k].astype(np.float32))
                mjw.step(self._model, data)
                states_out[:, k, 0] = data.time.numpy()
                states_out[:, k, self._qpos] = data.qpos.numpy()
                states_out[:, k, self._qvel] = data.qvel.numpy()
                sensors_out[:, k] = data.sensordata.numpy()
        return states_out, sensors_out

    def _check_shared(self, models: Sequence[mujoco.MjModel]) -> None:
        """Warp's one copy of each SHARED field takes the robots' value when they all agree
        (ground friction's contact priority is the same on every randomized robot); robots
        that disagree, or a friction cone or impratio other than the model's, are refused."""
        first = models[0]
        for i, model in enumerate(models):
            for name in SHARED:
                if not np.array_equal(getattr(model, name), getattr(first, name)):
                    raise ValueError(f"robot {i}: its {name} differs from robot 0's, and MuJoCo Warp holds one for all")
            for name in SHARED_OPTIONS:
                if getattr(model.opt, name) != getattr(self._template.opt, name):
                    raise ValueError(f"robot {i}: its opt.{name} differs from the model's, and MuJoCo Warp holds one")
        for name in SHARED:
            value = getattr(first, name)
            if not np.array_equal(value, self._shared[name]):
                field = getattr(self._model, name)
                field.assign(self._wp.array(value.astype(field.numpy().dtype), dtype=field.dtype))
                self._shared[name] = value.copy()
