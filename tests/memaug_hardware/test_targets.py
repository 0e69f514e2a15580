"""Target profiles (config/targets): loaded, validated, applied to the bridge's parameters. ROS-free."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from memaug_hardware.interfaces import interface_problem
from memaug_hardware.targets import load_target, parse_bridge_param

from memaug_common.errors import ConfigError
from memaug_common.paths import config_dir


def test_the_shipped_profiles_load_and_say_what_unitrees_simulator_needs() -> None:
    sim = load_target("unitree_mujoco")
    assert (sim.dds_domain_id, sim.network_interface) == (1, "lo")  # its config.py as shipped
    bridge = sim.bridge_parameters({}, domain_id=150)
    assert bridge["lowstate_crc"] == "ignore" and bridge["motion_switcher"] == "skip"
    assert sim.preflight.min_battery_percent is None  # it reports no battery
    robot = load_target("go2").bridge_parameters({"network_interface": "enp3s0"}, domain_id=150)
    assert robot["dds_domain_id"] == 0 and robot["network_interface"] == "enp3s0" and robot["lowstate_crc"] == "strict"
    # The emulator runs in the run's own domain.
    assert load_target("emulator").bridge_parameters({}, domain_id=157)["dds_domain_id"] == 157


def _write(tmp_path: Path, change: dict) -> Path:
    profile = yaml.safe_load((config_dir() / "targets" / "go2.yaml").read_text())
    profile.update(change)
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"lowstate_crcc": "ignore"}, "lowstate_crcc"),  # a misspelled key
        ({"lowstate_crc": "loose"}, "lowstate_crc"),
        ({"dds_domain_id": None}, "dds_domain_id"),  # only the emulator may leave it out
        ({"preflight": {"min_rate_hz": 400}}, "min_battery_percent"),
        ({"bridge": {"loop_rate": 500.0}}, "no parameter 'loop_rate'"),
        ({"bridge": {"loop_rate_hz": 5000.0}}, "above the maximum"),
    ],
)
def test_a_bad_profile_is_an_error_naming_the_key(tmp_path: Path, change: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_target(_write(tmp_path, change))


def test_a_profile_that_does_not_exist_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: .*unitree_mujoco"):
        load_target("unitree_mujocoo")


def test_bridge_params_are_typed_by_the_bridges_declarations() -> None:
    assert parse_bridge_param("lowstate_crc=ignore") == ("lowstate_crc", "ignore")
    assert parse_bridge_param("loop_priority=80") == ("loop_priority", 80)
    assert parse_bridge_param("state_timeout_s=0.1") == ("state_timeout_s", 0.1)
    assert parse_bridge_param("auto_activate=true") == ("auto_activate", True)
    for text, named in [
        ("lowstate_crc", "expected NAME=VALUE"),
        ("no_such=1", "no parameter 'no_such'"),
        ("loop_priority=high", "takes a int"),
        ("motion_switcher=maybe", "not one of"),
        ("loop_rate_hz=5000", "above the maximum"),
    ]:
        with pytest.raises(ValueError, match=named):
            parse_bridge_param(text)


def test_an_interface_that_does_not_exist_names_the_ones_that_do() -> None:
    problem = interface_problem("nosuchif0")
    assert problem is not None and "'nosuchif0' does not exist" in problem and "lo" in problem
    assert interface_problem("lo") is None
