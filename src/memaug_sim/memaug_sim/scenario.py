"""Fault scenarios: config/scenarios/NAME.yaml, a schedule of faults in sim time."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from memaug_common.description import RobotDescription
from memaug_common.errors import ConfigError
from memaug_common.paths import resolve_config_file
from memaug_common.yaml_io import load_yaml_model
from memaug_sim.dynamics import NOMINAL, Dynamics
from memaug_sim.faults import Fault, check_fault
from memaug_sim.terrain import FLAT, Terrain


class ScheduledFault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at_s: float = Field(ge=0.0, description="sim time the fault begins, s")
    fault: Fault


class Scenario(BaseModel):
    """A named list of faults, each starting at a sim time, on a robot with ``dynamics`` away
    from its nominal model and on ``terrain`` (so a robustness-suite point replays through the
    real stack)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    dynamics: Dynamics = NOMINAL
    terrain: Terrain = FLAT
    events: list[ScheduledFault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sorted(self) -> Scenario:
        times = [e.at_s for e in self.events]
        if times != sorted(times):
            raise ValueError(f"events must be in time order, got at_s = {times}")
        return self


NO_SCENARIO = Scenario(name="none")


def load_scenario(name_or_path: str | Path, description: RobotDescription) -> Scenario:
    """Load a scenario by name (config/scenarios/NAME.yaml) or path; ``none`` is no fault.

    Raises ConfigError naming the file and field, including joints the robot lacks.
    """
    if str(name_or_path) in ("", "none"):
        return NO_SCENARIO
    path = resolve_config_file(name_or_path, "scenarios")
    scenario = load_yaml_model(path, Scenario, "scenario")
    for i, event in enumerate(scenario.events):
        try:
            check_fault(event.fault, description)
        except ValueError as exc:
            raise ConfigError(f"invalid scenario {path}:\n  events.{i}.fault.joint: {exc}") from exc
    return scenario


class ScenarioClock:
    """Hands out each scheduled fault once, when sim time reaches it."""

    def __init__(self, scenario: Scenario) -> None:
        self._pending = list(scenario.events)

    def due(self, sim_time_s: float) -> list[Fault]:
        """Faults whose start time has come, in order; each is returned once."""
        ready = [e.fault for e in self._pending if e.at_s <= sim_time_s + 1e-9]
        self._pending = self._pending[len(ready) :]
        return ready
