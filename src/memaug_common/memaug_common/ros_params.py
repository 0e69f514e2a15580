"""Declare a node's ParamSpec table with rclpy and refuse unknown or invalid overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node

from memaug_common.params import ParamSpec, validate_parameters


def _descriptor(spec: ParamSpec) -> ParameterDescriptor:
    text = spec.description
    if spec.choices:
        text += f" One of: {', '.join(spec.choices)}."
    descriptor = ParameterDescriptor(description=text)
    if spec.min is not None and spec.max is not None:
        if isinstance(spec.default, float):
            descriptor.floating_point_range = [FloatingPointRange(from_value=spec.min, to_value=spec.max)]
        elif isinstance(spec.default, int) and not isinstance(spec.default, bool):
            descriptor.integer_range = [IntegerRange(from_value=int(spec.min), to_value=int(spec.max), step=1)]
    return descriptor


def declare_parameters(node: Node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare every parameter of ``specs`` on ``node`` and return their validated values.

    Overrides (from --ros-args, a parameter file or a launch file) for names that are not
    declared raise ParameterError instead of being ignored, so a misspelled key is caught.
    """
    overrides = dict(node._parameter_overrides)
    declared = {spec.name for spec in specs}
    values: dict[str, Any] = {}
    for spec in specs:
        override = overrides.get(spec.name)
        values[spec.name] = override.value if override is not None else spec.default
    unknown = {name: overrides[name].value for name in overrides if name not in declared and name != "use_sim_time"}
    validated = validate_parameters(specs, {**values, **unknown})
    for spec in specs:
        # The validated value (ints widened to floats) replaces rclpy's own override
        # handling, which would reject 1 for a float parameter.
        node.declare_parameter(spec.name, validated[spec.name], _descriptor(spec), ignore_override=True)
    return validated


def check_parameter_update(specs: Sequence[ParamSpec], name: str, value: Any) -> str | None:
    """Validate a live parameter change; return the problem, or None when it is valid."""
    for spec in specs:
        if spec.name == name:
            return spec.check(value)
    return f"unknown parameter {name!r}"
