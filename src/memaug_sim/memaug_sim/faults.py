"""Fault injection: the task family of the method (a failed joint, payload, friction).

A fault edits the MjModel/MjData pair it is applied to, so it acts identically whether the
sim bridge computes torques in Python or the training environment steps position actuators
in C. ``FaultInjector.clear`` restores the nominal model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import mujoco
import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from memaug_common.description import RobotDescription
from memaug_sim.model import ModelIndex


class _FaultBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimpFault(_FaultBase):
    """The joint's motor produces no torque (a cut power line, a burnt driver)."""

    kind: Literal["limp"]
    joint: str


class LockedFault(_FaultBase):
    """The joint holds the position it had when the fault began (a jammed gearbox)."""

    kind: Literal["locked"]
    joint: str


class WeakenedFault(_FaultBase):
    """The joint's torque, and its torque limit, are scaled by ``factor`` in [0, 1]."""

    kind: Literal["weakened"]
    joint: str
    factor: float = Field(ge=0.0, le=1.0)


class PayloadFault(_FaultBase):
    """Extra mass, kg, carried at the base's centre of mass."""

    kind: Literal["payload"]
    mass_kg: float = Field(ge=0.0, le=50.0)


class FrictionFault(_FaultBase):
    """Every contact's sliding friction is scaled by ``scale``."""

    kind: Literal["friction"]
    scale: float = Field(gt=0.0, le=5.0)


Fault = Annotated[LimpFault | LockedFault | WeakenedFault | PayloadFault | FrictionFault, Field(discriminator="kind")]
FAULT_ADAPTER: pydantic.TypeAdapter[Fault] = pydantic.TypeAdapter(Fault)
JOINT_FAULTS = (LimpFault, LockedFault, WeakenedFault)


def parse_fault(text: str) -> Fault | None:
    """Parse the compact form used by the node's ``fault`` parameter.

    ``none`` (or empty) -> None; ``limp:JOINT``; ``locked:JOINT``; ``weakened:JOINT:FACTOR``;
    ``payload:KG``; ``friction:SCALE``. Raises ValueError naming what is wrong.
    """
    parts = [p.strip() for p in text.split(":")] if text.strip() else ["none"]
    kind, args = parts[0], parts[1:]
    fields: dict[str, list[str]] = {
        "none": [],
        "limp": ["joint"],
        "locked": ["joint"],
        "weakened": ["joint", "factor"],
        "payload": ["mass_kg"],
        "friction": ["scale"],
    }
    if kind not in fields:
        raise ValueError(f"fault {text!r}: unknown kind {kind!r}; one of {sorted(fields)}")
    if len(args) != len(fields[kind]):
        raise ValueError(f"fault {text!r}: {kind} takes {':'.join([kind, *fields[kind]])}")
    if kind == "none":
        return None
    try:
        return FAULT_ADAPTER.validate_python({"kind": kind, **dict(zip(fields[kind], args, strict=True))})
    except pydantic.ValidationError as exc:
        raise ValueError(f"fault {text!r}: {exc.errors()[0]['msg']}") from exc


def check_fault(fault: Fault, description: RobotDescription) -> None:
    """Raise ValueError if ``fault`` names a joint the robot does not have."""
    if isinstance(fault, JOINT_FAULTS):
        description.joint_index(fault.joint)


@dataclass(frozen=True)
class FaultEvent:
    """A fault as it began: what, and the sim time, s."""

    fault: Fault
    sim_time_s: float


class FaultInjector:
    """Applies faults to one (model, data) pair and restores the nominal model."""

    def __init__(self, model: mujoco.MjModel, index: ModelIndex, description: RobotDescription) -> None:
        self._model = model
        self._index = index
        self._description = description
        self._nominal_gain = model.actuator_gainprm.copy()
        self._nominal_bias = model.actuator_biasprm.copy()
        self._nominal_forcerange = model.actuator_forcerange.copy()
        self._nominal_mass = model.body_mass.copy()
        self._nominal_friction = model.geom_friction.copy()
        #: [J] fraction of each motor's torque the faults leave (limp 0, weakened its factor).
        self.torque_factor = np.ones(description.num_joints)
        self.events: list[FaultEvent] = []

    def apply(self, fault: Fault, data: mujoco.MjData) -> FaultEvent:
        """Start ``fault`` now (at data.time); faults accumulate until ``clear``.

        Each fault scales or adds to the model's *current* values, so it composes with
        dynamics randomization applied before it (a weakened joint keeps its randomized gain's
        fraction; a payload adds to a randomized base mass).
        """
        check_fault(fault, self._description)
        model, index = self._model, self._index
        if isinstance(fault, LimpFault | WeakenedFault):
            factor = 0.0 if isinstance(fault, LimpFault) else fault.factor
            joint = self._description.joint_index(fault.joint)
            actuator = index.actuators[joint]
            model.actuator_gainprm[actuator] *= factor
            model.actuator_biasprm[actuator] *= factor
            model.actuator_forcerange[actuator] *= factor
            self.torque_factor[joint] *= factor
        elif isinstance(fault, LockedFault):
            joint = self._description.joint_index(fault.joint)
            equality = index.lock_equalities[joint]
            model.eq_data[equality, :5] = 0.0
            model.eq_data[equality, 0] = data.qpos[index.qpos[joint]]
            data.eq_active[equality] = True
            # Also in the model, so the lock survives mj_resetData (mujoco.rollout resets its data).
            model.eq_active0[equality] = True
        else:
            self._apply_to_bodies(fault)
        event = FaultEvent(fault=fault, sim_time_s=float(data.time))
        self.events.append(event)
        return event

    def _apply_to_bodies(self, fault: PayloadFault | FrictionFault) -> None:
        if isinstance(fault, PayloadFault):
            self._model.body_mass[self._index.base_body] += fault.mass_kg
        else:
            self._model.geom_friction[:, 0] *= fault.scale

    def reapply_body_faults(self) -> None:
        """Add the active payload and friction faults again, after something rewrote the
        model's masses and friction (new dynamics)."""
        for event in self.events:
            if isinstance(event.fault, PayloadFault | FrictionFault):
                self._apply_to_bodies(event.fault)

    def clear(self, data: mujoco.MjData) -> None:
        """Remove every fault: nominal actuators, masses and friction; no joint locked."""
        model = self._model
        model.actuator_gainprm[:] = self._nominal_gain
        model.actuator_biasprm[:] = self._nominal_bias
        model.actuator_forcerange[:] = self._nominal_forcerange
        model.body_mass[:] = self._nominal_mass
        model.geom_friction[:] = self._nominal_friction
        data.eq_active[self._index.lock_equalities] = False
        model.eq_active0[self._index.lock_equalities] = False
        self.torque_factor[:] = 1.0
        self.events.clear()

    @property
    def active(self) -> tuple[FaultEvent, ...]:
        return tuple(self.events)


def fault_label(fault: Fault) -> str:
    """Short human-readable form, the inverse of parse_fault."""
    if isinstance(fault, WeakenedFault):
        return f"weakened:{fault.joint}:{fault.factor:g}"
    if isinstance(fault, LimpFault | LockedFault):
        return f"{fault.kind}:{fault.joint}"
    if isinstance(fault, PayloadFault):
        return f"payload:{fault.mass_kg:g}"
    return f"friction:{fault.scale:g}"


def lock_target(model: mujoco.MjModel, index: ModelIndex) -> np.ndarray:
    """Position each lock equality holds, rad, [num_joints] (meaningful only where active)."""
    return model.eq_data[index.lock_equalities, 0].copy()
