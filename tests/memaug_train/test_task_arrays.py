"""The task on torch tensors against the task on NumPy: one code body, the same robots.

Torch here runs on the CPU; on a GPU the same code runs with its tensors there (issue 31).
What a step brings to the host with Warp is tested in test_warp_backend."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.task_arrays import TaskArrays, library_for
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

GO2 = load_robot_description("go2")
ROBOTS = 16


def run(task_arrays: str, steps: int, faults: bool) -> tuple[VecGo2Env, list[dict[str, np.ndarray]]]:
    """``steps`` steps of 16 nominal robots under large random actions (robots fall, kneel and time
    out within 40-step episodes; with ``faults``, a left-leg fault starts in 4 of 5)."""
    sampler = TaskSampler(
        leg_joints(GO2, LEFT_LEGS), fault_probability=0.8 if faults else 0.0, fault_window_steps=(5, 40)
    )
    config = EnvConfig(
        num_envs=ROBOTS,
        threads=1,
        episode_steps=40,
        command_resample_steps=25,
        task_arrays=task_arrays,
        knee_down_ends_episode=True,  # that rule too, on either library
    )
    env = VecGo2Env(GO2, config, sampler, seed=3)
    outputs = [{"obs": np.asarray(env.reset())}]
    env.arrays.bytes_to_host = 0
    actions = np.random.default_rng(1)
    for _ in range(steps):
        result = env.step(actions.normal(0.0, 2.5, (ROBOTS, GO2.num_joints)))
        fields = ("obs", "reward", "terminated", "truncated", "privileged", "peak_speed_fraction", "base_velocity")
        outputs.append({name: np.asarray(getattr(result, name)) for name in fields})
    return env, outputs


def test_the_torch_task_steps_the_same_robots_as_the_numpy_task() -> None:
    """From the same draws, 150 steps of observations, rewards, terminations, time-outs and the
    critic's terms agree to float64 rounding (measured: 4.4e-16), across falls, time-outs,
    command changes and fault starts; and the torch task's outputs are torch tensors."""
    numpy_env, expected = run("numpy", 150, faults=True)
    torch_env, actual = run("torch", 150, faults=True)
    assert type(torch_env.state).__module__.startswith("torch")
    falls = sum(int(step["terminated"].sum()) for step in expected[1:])
    timeouts = sum(int(step["truncated"].sum()) for step in expected[1:])
    assert falls > 10 and timeouts > 5 and numpy_env.fault_active.any()  # every event happened
    for k, (want, got) in enumerate(zip(expected, actual, strict=True)):
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12, err_msg=f"step {k}: {name}")


def test_the_torch_task_draws_its_noise_from_its_own_stream() -> None:
    """The device generator takes nothing from the host's stream: a randomized torch task is
    built from the same host stream as the NumPy task and draws the same first episodes (the
    NumPy task's sensor noise then comes from that stream, the torch task's from the device)."""
    built, episodes = [], []
    for library in ("numpy", "torch"):
        config = EnvConfig(num_envs=4, threads=1, randomization=GO2.randomization, task_arrays=library)
        env = VecGo2Env(GO2, config, TaskSampler(leg_joints(GO2, LEFT_LEGS), fault_probability=0.8), seed=5)
        built.append(env.rng.bit_generator.state)
        env.reset()
        episodes.append((env.tasks, env.dynamics, env.action_delay.tolist(), env.next_push.tolist()))
    assert built[0] == built[1] and episodes[0] == episodes[1]


def test_randomized_robots_draw_their_sensor_noise_on_the_task_device() -> None:
    """A randomized torch task: noise from the device's generator, the same scale as NumPy's."""
    config = EnvConfig(num_envs=ROBOTS, threads=1, randomization=GO2.randomization, task_arrays="torch")
    env = VecGo2Env(GO2, config, TaskSampler(()), seed=0)
    first = np.asarray(env.reset())
    again = np.asarray(env.observe())  # same state, new noise
    gyro = slice(0, 3)
    spread = np.abs(again[:, gyro] - first[:, gyro]).max()
    assert 0 < spread <= 2 * GO2.randomization.observation_noise.gyro * env.layout.scale[0] + 1e-9


@pytest.mark.parametrize(
    ("library", "device", "problem"),
    [("jax", "cpu", "library must be one of"), ("numpy", "cuda", "NumPy arrays live on the host")],
)
def test_task_arrays_refuse_what_they_cannot_hold(library: str, device: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        TaskArrays(library, device)


def test_ppo_collects_and_learns_from_a_torch_task() -> None:
    """The training loop takes the torch task's tensors as they are: one collect and update of
    the asymmetric actor-critic with the mirror, and episodes that end are logged."""
    from memaug_train.networks import NetConfig
    from memaug_train.ppo import PpoConfig, RecurrentPpo

    config = EnvConfig(num_envs=8, threads=1, episode_steps=20, task_arrays="torch")
    env = VecGo2Env(GO2, config, TaskSampler(leg_joints(GO2, LEFT_LEGS), fault_probability=0.5), seed=0)
    ppo = RecurrentPpo(env, PpoConfig(net=NetConfig(critic="mlp", privileged_dim=env.privileged_layout.dim)))
    before = [p.detach().clone() for p in ppo.model.parameters()]
    buffer = ppo.collect()
    ppo.update(buffer)
    assert len(ppo.finished_returns) >= 8  # every robot's 20-step episode ended at least once
    assert all(np.isfinite(ppo.finished_returns))
    assert any(not bool((p == q).all()) for p, q in zip(ppo.model.parameters(), before, strict=True))


@pytest.mark.parametrize(
    ("backend", "device", "library"),
    [("mujoco", "cpu", "numpy"), ("mujoco", "cuda", "numpy"), ("warp", "cpu", "numpy"), ("warp", "cuda:1", "torch")],
)
def test_a_run_keeps_its_task_arrays_where_its_physics_steps(backend: str, device: str, library: str) -> None:
    """C MuJoCo steps on the host whatever device the networks use (`train --device cuda`
    with the default backend); only Warp on a GPU keeps the task there."""
    assert library_for(backend, device) == library


def test_c_mujoco_with_the_networks_on_a_gpu_keeps_a_numpy_task() -> None:
    """The environment `memaug_train train --device cuda` builds with the default backend: its
    physics device names the GPU, its task stays NumPy on the host (no GPU needed to build it)."""
    env = VecGo2Env(GO2, EnvConfig(num_envs=2, threads=1, physics_device="cuda"), TaskSampler(()), seed=0)
    assert isinstance(env.reset(), np.ndarray) and env.arrays.on_host
