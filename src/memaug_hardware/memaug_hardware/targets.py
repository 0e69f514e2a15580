"""Targets: what the Go2 bridge talks to, as data (config/targets/NAME.yaml). ROS-free.

A target is a real Go2, Unitree's own MuJoCo simulator or memaug's emulator: its DDS domain
and interface, its CRC and motion-switcher policies, and the thresholds `memaug robot
--check` judges it by. `memaug robot --target NAME` and robot.launch.py `target:=NAME` apply
one; any bridge parameter can be set on top (``--bridge-param name=value``), checked against
the bridge's declared parameters (memaug_hardware.params).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memaug_common.errors import ConfigError
from memaug_common.params import ParamValue
from memaug_common.paths import resolve_config_file
from memaug_common.yaml_io import load_yaml_model
from memaug_hardware.params import BRIDGE_PARAMETERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PreflightThresholds(_Strict):
    """What `memaug robot --check` requires of the target's rt/lowstate."""

    min_rate_hz: float = Field(gt=0.0, description="rt/lowstate rate below this is a problem, Hz")
    min_battery_percent: int | None = Field(ge=0, le=100, description="None: the target reports no battery")
    max_motor_temp_c: float | None = Field(gt=0.0, description="None: the target reports no temperatures")
    max_tilt_deg: float = Field(gt=0.0, le=90.0, description="tilt from upright above which arming is refused")


class Target(_Strict):
    description: str
    #: robot: hardware; simulator: someone else's, started by the user; emulator: memaug's, started by the run.
    kind: Literal["robot", "simulator", "emulator"]
    network_interface: str = Field(min_length=1)
    #: None (emulator only): the run's own domain, its ROS domain + 100.
    dds_domain_id: int | None = Field(ge=0, le=232)
    lowstate_crc: Literal["strict", "ignore"]
    motion_switcher: Literal["check", "release", "skip"]
    preflight: PreflightThresholds
    #: Further bridge parameters (memaug_hardware.params), e.g. state_timeout_s.
    bridge: dict[str, ParamValue] = Field(default_factory=dict)
    #: Emulator only: SCHED_FIFO priority of the emulator process (0: normal), which stands in
    #: for the robot's own computer, so that a loaded desk machine starves the robot last.
    emulator_priority: int = Field(0, ge=0, le=99)
    #: SCHED_FIFO priority of the policy node's process (0: normal): it sits on the control path
    #: (state in, /joint_commands out) beside the real-time loop; config/targets/go2.yaml says why
    #: level with the bridge node's.
    policy_priority: int = Field(0, ge=0, le=99)
    name: str = ""  # set from the file's name

    def bridge_parameters(self, overrides: dict[str, ParamValue], domain_id: int) -> dict[str, ParamValue]:
        """The bridge's parameters for this target: its fields, its ``bridge`` table, then
        ``overrides`` (the user's), each checked against the bridge's declarations.
        ``domain_id``: the DDS domain when the target names none."""
        merged: dict[str, ParamValue] = {
            "network_interface": self.network_interface,
            "dds_domain_id": domain_id if self.dds_domain_id is None else self.dds_domain_id,
            "lowstate_crc": self.lowstate_crc,
            "motion_switcher": self.motion_switcher,
            **self.bridge,
            **overrides,
        }
        problems = [p for name, value in merged.items() if (p := check_bridge_parameter(name, value))]
        if problems:
            raise ConfigError(f"target {self.name}: " + "; ".join(problems))
        return merged


def load_target(name_or_path: str | Path) -> Target:
    """config/targets/NAME.yaml (or a path), validated; ConfigError naming file and field."""
    path = resolve_config_file(name_or_path, "targets")
    target = load_yaml_model(path, Target, "target")
    if target.dds_domain_id is None and target.kind != "emulator":
        raise ConfigError(f"target {path}: dds_domain_id may be left out (null) only for the emulator")
    problems = [p for name, value in target.bridge.items() if (p := check_bridge_parameter(name, value))]
    if problems:
        raise ConfigError(f"invalid target {path}: bridge: " + "; ".join(problems))
    return target.model_copy(update={"name": path.stem})


_SPECS = {spec.name: spec for spec in BRIDGE_PARAMETERS}


def check_bridge_parameter(name: str, value: Any) -> str | None:
    """The problem with bridge parameter ``name`` = ``value`` in one line, or None."""
    spec = _SPECS.get(name)
    if spec is None:
        return f"the bridge has no parameter {name!r} (it has: {', '.join(sorted(_SPECS))})"
    return spec.check(value)


def parse_bridge_param(text: str) -> tuple[str, ParamValue]:
    """``"name=value"`` -> (name, value typed as the parameter's default); ValueError in one line."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"--bridge-param {text!r}: expected NAME=VALUE")
    spec = _SPECS.get(name)
    if spec is None:
        raise ValueError(
            f"--bridge-param {text!r}: the bridge has no parameter {name!r} (it has: {', '.join(sorted(_SPECS))})"
        )
    value: ParamValue
    try:
        if isinstance(spec.default, bool):
            if raw.lower() not in ("true", "false"):
                raise ValueError
            value = raw.lower() == "true"
        elif isinstance(spec.default, int):
            value = int(raw)
        elif isinstance(spec.default, float):
            value = float(raw)
        else:
            value = raw
    except ValueError:
        raise ValueError(f"--bridge-param {text!r}: {name} takes a {type(spec.default).__name__}") from None
    problem = spec.check(value)
    if problem is not None:
        raise ValueError(f"--bridge-param {text!r}: {problem}")
    return name, value
