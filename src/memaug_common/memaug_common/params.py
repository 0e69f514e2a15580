"""Node parameters declared once: name, type (from the default), default, range, description.

This module is ROS-free: a node's parameter table is a tuple of :class:`ParamSpec`, checked
here; memaug_common.ros_params turns the same table into rclpy declarations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ParamValue = bool | int | float | str | list[float] | list[str]


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter. The type is the default's type."""

    name: str
    default: ParamValue
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None

    def check(self, value: Any) -> str | None:
        """Return a message naming the problem with ``value``, or None when it is valid."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"parameter {self.name}: expected {expected.__name__}, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"parameter {self.name}: must be finite, got {value}"
        if self.min is not None and isinstance(value, int | float) and value < self.min:
            return f"parameter {self.name}: {value} is below the minimum {self.min}"
        if self.max is not None and isinstance(value, int | float) and value > self.max:
            return f"parameter {self.name}: {value} is above the maximum {self.max}"
        if self.choices is not None and value not in self.choices:
            return f"parameter {self.name}: {value!r} is not one of {list(self.choices)}"
        return None


class ParameterError(ValueError):
    """Start-up parameters are invalid; the message lists every problem."""


def validate_parameters(specs: Iterable[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against ``specs``: unknown names and invalid values are errors.

    Returns the full parameter dict (defaults filled in). Raises ParameterError listing
    every problem at once, so a user fixes a launch file in one go.
    """
    table = {spec.name: spec for spec in specs}
    problems = [f"unknown parameter {name!r} (known: {sorted(table)})" for name in values if name not in table]
    result: dict[str, Any] = {}
    for name, spec in table.items():
        value = values.get(name, spec.default)
        if (problem := spec.check(value)) is not None:
            problems.append(problem)
        result[name] = float(value) if isinstance(spec.default, float) and isinstance(value, int) else value
    if problems:
        raise ParameterError("invalid parameters:\n  " + "\n  ".join(problems))
    return result
