"""The robustness suite: its table from the description's ranges, real runs through the
policy node's controller, and the verdicts it prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_sim.commands import JointCommand
from memaug_sim.dynamics import Dynamics
from memaug_sim.simulator import Simulator
from memaug_train.cli import main as train_cli
from memaug_train.env import FOOT_CONTACT_M
from memaug_train.robustness import (
    Row,
    RunResult,
    SuitePoint,
    _dead_foot,
    format_table,
    run_point,
    select,
    suite_points,
)

GO2 = load_robot_description("go2")
SHIPPED = Path(__file__).parents[2] / "config" / "policies" / "go2_memaug.onnx"


def test_the_table_covers_every_range_end_and_beyond_and_both_knees() -> None:
    points = suite_points(GO2.randomization)
    names = [p.name for p in points]
    high = GO2.randomization.joint_damping[1]
    assert f"joint damping {high:g}" in names and f"joint damping {1.5 * high:g}" in names
    assert {p.inside for p in points if p.name.startswith("joint damping")} == {True, False}
    assert "kp x0.75 kd x0.75" in names and "kp x1.25 kd x1.25" in names  # kp/kd 30/0.75 and 50/1.25
    knees = [p for p in points if p.limp_joint]
    assert {p.limp_joint for p in knees} == {"FL_calf_joint", "FR_calf_joint"} and len(knees) == 4
    assert any(p.terrain.kind == "step" for p in points) and any(p.terrain.kind == "rough" for p in points)
    flat = [p for p in points if p.flat_dynamics]
    assert all(p.commands == ("forward", "lateral", "yaw") for p in flat if p.action_latency_s <= 0.02)
    with pytest.raises(ValueError, match="no suite point matches"):
        select(points, ["no such point"])


def test_a_robot_too_weak_to_stand_is_counted_as_a_fall() -> None:
    controller = PolicyController(load_policy(SHIPPED), GO2)
    weak = SuitePoint("strength x0.05", False, Dynamics(motor_strength=0.05))
    assert run_point(controller, GO2, weak, "forward", seed=0, duration_s=3.0).fell
    nominal = run_point(controller, GO2, SuitePoint("nominal", True), "forward", seed=0, duration_s=4.0)
    assert not nominal.fell and nominal.velocity[0] > 0.3 and nominal.peak_speed_fraction <= 1.0 + 1e-6


def test_a_run_is_deterministic_for_its_seed() -> None:
    controller = PolicyController(load_policy(SHIPPED), GO2)
    point = SuitePoint("noise", True, sensor_noise=True, action_latency_s=0.01, sensor_latency_s=0.004)
    runs = [run_point(controller, GO2, point, "yaw", s, 3.5, GO2.randomization) for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0].velocity, runs[1].velocity)
    assert not np.array_equal(runs[0].velocity, runs[2].velocity)


def test_the_dead_foot_is_the_limp_joints_own_and_reads_down_when_standing() -> None:
    sim = Simulator(GO2, command_timeout_s=1.0, seed=0)
    zeros = np.zeros(GO2.num_joints)
    for _ in range(round(0.5 / sim.physics_period_s)):  # settle on the default pose, feet on the ground
        sim.submit_command(JointCommand(GO2.default_pose.copy(), zeros, zeros))
        sim.step()
    assert _dead_foot(sim, GO2, None) is None
    for joint, foot in (("FR_calf_joint", "FR_foot"), ("RL_thigh_joint", "RL_foot")):
        found = _dead_foot(sim, GO2, joint)
        assert found is not None
        sensor, radius = found
        assert sensor == int(sim.model.sensor(f"{foot}_pos").adr[0]) + 2
        assert sim.data.sensordata[sensor] - radius < FOOT_CONTACT_M
    controller = PolicyController(load_policy(SHIPPED), GO2)
    limp = run_point(controller, GO2, SuitePoint("knee", True, limp_joint="FR_calf_joint"), "forward", 0, 5.0)
    healthy = run_point(controller, GO2, SuitePoint("nominal", True), "forward", 0, 3.0)
    assert 0.0 <= limp.dead_foot_down <= 1.0 and np.isnan(healthy.dead_foot_down)


def test_verdicts_name_what_a_row_misses() -> None:
    def result(vx: float, fell: bool = False, peak: float = 0.8) -> RunResult:
        return RunResult(fell, np.array([vx, 0.0, 0.0]), 0.05, peak, 0.0)

    nominal = SuitePoint("nominal", True, commands=("forward",))
    assert Row(nominal, "forward", (result(0.5), result(0.52))).problems() == []
    assert Row(nominal, "forward", (result(0.6), result(0.6))).problems() == ["forward 0.60 outside 0.5 +-15%"]
    assert "1 fall(s)" in Row(nominal, "forward", (result(0.5, fell=True), result(0.5))).problems()
    assert "joint speed 1.10x its limit" in Row(nominal, "forward", (result(0.5, peak=1.1),)).problems()
    beyond = SuitePoint("beyond", False, Dynamics(joint_damping=3.0))
    fell_beyond = Row(beyond, "forward", (result(0.5, fell=True), result(0.5)))
    assert fell_beyond.problems() == []  # allowance, counted over every beyond row
    assert "| yes but 1 fall(s), counted in the beyond-range allowance |" in format_table([fell_beyond])
    limp = SuitePoint("knee", True, limp_joint="FR_calf_joint")
    assert Row(limp, "forward", (result(0.2),)).problems() == ["speed 0.20 < 50% of 0.5"]
    assert Row(limp, "forward", (result(0.3),)).problems() == []
    # A limp row whose runs all fell before the fault has no dead-foot share to give.
    assert "| 0.0 | - | yes |" in format_table([Row(limp, "forward", (result(0.3),))])


def test_the_cli_runs_an_exported_policy_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "suite.md"
    args = ["robustness", str(SHIPPED), "--seeds", "1", "--duration", "3", "--out", str(out)]
    assert train_cli([*args, "--points", "nominal", "step 5 cm", "--commands", "forward", "lateral"]) == 0
    table = out.read_text()
    assert table.count("| nominal |") == 2 and "| step 5 cm | beyond | forward |" in table
    assert "Rows meeting the criteria:" in table
