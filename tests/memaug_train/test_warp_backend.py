"""The warp backend against C MuJoCo: the same task code over MuJoCo Warp's physics, on warp's
CPU device. Skipped where mujoco-warp is not installed (the default install)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_train.cli import main as train_cli
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints
from memaug_train.warp_physics import warp_ranges

pytest.importorskip("mujoco_warp", reason="mujoco-warp is not installed (the gpu extra)")

GO2 = load_robot_description("go2")
#: Everything VecGo2Env carries from one step to the next besides its models (whose per-robot
#: edits follow from the same draws on both sides).
CARRIED = ("state", "_sensed", "air_time", "last_action", "_previous_targets", "step_count", "command")


def reseat(warp_env: VecGo2Env, exact: VecGo2Env) -> None:
    """The warp env takes the C env's state, so each step compares one step's physics from the
    same start (open loop, float32 against float64 diverges once contacts differ:
    bench/bench_train.py --warp-drift)."""
    for name in CARRIED:
        getattr(warp_env, name)[...] = getattr(exact, name)
    warp_env.next_push[:] = exact.next_push
    warp_env.rng.bit_generator.state = exact.rng.bit_generator.state


#: Per case: observation bounds (median, p99, max) and reward bounds (median, max).
TOLERANCES = {
    "nominal": ((1e-4, 1e-2, 5e-2), (1e-5, 5e-3)),
    "locked joints": ((1e-4, 1e-2, 5e-2), (1e-5, 5e-3)),
    "randomized": ((1e-4, 1e-2, 1e-1), (1e-5, 1e-2)),
    "rough ground": ((1e-3, 1e-1, 1.5e-1), (1e-4, 2e-2)),
}


@pytest.mark.parametrize("case", list(TOLERANCES))
def test_the_warp_backend_steps_the_same_task_as_c_mujoco_over_200_control_steps(case: str) -> None:
    """4 robots, 100-step episodes (each robot ends and restarts), a left-leg fault (limp,
    locked or weakened) starting mid-episode in every episode, actions around the default pose;
    nominal robots, robots drawn from the description's ranges less what Warp cannot vary per
    world (warp_ranges), with pushes (and the curriculum's first, mm-high bumps), and those on
    the rough-ground curriculum's top level (each episode flat or rough, its bumps up to 5 cm).
    Each step starts both backends from the same state (reseat), and then observations, rewards
    and terminations agree.

    Tolerances (measured here: nominal max 1.4e-2 / p99 2.4e-3 / median 3e-6 in observation
    units, rewards max 1.1e-3 / median 1e-7; randomized max 1.1e-4, rewards 2e-6): one 20 ms
    step in float32 (Warp) against float64 (C MuJoCo) agrees to float32 rounding while contacts
    persist (median 1e-5); on the few steps where a foot or a locked joint's constraint engages
    in one solve and not the other, the joint velocities (x0.05 in the observation) jump by up
    to 0.3 rad/s. Bounds: median 1e-4, p99 1e-2, max 5e-2 for observations; median 1e-5,
    max 5e-3 for rewards (a step's reward is ~2e-3 in size); terminations exactly.

    Randomized robots draw impratio (10-100) and soft feet too, which Warp takes per world
    (measured: median 1e-6, p99 5.5e-3, max 6.8e-2, rewards max 5.8e-3: stiffer friction at a
    high impratio makes the rare step where a contact engages in one solve only a larger jump).
    Bounds: as nominal but max 0.1 and rewards max 1e-2. Stepping soft feet without their
    priority's solmix, or every world at one impratio, moves the median to 2e-3 / 9e-4.

    Locked joints (every fault a lock; Warp reads the held angle from the task's arrays, C MuJoCo
    from the robot's model): within the nominal bounds.

    Rough ground (measured: median 2e-5, p99 4.6e-2, max 6.8e-2, rewards max 1.1e-3; every
    episode rough: median 5e-4, max 6.2e-2): the two engines find the same foot-prism contacts
    at the same depths, but where C MuJoCo keeps 3-4 contacts of one foot on neighbouring
    prisms Warp keeps 2 (measured on 16 dropped robots), so a foot's impulse splits otherwise
    and a joint velocity jumps by up to 1.2 rad/s on such a step (with impratio and soft feet:
    max 0.11, rewards max 1.25e-2). Bounds: median 1e-3, p99 0.1, max 0.15; rewards median
    1e-4, max 2e-2. A world stepped on the wrong bump height, or a flat
    episode's robot meeting the height field, shows a median of 6e-2 to 1e-1.
    """
    kinds = (0.0, 1.0, 0.0) if case == "locked joints" else TaskSampler.kind_weights
    sampler = TaskSampler(
        leg_joints(GO2, LEFT_LEGS), fault_probability=1.0, fault_window_steps=(10, 60), kind_weights=kinds
    )
    ranges = warp_ranges(GO2.randomization)[0] if case not in ("nominal", "locked joints") else None
    exact, warp_env = (
        VecGo2Env(
            GO2, EnvConfig(num_envs=4, threads=1, episode_steps=100, randomization=ranges, backend=b), sampler, seed=3
        )
        for b in ("mujoco", "warp")
    )
    for env in (exact, warp_env):
        env.terrain_level = 1.0 if case == "rough ground" else 0.0
    np.testing.assert_array_equal(exact.reset(), warp_env.reset())
    rng = np.random.default_rng(0)
    faults = dones = pushes = rough = flat = locks = 0
    obs_gaps, reward_gaps = [], []
    for step in range(200):
        reseat(warp_env, exact)
        pushes_before = exact.next_push.copy()
        action = rng.normal(0.0, 0.3, (4, GO2.num_joints))
        a, b = exact.step(action), warp_env.step(action)
        assert np.array_equal(a.terminated, b.terminated) and np.array_equal(a.truncated, b.truncated), step
        obs_gaps.append(float(np.abs(a.obs - b.obs).max()))
        reward_gaps.append(float(np.abs(a.reward - b.reward).max()))
        faults += int(exact.fault_active.sum())
        locks += int(warp_env.locked.sum())
        if case == "locked joints":  # each lock holds, in Warp, the angle C MuJoCo's model holds
            robots, joints = np.nonzero(warp_env.locked)
            equalities = warp_env.index.lock_equalities[joints]
            held = warp_env._warp._model.eq_data.numpy()[robots, equalities][:, 0]
            wanted = [exact.models[r].eq_data[e, 0] for r, e in zip(robots, equalities, strict=True)]
            np.testing.assert_allclose(held, wanted, rtol=0, atol=1e-6)
        dones += int((a.terminated | a.truncated).sum())
        pushes += int((exact.next_push != pushes_before).sum())
        rough += int((exact.rough_height > 0).sum())
        flat += int((exact.rough_height == 0).sum())
    assert faults > 0 and dones >= 8  # faults started mid-episode, and episodes ended and reset
    assert pushes > 0 or case in ("nominal", "locked joints")
    assert (rough > 0 and flat > 0) or case != "rough ground"
    assert locks > 0 or case != "locked joints"  # Warp held them at the angles on its task's side
    (obs_median, obs_p99, obs_max), (reward_median, reward_max) = TOLERANCES[case]
    assert 0 < max(obs_gaps) < obs_max  # not 0: the steps really ran on the other physics
    assert np.median(obs_gaps) < obs_median and np.percentile(obs_gaps, 99) < obs_p99
    assert np.median(reward_gaps) < reward_median and max(reward_gaps) < reward_max


def test_train_on_warp_checkpoints_and_exports_a_policy_the_stack_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`memaug_train train --backend warp --device cpu --envs 8 --iterations 2`: the issue's
    acceptance run, whose export the policy runtime loads and checks against the robot."""
    from memaug_policy.model import check_compatible, load_policy

    run = tmp_path / "run"
    tiny = ["--envs", "8", "--iterations", "2", "--hidden", "16", "--threads", "1", "--quiet"]
    assert train_cli(["train", "--backend", "warp", "--device", "cpu", "--run-dir", str(run), *tiny]) == 0
    err = capsys.readouterr().err
    assert "--backend warp trains without rich_contact_share, elliptic_cone_share: MuJoCo Warp" in err
    meta = json.loads((run / "run.json").read_text())
    assert (meta["backend"], meta["device"]) == ("warp", "cpu")
    assert meta["randomization"]["rich_contact_share"] == 0.0
    assert meta["randomization"]["soft_feet_share"] == GO2.randomization.soft_feet_share  # per world on warp
    assert meta["randomization"]["rough_ground_m"] == list(GO2.randomization.rough_ground_m)  # per world on warp
    assert train_cli(["export", str(run / "checkpoint.pt"), str(tmp_path / "policy.onnx")]) == 0
    policy = load_policy(tmp_path / "policy.onnx")
    check_compatible(policy, GO2)
    assert (policy.metadata.provenance["backend"], policy.metadata.provenance["iterations"]) == ("warp", 2)
    # A run on Warp resumes on Warp, not on C MuJoCo.
    resume = ["train", "--run-dir", str(run), "--iterations", "1", "--resume", "--quiet", "--threads", "1"]
    assert train_cli([*resume, "--backend", "mujoco"]) == 2
    assert "trained on --backend warp; it cannot resume on --backend mujoco" in capsys.readouterr().err


def test_a_warp_step_moves_the_same_data_for_4_worlds_as_for_16(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 31's GPU readiness, on the CPU: the host<->device transfers and device copies of one
    control step do not grow with the world count (no Python loop over worlds touches the
    device), whether no robot's model changed, one did (a reset or a fault start) or all did."""
    import warp as wp

    calls: dict[str, int] = {}
    for owner, name in ((wp, "copy"), (wp.array, "assign"), (wp.array, "numpy")):
        original = getattr(owner, name)

        def counted(*a: object, _name: str = name, _original: object = original, **k: object) -> object:
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*a, **k)  # type: ignore[operator]

        monkeypatch.setattr(owner, name, counted)

    def per_step(worlds: int) -> list[dict[str, int]]:
        env = VecGo2Env(GO2, EnvConfig(num_envs=worlds, threads=1, backend="warp"), TaskSampler(()), seed=0)
        env.reset()
        action = np.zeros((worlds, GO2.num_joints))
        env.step(action)  # reads every model
        counts = []
        for marked in (0, 1, worlds):
            env.model_changed[:] = False
            env.model_changed[:marked] = True
            calls.clear()
            env.step(action)
            counts.append(dict(calls))
        return counts

    few, many = per_step(4), per_step(16)
    assert few == many, (few, many)
    assert few[0]["numpy"] == 4 and few[1]["assign"] > few[0]["assign"]  # states back once; models only when changed


def test_with_torch_task_arrays_a_warp_step_brings_back_only_which_robots_fell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 31's "no array leaves the device", on warp's CPU device: with the task's arrays as
    torch tensors there, Warp's states never come back (no ``numpy()`` call), and what the task
    brings to the host per step is the [N] bool fall mask and nothing else: a fault's start,
    locks included (their angles stay on the device), reads no state. Observations and rewards
    match the NumPy task's on the same physics (measured: 7e-18)."""
    import warp as wp

    reads = []
    original = wp.array.numpy

    def counted(self: object) -> object:
        reads.append(1)
        return original(self)  # type: ignore[arg-type]

    worlds, steps = 4, 60
    sampler = TaskSampler(
        leg_joints(GO2, LEFT_LEGS), fault_probability=1.0, fault_window_steps=(5, 20), kind_weights=(1.0, 2.0, 1.0)
    )
    outputs = {}
    locks_held = 0
    for library in ("numpy", "torch"):
        config = EnvConfig(num_envs=worlds, threads=1, backend="warp", task_arrays=library, episode_steps=40)
        env = VecGo2Env(GO2, config, sampler, seed=3)
        env.reset()
        env.arrays.bytes_to_host = 0
        actions = np.random.default_rng(1)
        if library == "torch":
            monkeypatch.setattr(wp.array, "numpy", counted)
        outputs[library] = []
        for _ in range(steps):
            outputs[library].append(env.step(actions.normal(0.0, 0.5, (worlds, GO2.num_joints))))
            locks_held += int(env.locked.sum()) if library == "torch" else 0
    assert not reads
    assert env.arrays.bytes_to_host == steps * worlds  # one bool per robot and step
    assert locks_held > 0  # the torch task's locked joints held, their angles from the device
    for want, got in zip(outputs["numpy"], outputs["torch"], strict=True):
        np.testing.assert_allclose(np.asarray(got.obs), want.obs, rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.asarray(got.reward), want.reward, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(np.asarray(got.terminated), want.terminated)


def test_episodes_drawn_ahead_run_as_the_host_path_runs_them_and_bring_nothing_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 31's "no array leaves the device inside a rollout", on warp's CPU device: with
    episodes drawn ahead (EnvConfig.episodes "ahead") and the task's arrays as torch tensors,
    72 control steps in rollouts of 24 (draw_ahead between them) bring nothing to the host and
    read no Warp array back, while episodes end and begin on the device (30-step episodes) and
    every episode's left-leg fault (limp, locked or weakened) starts mid-episode there, with its
    model fields, torque factors and locks. What the robots see is what the host path gives
    them from the same draws (nominal robots, so both draw in the same order): observations
    and rewards to 1e-6 (measured: observations equal, rewards 7e-18: torch against NumPy
    arithmetic), the same ends."""
    import warp as wp

    reads = []
    original = wp.array.numpy

    def counted(self: object) -> object:
        reads.append(1)
        return original(self)  # type: ignore[arg-type]

    worlds, rollout, rollouts = 4, 24, 3
    sampler = TaskSampler(leg_joints(GO2, LEFT_LEGS), fault_probability=1.0, fault_window_steps=(5, 20))
    outputs: dict[str, list] = {}
    for episodes, library in (("host", "numpy"), ("ahead", "torch")):
        config = EnvConfig(
            num_envs=worlds, threads=1, backend="warp", task_arrays=library, episode_steps=30, episodes=episodes
        )
        env = VecGo2Env(GO2, config, sampler, seed=5)
        env.reset()
        actions = np.random.default_rng(2)
        outputs[episodes] = []
        faulted = 0
        for _ in range(rollouts):
            env.arrays.bytes_to_host = 0
            if episodes == "ahead":
                monkeypatch.setattr(wp.array, "numpy", counted)
            for _ in range(rollout):
                result = env.step(actions.normal(0.0, 0.1, (worlds, GO2.num_joints)))
                outputs[episodes].append(result)
                faulted += int(np.asarray(result.info["fault_active"]) * worlds)
            if episodes == "ahead":
                monkeypatch.undo()
                assert env.arrays.bytes_to_host == 0 and not reads
                env.draw_ahead()
        assert faulted > 0
    ends = 0
    for step, (want, got) in enumerate(zip(outputs["host"], outputs["ahead"], strict=True)):
        assert not want.terminated.any(), step  # the same draw order needs the same ends: time-outs only
        np.testing.assert_array_equal(np.asarray(got.terminated), want.terminated)
        np.testing.assert_array_equal(np.asarray(got.truncated), want.truncated)
        np.testing.assert_allclose(np.asarray(got.obs), want.obs, rtol=0, atol=1e-6, err_msg=f"step {step}")
        np.testing.assert_allclose(np.asarray(got.reward), want.reward, rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.asarray(got.privileged), want.privileged, rtol=0, atol=1e-6)
        ends += int(want.truncated.sum())
    assert ends == 2 * worlds  # two episodes ended and began on the device in each robot


def test_a_drawn_episode_steps_with_the_model_drawn_for_it_and_then_with_its_fault_s() -> None:
    """Randomized robots on the rough-ground curriculum's top level, a left-leg fault (limp,
    locked or weakened) in every episode, episodes drawn ahead: when the drawn episodes begin on
    the device, each world's model fields are exactly those of the MjModel its robot's episode
    was drawn into (dynamics, payload, bump height and reach, contact terms), and once their faults have
    begun, exactly those of that model with the fault applied (a lock's angle aside: Warp holds
    the joint's angle at the fault's start, the model NaN)."""
    ranges = warp_ranges(GO2.randomization)[0]
    config = EnvConfig(num_envs=4, threads=1, backend="warp", episode_steps=10, randomization=ranges, episodes="ahead")
    sampler = TaskSampler(leg_joints(GO2, LEFT_LEGS), fault_probability=1.0, fault_window_steps=(2, 5))
    env = VecGo2Env(GO2, config, sampler, seed=7)
    env.terrain_level = 1.0
    env.reset()
    warp = env._warp
    assert warp is not None
    everyone = np.arange(4)
    drawn = warp._rows_of(env.models, everyone)  # the next episodes, waiting on the device
    faulted = warp._rows_of(env._faulted_models(everyone)[0], everyone)
    assert (env.rough_height > 0).any() and not np.allclose(drawn["dof_damping"], drawn["dof_damping"][0])
    kinds = {type(task.fault).__name__ for task in env.tasks}
    for expected, steps in ((drawn, 10), (faulted, 6)):
        for _ in range(steps):
            result = env.step(np.zeros((4, GO2.num_joints)))
        assert not np.asarray(result.terminated).any()
        for name, values in expected.items():
            stepped = warp._live[name].numpy().reshape(values.shape)
            held = np.isfinite(values)  # a lock's angle is NaN in the model
            if name == "geom_xpos":  # the moving geoms' are the physics' own; the ground's are per world
                held[:, np.setdiff1d(np.arange(values.shape[1]), warp._ground_geoms)] = False
            np.testing.assert_array_equal(stepped[held], values.astype(stepped.dtype)[held], err_msg=name)
    assert not np.array_equal(faulted["actuator_gainprm"], drawn["actuator_gainprm"]) or "LockedFault" in kinds


def test_a_drawn_episode_begins_for_the_robot_whose_episode_ended_and_for_no_other() -> None:
    """Episodes drawn ahead, torch task arrays: when one robot's episode ends (its physics made
    to fail: a non-finite state ends an episode), it alone takes its drawn start state, command
    and clock; the others' command changes come from their own draws at their own periods; a
    robot that ends twice within one rollout starts its one draw again, and draw_ahead says so."""
    ranges = warp_ranges(GO2.randomization)[0].model_copy(update={"push_interval_s": (0.1, 0.2)})
    config = EnvConfig(
        num_envs=4,
        threads=1,
        backend="warp",
        task_arrays="torch",
        episode_steps=30,
        command_resample_steps=10,
        randomization=ranges,
        episodes="ahead",
    )
    env = VecGo2Env(GO2, config, TaskSampler(()), seed=11)
    env.reset()
    ahead = env._ahead
    assert ahead is not None

    def host(values: object) -> np.ndarray:
        return np.array(env.arrays.to_host(values))

    drawn = {name: host(values) for name, values in ahead.next.items()}
    commands = host(ahead.live["commands"])  # [N, 3 slots, 3] the running episodes' draws
    standing = np.zeros((4, GO2.num_joints))
    for step in range(1, 11):
        if step == 4:
            env.state[2] = float("nan")
        result = env.step(standing)
        assert host(result.terminated).tolist() == [False, False, step == 4, False], step
        if step == 4:
            np.testing.assert_array_equal(host(env.state[2]), drawn["state"][2])
            np.testing.assert_array_equal(host(env.command[2]), drawn["commands"][2, 0])
            for other in (0, 1, 3):  # still in their own episodes
                assert not np.isin(host(env.state[other]), drawn["state"][other]).all()
            assert host(env._steps).tolist() == [4, 4, 0, 4]
            assert host(ahead.consumed).tolist() == [False, False, True, False]
            assert np.isfinite(host(env.state)).all()
    assert host(env._steps).tolist() == [10, 10, 6, 10]
    np.testing.assert_array_equal(host(env.command)[[0, 1, 3]], commands[[0, 1, 3], 1])
    np.testing.assert_array_equal(host(env.command)[2], drawn["commands"][2, 0])
    env.state[2] = float("nan")
    env.step(standing)
    np.testing.assert_array_equal(host(env.state[2]), drawn["state"][2])  # the same draw, again
    env.draw_ahead()
    assert env.episodes_repeated == 1 and env.draw_ahead() is None and env.episodes_repeated == 0


def test_a_resumed_curriculum_level_reaches_the_episodes_already_drawn_ahead() -> None:
    """A resumed run sets the rough-ground curriculum's level after the env's reset, when every
    robot's next episode is already drawn (at level 0): those are drawn again, at the level."""
    ranges = warp_ranges(GO2.randomization)[0]
    config = EnvConfig(num_envs=16, threads=1, backend="warp", randomization=ranges, episodes="ahead")
    env = VecGo2Env(GO2, config, TaskSampler(()), seed=1)
    env.reset()
    low, high = ranges.rough_ground_m
    assert (env.rough_height <= low).all()  # the next episodes' bumps, drawn at level 0
    env.set_terrain_level(1.0)
    assert (env.rough_height > (low + high) / 2).any()
