"""A few PPO iterations with memory augmentation, GRU and LSTM: losses and returns move."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_train.cli import main as train_cli
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.rewards import describe_rewards
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

GO2 = load_robot_description("go2")


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_a_few_iterations_move_losses_and_returns(tmp_path: Path, cell: str) -> None:
    env = VecGo2Env(GO2, EnvConfig(num_envs=16, threads=1, episode_steps=12), TaskSampler(leg_joints(GO2, LEFT_LEGS)))
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=NetConfig(cell=cell, hidden=16, head=(32,))))
    before = [p.detach().clone() for p in ppo.model.parameters()]

    def actor_h(hidden):  # the actor's h (LSTM: the h of the (h, c) pair)
        return hidden[0][0] if isinstance(hidden[0], tuple) else hidden[0]

    aug_before = actor_h(ppo.aug_hidden)
    ppo.train(4, tmp_path, checkpoint_every=2)
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    assert len({round(r["surrogate"], 8) for r in rows}) > 1 and len({round(r["value"], 8) for r in rows}) > 1
    returns = [r["mean_return"] for r in rows]
    assert all(np.isfinite(returns)) and len(set(returns)) > 1
    assert any(not torch.equal(a, b) for a, b in zip(before, ppo.model.parameters(), strict=True))
    # The augmented hidden state is carried from update to update, not re-zeroed.
    assert not torch.equal(actor_h(ppo.aug_hidden), aug_before)
    assert (tmp_path / "checkpoint.pt").is_file()


def test_the_action_noise_stays_under_its_cap(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """max_action_std caps the trained Gaussian's std from the first update (std 1.0 at the
    start here), is recorded in run.json and holds again after --resume, or changes there when
    given; a cap that is not positive is one named error."""
    env = VecGo2Env(GO2, EnvConfig(num_envs=8, threads=1, episode_steps=12), TaskSampler(leg_joints(GO2, LEFT_LEGS)))
    net = NetConfig(hidden=16, head=(32,), init_log_std=0.0)
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net, max_action_std=0.3))
    ppo.train(2, tmp_path / "direct", checkpoint_every=2)
    assert float(ppo.model.log_std.detach().exp().max()) == pytest.approx(0.3, rel=1e-5)

    run = tmp_path / "run"
    tiny = ["--envs", "8", "--hidden", "16", "--threads", "1", "--max-action-std", "0.2"]
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1", *tiny]) == 0
    assert json.loads((run / "run.json").read_text())["ppo"]["max_action_std"] == 0.2
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--threads", "1"]) == 0
    stds = [json.loads(line)["action_std"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(stds) == 2 and max(stds) <= 0.2 + 1e-6
    # Given on --resume, a new cap holds from there, and run.json records the change.
    resume = ["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--threads", "1"]
    assert train_cli([*resume, "--max-action-std", "0.1"]) == 0
    assert json.loads((run / "log.jsonl").read_text().splitlines()[-1])["action_std"] <= 0.1 + 1e-6
    assert json.loads((run / "run.json").read_text())["earlier_ppo"][0]["ppo"]["max_action_std"] == 0.2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        train_cli(["train", "--run-dir", str(tmp_path / "bad"), "--max-action-std", "0"])
    assert exit_.value.code == 2
    assert "--max-action-std: must be positive, got 0" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def train_tiny_run(run: Path, iterations: int) -> None:
    """A run small enough for CI (8 envs, GRU-16), through the CLI, checkpointed every iteration."""
    tiny = ["--envs", "8", "--hidden", "16", "--threads", "1", "--checkpoint-every", "1"]
    assert train_cli(["train", "--run-dir", str(run), "--iterations", str(iterations), *tiny]) == 0


def test_cli_trains_resumes_and_exports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    train_tiny_run(run, iterations=1)
    meta = json.loads((run / "run.json").read_text())
    assert meta["physics_period_s"] == EnvConfig.physics_period_s
    assert meta["rewards"] == describe_rewards()
    # A run resumes on the physics step it recorded, not on a changed default.
    # A run that began under other reward scales resumes under today's, and says which changed.
    older = meta["rewards"]["velocity_progress"] + 1.0
    # (with a term since retired, which the record names as gone)
    older_rewards = {**meta["rewards"], "velocity_progress": older, "retired_term": -1.0}
    # ...and so does a run that began before a randomization setting existed.
    older_ranges = {k: v for k, v in meta["randomization"].items() if k != "joint_friction_share"}
    older_meta = {**meta, "physics_period_s": 0.004, "rewards": older_rewards, "randomization": older_ranges}
    (run / "run.json").write_text(json.dumps(older_meta))
    capsys.readouterr()
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "(physics step 4 ms)" in out
    assert f"'velocity_progress': ({older}, {describe_rewards()['velocity_progress']})" in err
    assert "'retired_term': (-1.0, None)" in err
    resumed = json.loads((run / "run.json").read_text())
    assert resumed["rewards"] == describe_rewards()
    assert resumed["earlier_rewards"] == [{"until_iteration": 1, "rewards": older_rewards}]
    share = GO2.randomization.joint_friction_share
    assert f"randomization changed since iteration 1 (was, now): {{'joint_friction_share': (None, {share})}}" in err
    assert resumed["randomization"] == meta["randomization"]
    assert resumed["earlier_randomization"] == [{"until_iteration": 1, "randomization": older_ranges}]
    assert torch.load(run / "checkpoint.pt", weights_only=False)["iteration"] == 2
    # TensorBoard curves of both invocations, read back by TensorBoard's own reader.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    returns = events.Scalars("train/steps_per_s")
    assert [e.step for e in returns] == [8 * 24, 2 * 8 * 24]
    assert train_cli(["train", "--run-dir", str(run), "--iterations", "1"]) == 2  # refuses to overwrite
    out = tmp_path / "policy.onnx"
    assert train_cli(["export", str(run / "checkpoint.pt"), str(out)]) == 0
    from memaug_policy.model import check_compatible, load_policy

    model = load_policy(out)
    check_compatible(model, GO2)
    assert model.metadata.provenance["iterations"] == 2
    assert model.metadata.provenance["rewards"] == describe_rewards()


def test_a_resumed_run_goes_on_at_the_physics_step_and_hindsight_weight_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--physics-period-ms and --hindsight-coef on --resume: go on at the deploy stack's 2 ms step
    and another hindsight weight (as the shipped policy did), each change recorded in run.json."""
    run = tmp_path / "run"
    train_tiny_run(run, iterations=1)
    capsys.readouterr()
    resume = ["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--threads", "1"]
    assert train_cli([*resume, "--physics-period-ms", "3"]) == 2
    assert "--physics-period-ms 3 does not divide the 20 ms control period" in capsys.readouterr().err
    assert train_cli([*resume, "--physics-period-ms", "2", "--hindsight-coef", "0.5"]) == 0
    out, err = capsys.readouterr()
    assert "(physics step 2 ms)" in out
    assert f"physics_period_s changed since iteration 1 (was, now): ({EnvConfig.physics_period_s}, 0.002)" in err
    assert "ppo changed since iteration 1 (was, now): {'hindsight_coef': (0.0, 0.5)}" in err
    meta = json.loads((run / "run.json").read_text())
    assert meta["physics_period_s"] == 0.002
    assert meta["earlier_physics_period_s"] == [{"until_iteration": 1, "physics_period_s": EnvConfig.physics_period_s}]
    assert meta["ppo"]["hindsight_coef"] == 0.5
    assert [earlier["ppo"]["hindsight_coef"] for earlier in meta["earlier_ppo"]] == [0.0]
    # Resumed again with neither given, it goes on as run.json says and records no change.
    assert train_cli(resume) == 0
    out, err = capsys.readouterr()
    assert "(physics step 2 ms)" in out and "changed since" not in err
    assert json.loads((run / "run.json").read_text())["ppo"]["hindsight_coef"] == 0.5
    # The exported model says what it trained under, changes included.
    from memaug_policy.model import load_policy

    assert train_cli(["export", str(run / "checkpoint.pt"), str(tmp_path / "policy.onnx")]) == 0
    provenance = load_policy(tmp_path / "policy.onnx").metadata.provenance
    assert provenance["physics_period_s"] == 0.002 and provenance["ppo"]["hindsight_coef"] == 0.5
    assert provenance["earlier_physics_period_s"] == meta["earlier_physics_period_s"]
    assert provenance["earlier_ppo"] == meta["earlier_ppo"]
    # The share of noise-free robots changes the same way.
    assert train_cli([*resume, "--hindsight-clean-share", "0.25"]) == 0
    assert "{'hindsight_clean_share': (0.0, 0.25)}" in capsys.readouterr().err
    assert json.loads((run / "run.json").read_text())["ppo"]["hindsight_clean_share"] == 0.25
    # And so does the velocity estimator's weight.
    assert train_cli([*resume, "--estimator-coef", "1.0"]) == 0
    assert f"{{'estimator_coef': ({PpoConfig.estimator_coef}, 1.0)}}" in capsys.readouterr().err
    assert json.loads((run / "run.json").read_text())["ppo"]["estimator_coef"] == 1.0


