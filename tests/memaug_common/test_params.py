"""Parameter tables: unknown keys and bad values are errors, named all at once."""

from __future__ import annotations

import pytest

from memaug_common.params import ParameterError, ParamSpec, validate_parameters

SPECS = (
    ParamSpec("rate_hz", 50.0, "rate", min=1.0, max=100.0),
    ParamSpec("mode", "a", "mode", choices=("a", "b")),
    ParamSpec("count", 3, "count", min=0, max=10),
    ParamSpec("verbose", False, "verbose"),
)


def test_defaults_fill_in_and_ints_widen_to_floats() -> None:
    values = validate_parameters(SPECS, {"rate_hz": 20})
    assert values == {"rate_hz": 20.0, "mode": "a", "count": 3, "verbose": False}
    assert isinstance(values["rate_hz"], float)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ParameterError) as info:
        validate_parameters(SPECS, {"rate_hz": 500.0, "mode": "c", "count": True, "rate": 1.0})
    text = str(info.value)
    assert "unknown parameter 'rate'" in text
    assert "rate_hz: 500.0 is above the maximum 100.0" in text
    assert "mode: 'c' is not one of ['a', 'b']" in text
    assert "count: expected int, got True" in text


def test_non_finite_float_is_refused() -> None:
    with pytest.raises(ParameterError, match="must be finite"):
        validate_parameters(SPECS, {"rate_hz": float("nan")})
