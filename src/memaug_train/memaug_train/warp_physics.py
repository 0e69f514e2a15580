"""MuJoCo Warp as the training environment's physics (``--backend warp``).

VecGo2Env keeps one MjModel per robot and edits it for that robot's dynamics, faults and
payload; the task (observations, rewards, terminations, commands, randomization draws) is the
same code for both backends. This module steps those robots with MuJoCo Warp instead of
mujoco.rollout: the model fields the environment edits per robot become Warp's batched
(per-world) model fields. Only the robots whose model changed since the last control step
(``VecGo2Env.model_changed``: resets, fault starts) are read, and each field gets only their
rows, in one copy and one scatter kernel; the torque envelope's force range comes as one
[N, nu, 2] array. So one control step issues the same device operations for 8 worlds as for
4096 (bench/bench_train.py --device-ops counts them): the substeps run on the device, their
states and sensors are gathered there and come back to the host once per control step, in
mujoco.rollout's shapes. With episodes drawn ahead (memaug_train.episodes_ahead) the robots'
next models are read between rollouts into device-side copies of those fields (``stage``),
and the step swaps a world's rows in when its episode or fault begins (``copy_rows``: one
masked copy per field over every world), so no model is read inside a rollout.

Warp holds some fields once for all worlds (the friction cone, condim, contact affinity): a
robot whose model differs there is refused, naming the field, rather than stepped on the wrong
contact model. Three terms the randomization draws per robot are expressed per world instead:

* impratio: Warp keeps its inverse square root per world;
* soft feet's contact priority: as the per-world solmix weights that give the same contacts
  (memaug_train.warp_contacts);
* rough ground, whose height is drawn per episode: each world gets its own entry in the
  height-field tables (Warp reads a height field through the per-world ``geom_dataid``), all
  entries sharing the one elevation grid, so a world's bump height is exactly its robot's
  ``hfield_size`` z. A robot on flat ground (its height field's contact affinity off) has the
  field lowered out of reach instead, in its world's ``geom_xpos`` (Warp computes a geom
  fixed to the world once, and keeps it per world).

With the task's arrays on the device (EnvConfig.task_arrays "torch"), Warp reads the state,
controls and force range from torch tensors and writes the states and sensors into tensors
there: nothing crosses to the host. With a NumPy task (the parity tests), the state crosses
once each way per control step. On warp's CPU device a step is ~100x slower than C MuJoCo
(bench/bench_train.py --warp-drift): it serves parity tests there.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np

from memaug_common.arrays import namespace
from memaug_common.description import RandomizationRanges
from memaug_train.randomization import CONTACT_MODEL_OFF
from memaug_train.warp_contacts import priority_as_solmix

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
#: The BATCHED fields read from each robot's MjModel; the force range is the torque envelope's,
#: given each step.
FROM_MODELS = tuple(name for name in BATCHED if name != "actuator_forcerange")
#: Fields Warp holds once for all worlds: every robot must keep the first one's.
SHARED = ("geom_condim", "geom_conaffinity")
SHARED_OPTIONS = ("cone",)
#: How far, m, a flat-ground world's height field is lowered: below anything a robot reaches.
GROUND_OUT_OF_REACH_M = 10.0


def warp_ranges(ranges: RandomizationRanges) -> tuple[RandomizationRanges, list[str]]:
    """``ranges`` without the terms MuJoCo Warp cannot vary per world (rich contact's condim and
    the elliptic cones it brings), and the names of those that were on."""
    off = {name: CONTACT_MODEL_OFF[name] for name in ("rich_contact_share", "elliptic_cone_share")}
    dropped = [name for name, value in off.items() if getattr(ranges, name) != value]
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

    def __init__(
        self, template: mujoco.MjModel, num_worlds: int, substeps: int, device: str, lock_equalities: np.ndarray
    ) -> None:
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
        nq, nv, ns = template.nq, template.nv, template.nsensordata
        #: [G] the height-field geoms (rough ground), whose height and reach are per world
        self._ground_geoms = np.flatnonzero(template.geom_type == mujoco.mjtGeom.mjGEOM_HFIELD)
        if template.nhfield > 1:
            raise ValueError("--backend warp: the model has more than one height field; the ground takes one")
        batched = BATCHED + ("geom_solmix",) + (("geom_dataid",) if len(self._ground_geoms) else ())
        with wp.ScopedDevice(device):
            self._model = mjw.put_model(template, batch_sizes=dict.fromkeys(batched, num_worlds))
            # The Newton solver's linesearch cap warns on each step it is reached; the parity
            # test and the drift benchmark measure what it costs.
            self._model.opt.warn_overflow = 0
            # Priorities become per-world solmix weights (memaug_train.warp_contacts), and
            # impratio is per world.
            self._model.geom_priority.zero_()
            self._model.opt.impratio_invsqrt = wp.array(
                np.full(num_worlds, 1 / np.sqrt(template.opt.impratio)), dtype=float
            )
            # A foot on a height field meets it as several prisms: room for their contacts.
            rough = len(self._ground_geoms) > 0
            self._data = mjw.put_data(
                template, data, nworld=num_worlds, nconmax=64 if rough else 32, njmax=256 if rough else 128
            )
            # Each substep's state and sensors, gathered on the device: one copy back per call.
            self._time_seq = wp.zeros((substeps, num_worlds), dtype=float)
            self._qpos_seq = wp.zeros((substeps, num_worlds, nq), dtype=float)
            self._qvel_seq = wp.zeros((substeps, num_worlds, nv), dtype=float)
            self._sensor_seq = wp.zeros((substeps, num_worlds, ns), dtype=float)
            self._ctrl_seq = wp.zeros((substeps, num_worlds, template.nu), dtype=float)
            #: [J] the equality that locks each joint (``lock_equalities``), and [N, J] rad the
            #: angles the locks hold, assigned each step from the task's array
            self._lock_equalities: Any = wp.array(np.asarray(lock_equalities, dtype=np.int32), dtype=int)
            self._lock_angle: Any = wp.zeros((num_worlds, len(lock_equalities)), dtype=float)
        self._shared = {name: getattr(template, name).copy() for name in SHARED}
        if len(self._ground_geoms):
            self._per_world_height_field(template, num_worlds)
        #: The fields each world steps with, and device-side copies of them (``stage``)
        self._live = self._per_world_fields()
        self._slots: dict[str, dict[str, Any]] = {}
        with wp.ScopedDevice(device):
            self._copy_mask: Any = wp.zeros(num_worlds, dtype=int)  # copy_rows's worlds, [N] 0/1
        #: What a NumPy task gets back ([N, substeps, S] states, [N, substeps, nsensordata]
        #: sensors), and a torch task's views of the gathered sequences: each made on first use.
        self._host_out: tuple[np.ndarray, np.ndarray] | None = None
        self._torch_views: tuple[Any, ...] | None = None
        self._stream: Any = None
        self._qpos = slice(1, 1 + nq)
        self._qvel = slice(1 + nq, 1 + nq + nv)
        self.state_size = 1 + nq + nv
        if mujoco.mj_stateSize(template, mujoco.mjtState.mjSTATE_FULLPHYSICS) != self.state_size:
            raise ValueError("--backend warp: the model has state besides time, qpos and qvel (actuator activations?)")
        # The model and data were uploaded on Warp's stream; rollouts may run on torch's.
        wp.synchronize_device(device)

    def rollout(
        self,
        models: Sequence[mujoco.MjModel],
        changed: np.ndarray,
        force_range: Any,
        lock_angle: Any,
        state: Any,
        control: Any,
    ) -> tuple[Any, Any]:
        """mujoco.rollout's contract for VecGo2Env: from full-physics ``state`` [N, S] under
        ``control`` [N, substeps, nu] and actuator ``force_range`` [N, nu, 2], the states
        [N, substeps, S] and sensors [N, substeps, nsensordata] (sensors of the state each
        physics step began from), float64. The robots flagged in ``changed`` [N] bool (host)
        have their models read, and the flags are cleared. ``lock_angle`` [N, J] rad is the
        angle each joint's lock holds where the model has it active: it is taken from here,
        not from the models, so that a lock's start needs no state on the host.

        The arrays are NumPy (they cross to the device and back once each) or torch tensors on
        this device (Warp reads and writes them there: nothing crosses)."""
        wp, mjw = self._wp, self._mjw
        xp = namespace(state)
        with wp.ScopedDevice(self.device), self._torch_stream(xp):
            rows = np.flatnonzero(changed)
            if len(rows):
                self._take_models(models, rows.astype(np.int32))
                changed[:] = False
            # Straight from the task's array into the field: no device array made per step.
            self._assign(xp, self._model.actuator_forcerange, force_range)
            self._hold_locks(xp, lock_angle)
            data = self._data
            self._assign(xp, data.time, state[:, 0])
            self._assign(xp, data.qpos, state[:, self._qpos])
            self._assign(xp, data.qvel, state[:, self._qvel])
            # Warp carries each world's solver warmstart from its last step: one whose physics
            # failed (a non-finite state, which ends its episode) would carry it into the next.
            wp.launch(_finite_warmstart_kernel(), dim=data.qacc_warmstart.shape[0], inputs=[data.qacc_warmstart])
            self._assign(xp, self._ctrl_seq, xp.permute_dims(control, (1, 0, 2)))
            for k in range(self.substeps):
                wp.copy(data.ctrl, self._ctrl_seq[k])
                mjw.step(self._model, data)
                wp.copy(self._time_seq[k], data.time)
                wp.copy(self._qpos_seq[k], data.qpos)
                wp.copy(self._qvel_seq[k], data.qvel)
                wp.copy(self._sensor_seq[k], data.sensordata)
            if xp is np:
                if self._host_out is None:
                    worlds, substeps = self._qpos_seq.shape[1], self.substeps
                    sensors = self._sensor_seq.shape[2]
                    self._host_out = (
                        np.zeros((worlds, substeps, self.state_size)),
                        np.zeros((worlds, substeps, sensors)),
                    )
                states_out, sensors_out = self._host_out
                states_out[:, :, 0] = self._time_seq.numpy().T
                states_out[:, :, self._qpos] = self._qpos_seq.numpy().transpose(1, 0, 2)
                states_out[:, :, self._qvel] = self._qvel_seq.numpy().transpose(1, 0, 2)
                sensors_out[:] = self._sensor_seq.numpy().transpose(1, 0, 2)
                return states_out, sensors_out
            if self._torch_views is None:
                sequences = (self._time_seq, self._qpos_seq, self._qvel_seq, self._sensor_seq)
                self._torch_views = tuple(wp.to_torch(seq) for seq in sequences)
            # [substeps, N, ...] -> [N, substeps, ...], float64 copies of the views
            time, qpos, qvel, sensors = (
                xp.permute_dims(view.to(xp.float64), (1, 0) if view.ndim == 2 else (1, 0, 2))
                for view in self._torch_views
            )
            return xp.concat([time[:, :, None], qpos, qvel], axis=2), sensors

    def _torch_stream(self, xp: Any) -> Any:
        """With torch tensors on a GPU, Warp's work goes on torch's current stream there, so
        it is ordered after the torch ops that wrote its inputs and before those that read its
        outputs (Warp's own stream would race them); otherwise nothing."""
        if xp is np or not self._wp.get_device(self.device).is_cuda:
            return contextlib.nullcontext()
        if self._stream is None:
            self._stream = self._wp.stream_from_torch(self.device)
        return self._wp.ScopedStream(self._stream)

    def _assign(self, xp: Any, field: Any, values: Any, dtype: Any = np.float32) -> None:
        """``field[...] = values`` (elements of ``dtype``, float32 unless said, or vectors of
        them): from a host NumPy array (one transfer to the device), or from a Warp view of a
        torch tensor on this device (a copy there)."""
        if xp is np:
            field.assign(np.ascontiguousarray(values, dtype=dtype))
        else:
            typed = xp.astype(values, getattr(xp, np.dtype(dtype).name)).contiguous()
            field.assign(self._wp.from_torch(typed, dtype=field.dtype))

    def _hold_locks(self, xp: Any, lock_angle: Any) -> None:
        """Each world's lock equalities hold ``lock_angle`` [N, J] rad (eq_data's first entry):
        the angles into a device array as every per-step input comes (``_assign``), then one kernel."""
        self._assign(xp, self._lock_angle, lock_angle)
        self._wp.launch(
            _lock_kernel(),
            dim=self._lock_angle.shape,
            inputs=[self._lock_angle, self._lock_equalities, self._model.eq_data],
        )

    def _per_world_height_field(self, template: mujoco.MjModel, num_worlds: int) -> None:
        """Give world w its own height-field entry w (size, grid shape, and the address of the
        one elevation grid they all share), reached through its ``geom_dataid``."""
        wp, model = self._wp, self._model
        for name, dtype in (("hfield_nrow", int), ("hfield_ncol", int), ("hfield_adr", int)):
            setattr(model, name, wp.array(np.repeat(getattr(template, name), num_worlds), dtype=dtype))
        model.hfield_size = wp.array(np.repeat(template.hfield_size, num_worlds, 0).astype(np.float32), dtype=wp.vec4)
        #: [ngeom, 3] m, every geom's world position as put_data left it: the fixed geoms' (the
        #: height field's among them) are only ever set from this, as Warp does not recompute them.
        self._fixed_xpos = self._data.geom_xpos.numpy()[0].copy()  # numpy() is a view on a CPU device
        dataid = np.repeat(template.geom_dataid[None], num_worlds, 0).astype(np.int32)
        dataid[:, self._ground_geoms] = np.arange(num_worlds)[:, None]
        model.geom_dataid.assign(wp.array(dataid, dtype=int))

    def _per_world_fields(self) -> dict[str, Any]:
        """Every field a robot's MjModel sets per world, by name: FROM_MODELS, the contact terms,
        the locks' on/off, and on rough ground its height and reach."""
        model, data = self._model, self._data
        fields = {name: getattr(model, name) for name in FROM_MODELS}
        fields |= {"geom_solmix": model.geom_solmix, "impratio_invsqrt": model.opt.impratio_invsqrt}
        fields["eq_active"] = data.eq_active
        if len(self._ground_geoms):
            fields |= {"hfield_size": model.hfield_size, "geom_xpos": data.geom_xpos}
        return fields

    def _rows_of(self, models: Sequence[mujoco.MjModel], rows: np.ndarray) -> dict[str, np.ndarray]:
        """The per-world fields' rows [K, ...] of the robots ``rows``, from their models: what
        ``_per_world_fields`` names, in Warp's terms (priorities as solmix weights, impratio's
        inverse square root, a flat robot's height field out of reach)."""
        values = {name: np.array([getattr(models[i], name) for i in rows]) for name in FROM_MODELS}
        values["geom_solmix"] = np.array([priority_as_solmix(models[i], int(i)) for i in rows])
        impratio = np.array([models[i].opt.impratio for i in rows])
        values["impratio_invsqrt"] = 1 / np.sqrt(np.maximum(impratio, mujoco.mjMINVAL))
        values["eq_active"] = np.array([models[i].eq_active0 for i in rows], dtype=bool)
        if len(self._ground_geoms):
            ground = self._ground_geoms
            off = np.array([models[i].geom_conaffinity[ground] == 0 for i in rows])  # [K, G]
            xpos = np.repeat(self._fixed_xpos[None], len(rows), 0)
            xpos[:, ground, 2] -= np.where(off, GROUND_OUT_OF_REACH_M, 0.0)
            values["hfield_size"] = np.array([models[i].hfield_size[0] for i in rows])
            values["geom_xpos"] = xpos
        return values

    def _take_models(self, models: Sequence[mujoco.MjModel], rows: np.ndarray) -> None:
        """Copy the per-world fields of the robots ``rows`` from their models to the device."""
        self._write_rows(models, rows, self._live)

    def stage(self, slot: str, models: Sequence[mujoco.MjModel], rows: np.ndarray) -> None:
        """Keep the per-world fields of the robots ``rows`` [K] (host indices), from their models,
        in the device-side ``slot`` (any name), to be copied into the stepped worlds later by
        ``copy_rows`` without the host. Between rollouts: it waits for its writes to finish, so
        the step's copies (on torch's stream, where the task's arrays are on a GPU) see them."""
        with self._wp.ScopedDevice(self.device):
            self._write_rows(models, rows, self._slot(slot))
            self._wp.synchronize_device(self.device)

    def copy_rows(self, where: Any, source: str, target: str = "live") -> None:
        """Where ``where`` [N] (bool, the task's array) is true, the worlds' per-world fields in
        ``target`` ("live": the fields the worlds step with; or a slot) become ``source``'s
        (a slot): one kernel per field, whatever N and however many are true."""
        wp = self._wp
        xp = namespace(where)
        with wp.ScopedDevice(self.device), self._torch_stream(xp):
            mask = self._copy_mask
            self._assign(xp, mask, where, dtype=np.int32)
            into = self._live if target == "live" else self._slot(target)
            for name, values in self._slot(source).items():
                field = into[name]
                kernel = _masked_copy_kernels()[field.ndim - 1]
                wp.launch(kernel, dim=field.shape, inputs=[mask, values, field])

    def _slot(self, name: str) -> dict[str, Any]:
        """The device-side copy of the per-world fields called ``name``, made (zeros) on first use."""
        if name not in self._slots:
            with self._wp.ScopedDevice(self.device):
                self._slots[name] = {field: self._wp.zeros_like(values) for field, values in self._live.items()}
        return self._slots[name]

    def _write_rows(self, models: Sequence[mujoco.MjModel], rows: np.ndarray, fields: dict[str, Any]) -> None:
        self._check_shared(models, rows)
        on_device = self._to_device(rows.astype(np.int32), (len(rows),), int)
        for name, values in self._rows_of(models, rows).items():
            self._send_rows(fields[name], values, on_device)

    def _send_rows(self, field: Any, rows_values: np.ndarray, rows: Any) -> None:
        """Write ``rows_values`` [K, ...] into rows ``rows`` [K] (on the device) of the per-world
        ``field`` [N, ...]: one copy to the device and one kernel, whatever N is."""
        element = np.bool_ if field.dtype is self._wp.bool else np.float32
        values = self._to_device(
            rows_values.astype(element, copy=False), (len(rows_values), *field.shape[1:]), field.dtype
        )
        kernel, dim = (_scatter_kernels()[field.ndim - 1], (len(rows_values), *field.shape[1:]))
        self._wp.launch(kernel, dim=dim, inputs=[values, rows, field])

    def _to_device(self, values: np.ndarray, shape: tuple[int, ...], dtype: Any) -> Any:
        """``values`` in a new device array of ``shape`` (element type ``dtype``), by one
        ``assign``: the call bench_train --device-ops counts as a transfer to the device."""
        array = self._wp.empty(shape, dtype=dtype)
        array.assign(values)
        return array

    def _shared_field(self, model: mujoco.MjModel, name: str) -> np.ndarray:
        """``model``'s SHARED field ``name`` as Warp holds it: the height field's contact
        affinity always the template's (its on/off is per world: _rows_of lowers it out of reach)."""
        value = getattr(model, name)
        if name == "geom_conaffinity" and len(self._ground_geoms):
            value = value.copy()
            value[self._ground_geoms] = self._template.geom_conaffinity[self._ground_geoms]
        return value

    def _check_shared(self, models: Sequence[mujoco.MjModel], rows: np.ndarray) -> None:
        """Warp's one copy of each SHARED field: when every robot is read (the first step) it
        takes their value if they all agree; later a changed robot must keep it. A robot that
        differs, or a friction cone other than the model's, is refused."""
        every = len(rows) == len(models)
        for name in SHARED:
            expected = self._shared_field(models[rows[0]], name) if every else self._shared[name]
            for i in rows:
                if not np.array_equal(self._shared_field(models[i], name), expected):
                    raise ValueError(
                        f"robot {i}: its {name} differs from the other robots', and MuJoCo Warp holds one for all"
                    )
            if every and not np.array_equal(expected, self._shared[name]):
                field = getattr(self._model, name)
                field.assign(self._wp.array(expected.astype(field.numpy().dtype), dtype=field.dtype))
                self._shared[name] = expected.copy()
        for i in rows:
            for name in SHARED_OPTIONS:
                if getattr(models[i].opt, name) != getattr(self._template.opt, name):
                    raise ValueError(f"robot {i}: its opt.{name} differs from the model's, and MuJoCo Warp holds one")


@functools.cache
def _scatter_kernels() -> tuple[Any, Any]:
    """Warp kernels that write rows of values into given rows of a per-world field, for fields
    of one and of two dimensions (any element type: float, vec3, vec10 ...). Built on first use,
    so that importing this module needs no Warp."""
    import warp as wp

    @wp.kernel
    def scatter_1d(values: wp.array(dtype=Any), rows: wp.array(dtype=int), field: wp.array(dtype=Any)):  # type: ignore[valid-type]
        i = wp.tid()
        field[rows[i]] = values[i]

    @wp.kernel
    def scatter_2d(values: wp.array2d(dtype=Any), rows: wp.array(dtype=int), field: wp.array2d(dtype=Any)):  # type: ignore[valid-type]
        i, j = wp.tid()  # type: ignore[misc]  # a 2-d launch's thread index
        field[rows[i], j] = values[i, j]

    return scatter_1d, scatter_2d


@functools.cache
def _lock_kernel() -> Any:
    """A Warp kernel that sets the first datum (the held angle) of each joint's lock equality
    in each world's eq_data. Built on first use, so that importing this module needs no Warp."""
    import warp as wp

    @wp.kernel
    def hold(angle: wp.array2d(dtype=float), equality: wp.array(dtype=int), eq_data: wp.array2d(dtype=Any)):  # type: ignore[valid-type]
        world, joint = wp.tid()  # type: ignore[misc]  # a 2-d launch's thread index
        data = eq_data[world, equality[joint]]
        data[0] = angle[world, joint]
        eq_data[world, equality[joint]] = data

    return hold


@functools.cache
def _masked_copy_kernels() -> tuple[Any, Any]:
    """Warp kernels that copy the rows of a per-world field (one and two dimensions) from a
    source into a target wherever an [N] int mask is non-zero. Built on first use."""
    import warp as wp

    @wp.kernel
    def copy_1d(mask: wp.array(dtype=int), source: wp.array(dtype=Any), target: wp.array(dtype=Any)):  # type: ignore[valid-type]
        world = wp.tid()
        if mask[world] != 0:
            target[world] = source[world]

    @wp.kernel
    def copy_2d(mask: wp.array(dtype=int), source: wp.array2d(dtype=Any), target: wp.array2d(dtype=Any)):  # type: ignore[valid-type]
        world, j = wp.tid()  # type: ignore[misc]  # a 2-d launch's thread index
        if mask[world] != 0:
            target[world, j] = source[world, j]

    return copy_1d, copy_2d


@functools.cache
def _finite_warmstart_kernel() -> Any:
    """A Warp kernel that zeroes a world's warmstart accelerations [nworld, nv] where any is not
    finite, and leaves the others as they are. Built on first use."""
    import warp as wp

    @wp.kernel
    def finite(warmstart: wp.array2d(dtype=float)):  # type: ignore[valid-type]
        world = wp.tid()
        for dof in range(warmstart.shape[1]):
            if not wp.isfinite(warmstart[world, dof]):
                for j in range(warmstart.shape[1]):
                    warmstart[world, j] = 0.0
                return

    return finite