@pytest.mark.parametrize(
    ("flag", "axis", "first", "then"),
    [
        ("--vy-range", "vy", 0.45, 0.5),
        ("--yaw-rate-range", "yaw_rate", 1.2, 1.0),
    ],
)
def test_a_command_range_trains_records_exports_and_changes_on_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture, flag: str, axis: str, first: float, then: float
) -> None:
    """--vy-range, --yaw-rate-range: the range the robots are commanded in, in run.json and in
    the exported model's command ranges (which the node clamps to and the velocity loop stays inside)."""
    from memaug_policy.model import load_policy

    run = tmp_path / "run"
    tiny = ["--envs", "8", "--hidden", "16", "--threads", "1", "--iterations", "1"]
    assert train_cli(["train", "--run-dir", str(run), flag, "0.1", "0.4", *tiny]) == 2
    assert f"{flag} must be -X X with X > 0 (the mirror flips it), got 0.1 0.4" in capsys.readouterr().err
    assert train_cli(["train", "--run-dir", str(run), flag, "-0.2", "0.4", *tiny]) == 2
    assert f"{flag} must be -X X with X > 0 (the mirror flips it), got -0.2 0.4" in capsys.readouterr().err
    assert train_cli(["train", "--run-dir", str(run), flag, str(-first), str(first), *tiny]) == 0
    assert json.loads((run / "run.json").read_text())["commands"][axis] == [-first, first]
    assert train_cli(["export", str(run / "checkpoint.pt"), str(tmp_path / "wide.onnx")]) == 0
    assert load_policy(tmp_path / "wide.onnx").metadata.command_ranges[axis] == (-first, first)
    resume = ["train", "--run-dir", str(run), "--iterations", "2", "--resume", "--threads", "1"]
    assert train_cli([*resume, flag, str(-then), str(then)]) == 0
    assert f"commands changed since iteration 1 (was, now): {{'{axis}': ([{-first}, {first}], [{-then}, {then}])}}" in (
        capsys.readouterr().err
    )
    meta = json.loads((run / "run.json").read_text())
    assert meta["commands"][axis] == [-then, then]
    assert meta["earlier_commands"][0]["commands"][axis] == [-first, first]


