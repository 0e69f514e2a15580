"""The speed screen: where its points come from, what it reads, and its command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_policy.observation import ObservationLayout
from memaug_sim.dynamics import Dynamics
from memaug_train import cli
from memaug_train.checkpoints import load_trained
from memaug_train.networks import VELOCITY, ActorCritic, NetConfig
from memaug_train.privileged import privileged_layout
from memaug_train.speed_probe import LATERAL, SpeedPoint, SpeedReading, loop_gain, measure_speed, speed_points

GO2 = load_robot_description("go2")
SHIPPED = Path(__file__).parents[2] / "training" / "go2_memaug_v10" / "checkpoint.pt"  # behind go2_memaug.onnx


def test_points_sit_at_the_ends_of_the_description_ranges() -> None:
    points = {p.name: p for p in speed_points(GO2)}
    ranges = GO2.randomization
    assert points["forward, damping 2"].dynamics.joint_damping == ranges.joint_damping[1]
    assert points["forward, ground friction 0.3"].dynamics.ground_friction == ranges.ground_friction[0]
    assert points["lateral, ground friction 0.3"].dynamics.ground_friction == ranges.ground_friction[0]
    assert points["lateral, nominal"].dynamics == Dynamics()


def test_speed_is_read_along_the_command_and_drift_across_it() -> None:
    reading = SpeedReading(SpeedPoint("lateral", Dynamics(), LATERAL), velocity=(-0.11, 0.39), falls=0)
    assert reading.along_command == pytest.approx(0.39)
    assert reading.across_command == pytest.approx(0.11)  # backwards is the left of a leftward command
    assert reading.estimate_along_command is None
    estimated = SpeedReading(reading.point, reading.velocity, 0, estimate=(0.2, 0.33))
    assert estimated.estimate_along_command == pytest.approx(0.33)


def standing_model() -> ActorCritic:
    """An actor whose mean action is zero: it holds the default pose."""
    model = ActorCritic(ObservationLayout.for_joints(GO2.num_joints).dim, GO2.num_joints, NetConfig(hidden=16))
    last = model.actor_head[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    return model.eval()


def test_a_robot_holding_its_pose_reads_no_speed_and_no_fall() -> None:
    reading = measure_speed(standing_model(), GO2, speed_points(GO2)[0], robots=2, seconds=1.0, settle_s=0.5)
    assert abs(reading.along_command) < 0.03 and abs(reading.across_command) < 0.03
    assert reading.falls == 0 and reading.estimate is None  # this actor has no estimator


def test_the_shipped_checkpoint_walks_forward_near_the_command() -> None:
    model, _, _ = load_trained(SHIPPED)
    reading = measure_speed(model, GO2, speed_points(GO2)[0], robots=2, seconds=3.0)
    assert 0.4 < reading.along_command < 0.65 and reading.falls == 0
    # Its own estimate, in m/s like the measurement (the privileged scale taken out).
    assert reading.estimate_along_command is not None
    assert abs(reading.estimate_along_command - reading.along_command) < 0.1


def test_a_shifted_estimate_reaches_the_head_along_the_command_and_only_there() -> None:
    """The head's estimate moves by the shift (in the privileged scaling), along the command;
    the estimate the reading reports is the estimator's own, unshifted."""
    model = ActorCritic(
        ObservationLayout.for_joints(GO2.num_joints).dim,
        GO2.num_joints,
        NetConfig(hidden=16, critic="mlp", privileged_dim=51, velocity_estimator=True, estimator_hidden=8),
    ).eval()
    heard: list[torch.Tensor] = []

    def standing_head(features: torch.Tensor) -> torch.Tensor:  # holds the pose, records its input
        heard.append(features[:, -VELOCITY:].clone())
        return torch.zeros(features.shape[0], GO2.num_joints)

    model.actor_mean = standing_head  # type: ignore[method-assign]
    point = SpeedPoint("diagonal", Dynamics(), (0.3, 0.4))  # direction (0.6, 0.8)
    plain = measure_speed(model, GO2, point, robots=2, seconds=0.2, settle_s=0.1)
    unshifted = torch.stack(heard)
    heard.clear()
    shifted = measure_speed(model, GO2, point, robots=2, seconds=0.2, settle_s=0.1, estimate_shift_m_s=0.1)
    moved = torch.stack(heard) - unshifted
    assert shifted.estimate == pytest.approx(plain.estimate)
    layout = privileged_layout(GO2.num_joints)
    scale = torch.tensor(layout.scale[layout.slices()["base_linear_velocity"]], dtype=torch.float32)
    expected = torch.tensor([0.06, 0.08, 0.0]) * scale  # 0.1 m/s along (0.6, 0.8); vertical untouched
    assert torch.allclose(moved, expected.expand_as(moved), atol=1e-6)


def test_a_shift_needs_an_actor_that_reads_an_estimate() -> None:
    with pytest.raises(ValueError, match="concurrent estimate"):
        measure_speed(standing_model(), GO2, speed_points(GO2)[0], robots=1, seconds=0.1, estimate_shift_m_s=0.1)


def test_the_shipped_actor_answers_its_estimate_by_half() -> None:
    """Why the velocity loop lives outside the weights: shifting the estimate the shipped actor's
    head reads moves its lateral speed by about half the shift (v10: -0.53 here, v9 -0.49), where an actor
    that trusts its estimate would slow by all of it (gain -1). v8 answered by a few hundredths
    (+0.07), v4 by -0.10 (model changelog, "After v4: ice in the batch")."""
    model, _, _ = load_trained(SHIPPED)
    gain, readings = loop_gain(model, GO2, SpeedPoint("lateral", Dynamics(), LATERAL), robots=2, seconds=3.0)
    assert len(readings) == 3 and all(r.falls == 0 for r in readings)
    assert -0.8 < gain < -0.2


def test_cli_prints_one_row_per_checkpoint_and_names_a_missing_one(tmp_path: Path, capsys) -> None:
    out = tmp_path / "speed.md"
    assert cli.main(["speed", str(SHIPPED), "--out", str(out)]) == 0
    table = out.read_text()
    assert "lateral, ground friction 0.3 (0.3)" in table and f"{SHIPPED} (5010)" in table
    assert " est " in table
    assert cli.main(["speed", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt not found" in capsys.readouterr().err
