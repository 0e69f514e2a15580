"""Fault strings, scenario files and their schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from memaug_common.description import load_robot_description
from memaug_common.errors import ConfigError
from memaug_sim.faults import LimpFault, PayloadFault, WeakenedFault, fault_label, parse_fault
from memaug_sim.scenario import ScenarioClock, load_scenario

GO2 = load_robot_description("go2")


def test_parse_fault_round_trips_with_its_label() -> None:
    for text in (
        "limp:FR_calf_joint",
        "locked:RL_hip_joint",
        "weakened:FL_thigh_joint:0.3",
        "payload:2.5",
        "friction:0.4",
    ):
        fault = parse_fault(text)
        assert fault is not None and fault_label(fault) == text
    assert parse_fault("none") is None and parse_fault("") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("melt:FR_calf_joint", "unknown kind 'melt'"),
        ("weakened:FR_calf_joint", "weakened takes weakened:joint:factor"),
        ("weakened:FR_calf_joint:1.5", "less than or equal to 1"),
        ("payload:heavy", "valid number"),
    ],
)
def test_bad_fault_strings_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault(text)


def test_bundled_scenarios_load() -> None:
    scenario = load_scenario("right_front_knee_limp", GO2)
    assert scenario.events[0].fault == LimpFault(kind="limp", joint="FR_calf_joint")
    assert load_scenario("none", GO2).events == []


def test_scenario_clock_hands_each_fault_out_once_in_order() -> None:
    scenario = load_scenario("payload_and_weak_hip", GO2)
    clock = ScenarioClock(scenario)
    assert clock.due(4.99) == []
    assert clock.due(5.0) == [PayloadFault(kind="payload", mass_kg=3.0)]
    assert clock.due(10.0) == []
    assert clock.due(20.0) == [WeakenedFault(kind="weakened", joint="RR_hip_joint", factor=0.4)]
    assert clock.due(30.0) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: x\nevents:\n  - {at_s: 1, fault: {kind: limp, joint: FR_elbow}}\n", "events.0.fault.joint.*FR_elbow"),
        ("name: x\nevents:\n  - {at_s: 1, fault: {kind: explode}}\n", "events.0.fault"),
        (
            "name: x\nevents:\n  - {at_s: 2, fault: {kind: payload, mass_kg: 1}}\n"
            "  - {at_s: 1, fault: {kind: payload, mass_kg: 1}}\n",
            "time order",
        ),
        ("name: x\nevnts: []\n", "evnts"),
        ("- just a list\n", "must be a YAML mapping"),
    ],
)
def test_invalid_scenarios_name_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_scenario(path, GO2)