def test_a_resumed_run_takes_a_fault_teacher_and_keeps_it_until_told_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run, teacher = tmp_path / "run", tmp_path / "teacher"
    train_tiny_run(run, iterations=1)
    teacher.mkdir()
    for name in ("checkpoint.pt", "run.json"):
        (teacher / name).write_bytes((run / name).read_bytes())
    capsys.readouterr()
    resume = ["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--threads", "1"]
    assert train_cli([*resume, "--teacher", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert "missing.pt not found" in err and "Traceback" not in err
    assert train_cli([*resume, "--teacher", str(teacher / "checkpoint.pt")]) == 0
    changed = f"'teacher': (None, '{teacher / 'checkpoint.pt'}'), 'teacher_coef': (0.0, 1.0)"
    assert changed in capsys.readouterr().err
    assert train_cli(resume) == 0  # neither flag: the run goes on with its teacher
    assert "changed since" not in capsys.readouterr().err
    assert json.loads((run / "run.json").read_text())["ppo"]["teacher_coef"] == 1.0
    with pytest.raises(SystemExit) as refused:  # argparse's own one-line refusal
        train_cli([*resume, "--teacher-torque-below", "1.5"])
    assert refused.value.code == 2
    assert "--teacher-torque-below: must be in (0, 1], got 1.5" in capsys.readouterr().err
    assert train_cli([*resume, "--teacher-coef", "0"]) == 0
    meta = json.loads((run / "run.json").read_text())
    assert (meta["ppo"]["teacher"], meta["ppo"]["teacher_coef"]) == (None, 0.0)
    assert [earlier["ppo"]["teacher_coef"] for earlier in meta["earlier_ppo"]] == [0.0, 1.0]


def test_eval_writes_the_table_for_id_and_ood_tasks(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_tiny_run(run, iterations=2)
    out = tmp_path / "table.md"
    assert train_cli(["eval", str(run / "checkpoint.pt"), "--episodes", "1", "--out", str(out)]) == 0
    table = out.read_text()
    assert "| memaug (run) |" in table
    assert "OOD return (norm.)" in table
    assert "| method | ID limp | ID locked | ID weakened | OOD limp | OOD locked | OOD weakened |" in table


def test_randomized_scoring_draws_the_same_robots_for_every_checkpoint(tmp_path: Path) -> None:
    """`eval --randomized` compares checkpoints on one set of randomized robots: the same draws
    twice, and not the nominal robot's episodes."""
    from memaug_train.checkpoints import load_trained
    from memaug_train.evaluate import run_episodes

    run = tmp_path / "run"
    train_tiny_run(run, iterations=1)
    model, _, _ = load_trained(run / "checkpoint.pt")
    randomized = [run_episodes(model, GO2, [None], 3, randomization=GO2.randomization) for _ in range(2)]
    nominal = run_episodes(model, GO2, [None], 3)
    np.testing.assert_array_equal(randomized[0].returns, randomized[1].returns)
    assert not np.allclose(randomized[0].returns, nominal.returns)
    out = tmp_path / "table.md"
    assert train_cli(["eval", str(run / "checkpoint.pt"), "--episodes", "1", "--randomized", "--out", str(out)]) == 0
    assert "| memaug (run) |" in out.read_text()


def test_probe_lists_every_joint_with_its_split(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_tiny_run(run, iterations=1)
    out = tmp_path / "probe.md"
    probe = ["probe", str(run / "checkpoint.pt"), "--kind", "locked", "--episodes", "1", "--out", str(out)]
    assert train_cli(probe) == 0
    rows = [line.split("|")[1:3] for line in out.read_text().splitlines()[2:]]
    assert [(joint.strip(), split.strip()) for joint, split in rows] == [("none", "-")] + [
        (joint, "ID" if joint[:2] in LEFT_LEGS else "OOD") for joint in GO2.joint_names
    ]


def test_a_checkpoint_without_its_run_json_is_a_named_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    train_tiny_run(run, iterations=1)
    lone = tmp_path / "elsewhere" / "checkpoint.pt"
    lone.parent.mkdir()
    (run / "checkpoint.pt").rename(lone)
    assert train_cli(["probe", str(lone)]) == 2
    assert f"{lone.parent / 'run.json'} not found" in capsys.readouterr().err
    assert train_cli(["export", str(run / "checkpoint.pt"), str(tmp_path / "x.onnx")]) == 2
    assert "checkpoint.pt not found" in capsys.readouterr().err


def test_the_shipped_checkpoint_walks_at_the_command_in_the_training_env() -> None:
    """The committed checkpoint behind config/policies/go2_memaug.onnx, measured by the probe:
    healthy it makes 0.5 m/s good within 0.1 m/s, and with the out-of-distribution front-right
    knee limp (never simulated in training) it keeps at least half the command, no fall."""
    from memaug_train.checkpoints import load_trained
    from memaug_train.evaluate import probe

    model, _, _ = load_trained(Path(__file__).parents[2] / "training" / "go2_memaug_v10" / "checkpoint.pt")
    rows = {row.joint: row for row in probe(model, GO2, "limp", episodes_per_task=1)}
    assert rows["none"].fall_rate == 0.0
    assert abs(rows["none"].speed_mps - 0.5) < 0.1
    for joint in ("FR_calf_joint", "FL_calf_joint"):
        assert rows[joint].fall_rate == 0.0
        assert rows[joint].fraction_of_command >= 0.5


def test_the_log_is_strict_json_before_any_episode_has_ended(tmp_path: Path) -> None:
    """No episode ends in one 12-step iteration of 1000-step episodes: the mean return is a
    mean over nothing, written as null (strict JSON, which jq and JavaScript read), not NaN."""
    env = VecGo2Env(GO2, EnvConfig(num_envs=4, threads=1), TaskSampler(()))
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=NetConfig(hidden=16, head=(32,))))
    ppo.train(1, tmp_path, checkpoint_every=1)

    def refuse(constant: str) -> None:
        raise ValueError(f"log.jsonl holds {constant}, which is not JSON")

    (row,) = [json.loads(line, parse_constant=refuse) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert row["mean_return"] is None and row["mean_episode_length"] is None
    assert isinstance(row["steps_per_s"], float)
