"""Training throughput: environment steps per second, simulation alone and with learning.

    .venv/bin/python bench/bench_train.py [--envs 512] [--iterations 5] [--threads 2]
    .venv/bin/python bench/bench_train.py --cost [--repeats 3]   # randomization's cost alone
    .venv/bin/python bench/bench_train.py --contact-cost [--repeats 3]   # the contact model's and asymmetry's
    .venv/bin/python bench/bench_train.py --against-tree OLD [--repeats 3]   # this tree's learning vs OLD's
    .venv/bin/python bench/bench_train.py --same-task-as OLD   # this tree's env outputs vs OLD's, bit for bit
    .venv/bin/python bench/bench_train.py --ranks 2 [--device cuda] [--backend warp]   # data-parallel vs 1 process
    .venv/bin/python bench/bench_train.py --learning-only --backend warp --device cuda --envs 4096   # one figure
    .venv/bin/python bench/bench_train.py --warp-drift [--envs 4]    # MuJoCo Warp (CPU device) against C MuJoCo
    .venv/bin/python bench/bench_train.py --device-ops --envs 64 [--device cuda]   # device ops per warp env step

One env step is one 20 ms control period of one Go2 (4 physics steps of EnvConfig.physics_period_s,
5 ms). Figures:
  baseline   one robot stepped by plain mujoco.mj_step in Python, one thread: the cost of the
             physics alone, measured in this run on this machine;
  sim        VecGo2Env (mujoco.rollout over --threads threads, rewards, observations, resets)
             driven by random actions, median of 3 runs: on the nominal robot, with the
             description's randomization on flat ground, and with rough ground at full curriculum;
  memory     peak RSS the environment adds (one textureless MjModel per robot, data, buffers);
  learning   RecurrentPpo iterations (collect with the GRU policy + PPO update with mirror
             augmentation), the real training loop: the nominal robot with the recurrent critic
             the earlier policies trained with, the same with the asymmetric MLP critic, and the
             randomized environment with it (what `memaug_train train` runs now);
  update     FLOPs of one PPO update per sample (torch's FlopCounterMode) and the FLOP/s it
             reaches: how far the update is from what the learning target leaves it.
Prints figures and ratios against the baseline; asserts nothing. The issue's targets (2-core
machine): 20,000 env-steps/s simulation, 10,000 with learning.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from memaug_common.description import load_robot_description
from memaug_sim.model import Actuation, build_model
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.methods import METHODS
from memaug_train.networks import NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.randomization import without_contact_model_and_asymmetry

if TYPE_CHECKING:  # imported where used: --against-tree runs this script on trees without it
    from memaug_train.distributed import Sync

#: The repository root (config/ for --same-task-as's old tree).
REPOSITORY = Path(__file__).resolve().parents[1]

#: The issue's targets on a 2-core machine, env steps per second.
SIM_TARGET = 20_000
LEARNING_TARGET = 10_000


def baseline_env_steps_per_s(seconds: float) -> float:
    """One robot, mj_step in a Python loop, standing targets: env steps (one control period each) per second."""
    description = load_robot_description("go2")
    config = EnvConfig()
    model = build_model(description, Actuation.POSITION)
    model.opt.timestep = config.physics_period_s
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key(description.standing_keyframe).id)
    data.ctrl[:] = description.default_pose
    substeps = round(description.control_period_s / config.physics_period_s)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        count += 1
    return count / (time.perf_counter() - start)


#: Physics terms of the randomization and their nominal (MJCF) values, for --terms: each held
#: at nominal in turn shows what it costs the simulation.
NOMINAL_TERMS = {
    "joint_damping": (0.1, 0.1),
    "joint_friction_loss": (0.0, 0.0),
    "armature_scale": (1.0, 1.0),
    "contact_time_constant_s": (0.02, 0.02),
}


def make_env(
    envs: int,
    threads: int,
    randomize: bool = False,
    terrain_level: float = 0.0,
    nominal_term: str | None = None,
    symmetric_rigid: bool = False,
    backend: str = "mujoco",
    physics_device: str = "cpu",
    task_arrays: str | None = None,
    episodes: str = "host",
) -> VecGo2Env:
    """A Go2 training env on the memaug method's tasks; ``episodes`` "ahead" (warp only) has
    12-step episodes, so that robots end and begin within a rollout."""
    description = load_robot_description("go2")
    method = METHODS["memaug"]
    ranges = description.randomization if randomize else None
    physics = {}  # only named for warp: --against-tree runs this on trees without the fields
    if backend == "warp":
        from memaug_train.warp_physics import warp_ranges

        ranges = warp_ranges(ranges)[0] if ranges is not None else None
        from memaug_train.task_arrays import library_for

        library = task_arrays or library_for(backend, physics_device)  # as `memaug_train train` picks it
        physics = {"backend": backend, "physics_device": physics_device, "task_arrays": library, "episodes": episodes}
        physics |= {"episode_steps": 12} if episodes == "ahead" else {}
    if ranges is not None and nominal_term is not None:
        ranges = ranges.model_copy(update={nominal_term: NOMINAL_TERMS[nominal_term]})
    if ranges is not None and symmetric_rigid:
        ranges = without_contact_model_and_asymmetry(ranges)
    config = EnvConfig(num_envs=envs, threads=threads, randomization=ranges, **physics)
    env = VecGo2Env(description, config, method.sampler(description), seed=0)
    env.terrain_level = terrain_level
    return env


def sim_env_steps_per_s(env: VecGo2Env, steps: int, repeats: int = 3) -> float:
    """Median over ``repeats`` runs of ``steps`` batch steps from a fresh reset (the machine is shared)."""
    envs = env.config.num_envs
    rng = np.random.default_rng(0)
    actions = rng.normal(0.0, 0.5, (steps, envs, env.description.num_joints))
    rates = []
    for _ in range(repeats):
        env.reset()
        env.step(actions[0])  # warm-up
        start = time.perf_counter()
        for action in actions:
            env.step(action)
        rates.append(steps * envs / (time.perf_counter() - start))
    return float(np.median(rates))


@dataclass(frozen=True)
class Learning:
    env_steps_per_s: float  # over whole iterations (collect + update)
    update_share: float  # of the iteration time
    update_flops_per_sample: float  # FLOPs of one update / samples it learns from
    update_flops_per_s: float  # FLOP/s the update reaches on this machine
    #: CPU time of the whole process (all threads) per env step, s: what the code costs,
    #: less moved than the wall clock by other work on a shared host
    cpu_s_per_step: float


def learning_throughput(
    envs: int,
    threads: int,
    iterations: int,
    torch_threads: int,
    randomize: bool,
    critic: str,
    symmetric_rigid: bool = False,
    sync: Sync | None = None,
    device: str = "cpu",
    backend: str = "mujoco",
) -> Learning:
    """Learning throughput of ``envs`` worlds; with ``sync`` (several ranks), of this rank's
    share of them, all ranks stepping together: the run's rate is world size times this one's.
    Without, it runs on trees from before memaug_train.distributed too (--against-tree)."""
    torch.set_num_threads(torch_threads)
    if sync is not None:
        envs = sync.ranks.worlds(envs)
    physics_device = str(sync.device) if sync is not None else device
    env = make_env(
        envs, threads, randomize, 0.5, symmetric_rigid=symmetric_rigid, backend=backend, physics_device=physics_device
    )
    privileged = env.privileged_layout.dim if critic == "mlp" else 0
    net = NetConfig(critic=critic, privileged_dim=privileged)
    if sync is None:
        ppo = RecurrentPpo(env, PpoConfig(net=net), device=device)
    else:
        ppo = RecurrentPpo(env, PpoConfig(net=net), seed=sync.ranks.seed(0), device=sync.device, sync=sync)
    buf = ppo.collect()
    with FlopCounterMode(display=False) as flops:  # also the warm-up
        ppo.update(buf)
    collect_s = update_s = 0.0
    cpu_start = time.process_time()
    for _ in range(iterations):
        t0 = time.perf_counter()
        buf = ppo.collect()
        t1 = time.perf_counter()
        ppo.update(buf)
        collect_s, update_s = collect_s + t1 - t0, update_s + time.perf_counter() - t1
    samples_per_update = ppo.config.steps_per_iteration * envs
    return Learning(
        env_steps_per_s=iterations * samples_per_update / (collect_s + update_s),
        update_share=update_s / (collect_s + update_s),
        update_flops_per_sample=flops.get_total_flops() / samples_per_update,
        update_flops_per_s=flops.get_total_flops() * iterations / update_s,
        cpu_s_per_step=(time.process_time() - cpu_start) / (iterations * samples_per_update),
    )


def randomization_cost(args: argparse.Namespace) -> None:
    """Randomization's cost to training throughput (the issue's target: at most 15 %): learning
    with the MLP critic on the nominal robot and on the randomized one, alternated
    ``--repeats`` times so that the host's drift hits both alike; medians and their ratio."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    for repeat in range(args.repeats):
        for randomize in (False, True):
            rate = learning_throughput(
                args.envs, args.threads, args.iterations, args.torch_threads, randomize, "mlp"
            ).env_steps_per_s
            rates[randomize].append(rate)
            print(
                f"repeat {repeat + 1}  learning, {'randomized' if randomize else 'nominal':10} {rate:9,.0f} env-steps/s"
            )
    nominal, randomized = (float(np.median(rates[k])) for k in (False, True))
    print(
        f"median    nominal {nominal:,.0f}, randomized {randomized:,.0f} env-steps/s: "
        f"randomization costs {1 - randomized / nominal:.0%} of learning throughput (target at most 15 %)"
    )


def contact_model_cost(args: argparse.Namespace) -> None:
    """What the contact-model and asymmetry terms cost training (issue 32's target: at most
    15 %): learning on the randomized robot with and without them, alternated ``--repeats``
    times; medians and their ratio."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}  # CPU s per env step: steadier on a shared host
    for repeat in range(args.repeats):
        for with_terms in (False, True):
            result = learning_throughput(
                args.envs, args.threads, args.iterations, args.torch_threads, True, "mlp", not with_terms
            )
            rates[with_terms].append(result.env_steps_per_s)
            cpu[with_terms].append(result.cpu_s_per_step)
            label = "with contact model + asymmetry" if with_terms else "without"
            print(
                f"repeat {repeat + 1}  learning, randomized, {label:31} {result.env_steps_per_s:9,.0f} env-steps/s, "
                f"{result.cpu_s_per_step * 1e6:.1f} us CPU per env step"
            )
    without, with_all = (float(np.median(rates[k])) for k in (False, True))
    cpu_without, cpu_with = (float(np.median(cpu[k])) for k in (False, True))
    print(
        f"median    without {without:,.0f}, with {with_all:,.0f} env-steps/s: the terms cost "
        f"{1 - with_all / without:.0%} of learning throughput by the wall clock, "
        f"{cpu_with / cpu_without - 1:.0%} more CPU per env step (target at most 15 %)"
    )


def learning_only(args: argparse.Namespace) -> None:
    """One figure: learning on the randomized robot with the MLP critic (what `memaug_train
    train` runs), C MuJoCo physics, the networks on --device; in one process, or as one of
    torchrun's ranks (rank 0 prints the run's rate)."""
    learning = functools.partial(learning_throughput, args.envs, args.threads, args.iterations, args.torch_threads)
    if "WORLD_SIZE" not in os.environ:  # one process, as any tree runs it
        result = learning(True, "mlp", device=args.device, backend=args.backend)
        print(
            f"learning  backend {args.backend}, device {args.device}, 1 rank(s) "
            f"{result.env_steps_per_s:9,.0f} env-steps/s "
            f"({args.envs} worlds), {result.cpu_s_per_step * 1e6:.1f} us CPU per env step"
        )
        return
    from memaug_train.distributed import Ranks, Sync, resolve_device

    ranks = Ranks.from_environment()
    device = resolve_device(args.device, ranks)
    sync = Sync.start(ranks, device)
    rate = learning(True, "mlp", sync=sync, backend=args.backend).env_steps_per_s * ranks.world_size
    sync.close()
    if ranks.is_main:
        print(
            f"learning  backend {args.backend}, device {device}, {ranks.world_size} rank(s) {rate:9,.0f} env-steps/s "
            f"({args.envs} worlds in all)"
        )


def data_parallel(args: argparse.Namespace) -> None:
    """--learning-only in one process against --ranks processes under torchrun (gloo on loopback
    for the CPU, NCCL for --device cuda), the same worlds in all, alternated --repeats times:
    medians and their ratio. On one machine the ranks share its cores (and its GPUs)."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    inner = [__file__, "--learning-only", "--envs", str(args.envs), "--threads", str(args.threads)]
    inner += ["--torch-threads", str(args.torch_threads), "--iterations", str(args.iterations), "--device", args.device]
    inner += ["--backend", args.backend]
    launch = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={args.ranks}"]
    launch += ["--master-addr=127.0.0.1", f"--master-port={port}"]
    commands = {1: [sys.executable, *inner], args.ranks: [*launch, *inner]}
    env = {"GLOO_SOCKET_IFNAME": "lo", **os.environ}  # gloo on loopback, beside the rendezvous
    rates: dict[int, list[float]] = {1: [], args.ranks: []}
    for repeat in range(args.repeats):
        for ranks, command in commands.items():
            rates[ranks].append(_figure(command, env, f"{ranks} rank(s)")[0])
            print(f"repeat {repeat + 1}  learning, {ranks} rank(s) {rates[ranks][-1]:9,.0f} env-steps/s", flush=True)
    one, many = (float(np.median(rates[k])) for k in commands)
    print(f"median    1 process {one:,.0f}, {args.ranks} ranks {many:,.0f} env-steps/s: {many / one:.2f}x")


def _figure(command: list[str], env: dict[str, str], label: str) -> tuple[float, float]:
    """The env-steps/s and the us of CPU per env step (NaN where not printed: several ranks)
    that a --learning-only subprocess prints."""
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    rate, cpu = re.search(r"([\d,]+) env-steps/s", out), re.search(r"([\d.]+) us CPU per env step", out)
    if rate is None:
        sys.exit(f"bench_train: no figure in the output of {label}: {out!r}")
    return float(rate.group(1).replace(",", "")), float(cpu.group(1)) if cpu else float("nan")


def against_tree(args: argparse.Namespace) -> None:
    """This tree's learning throughput against another checkout's (``--against-tree``: a copy of
    the repository at an older commit, e.g. from `git archive`), in alternating subprocesses so
    that the host's drift hits both alike: medians and their ratio (issue 31: the CPU path must
    stay within 5 % of the old tree's). The old tree's memaug_train is put first on PYTHONPATH;
    everything else (the other packages, this script) is this tree's."""
    old_package = Path(args.against_tree) / "src" / "memaug_train"
    if not (old_package / "memaug_train" / "ppo.py").is_file():
        sys.exit(f"bench_train: {old_package} holds no memaug_train package")
    command = [sys.executable, __file__, "--learning-only", "--envs", str(args.envs), "--threads", str(args.threads)]
    command += ["--torch-threads", str(args.torch_threads), "--iterations", str(args.iterations), "--device", "cpu"]
    rates: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    for repeat in range(args.repeats):
        for tree in ("old", "new"):
            env = dict(os.environ)
            if tree == "old":
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(old_package), env.get("PYTHONPATH")]))
            rate, us = _figure(command, env, f"the {tree} tree")
            rates[tree].append(rate)
            cpu[tree].append(us)
            print(
                f"repeat {repeat + 1}  learning, {tree} tree {rate:9,.0f} env-steps/s, {us:.1f} us CPU per env step",
                flush=True,
            )
    old, new = (float(np.median(rates[k])) for k in ("old", "new"))
    old_cpu, new_cpu = (float(np.median(cpu[k])) for k in ("old", "new"))
    print(
        f"median    old {old:,.0f}, new {new:,.0f} env-steps/s: new / old {new / old:.3f}; CPU per env step old "
        f"{old_cpu:.1f}, new {new_cpu:.1f} us: throughput by CPU time new / old {old_cpu / new_cpu:.3f} "
        "(issue 31: at least 0.95)"
    )


#: What --same-task-as compares, per step: every array a step returns.
STEP_OUTPUTS = ("obs", "reward", "terminated", "truncated", "privileged", "peak_speed_fraction", "base_velocity")


def task_outputs(path: str) -> None:
    """Write to ``path`` (.npz) what 150 steps of 16 randomized robots return, under large random
    actions, with 60-step episodes, command changes every 25 steps, a left-leg fault in 4 of 5
    episodes, pushes and the rough-ground curriculum's top level: every event a step handles."""
    from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

    description = load_robot_description("go2")
    config = EnvConfig(
        num_envs=16, threads=1, randomization=description.randomization, episode_steps=60, command_resample_steps=25
    )
    sampler = TaskSampler(leg_joints(description, LEFT_LEGS), fault_probability=0.8, fault_window_steps=(5, 40))
    env = VecGo2Env(description, config, sampler, seed=3)
    env.terrain_level = 1.0
    outputs = {"obs_reset": np.asarray(env.reset())}
    actions = np.random.default_rng(1)
    for step in range(150):
        result = env.step(actions.normal(0.0, 2.5, (16, description.num_joints)))
        outputs.update({f"{name}_{step}": np.asarray(getattr(result, name)) for name in STEP_OUTPUTS})
    np.savez(path, **outputs)


def same_task_as(args: argparse.Namespace) -> None:
    """Whether this tree's environment returns exactly what the checkout at ``--same-task-as``
    returns (every package of it, on PYTHONPATH, with this tree's config/): the arrays of
    task_outputs compared bit for bit. A refactor of the task must keep the CPU path's numbers."""
    old_src = Path(args.same_task_as) / "src"
    if not (old_src / "memaug_train" / "memaug_train" / "env.py").is_file():
        sys.exit(f"bench_train: {old_src} holds no memaug_train package")
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for tree in ("old", "new"):
            env = dict(os.environ)
            if tree == "old":
                packages = [str(path) for path in sorted(old_src.iterdir()) if path.is_dir()]
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [*packages, env.get("PYTHONPATH")]))
                env["MEMAUG_CONFIG_DIR"] = str(REPOSITORY / "config")
            files[tree] = str(Path(folder) / f"{tree}.npz")
            subprocess.run([sys.executable, __file__, "--task-outputs", files[tree]], env=env, check=True)
        old, new = np.load(files["old"]), np.load(files["new"])
        differ = [name for name in old.files if not np.array_equal(old[name], new[name])]
    falls = sum(int(old[f"terminated_{k}"].sum()) for k in range(150))
    timeouts = sum(int(old[f"truncated_{k}"].sum()) for k in range(150))
    first = f" (first: {differ[0]})" if differ else ""
    print(
        f"same-task  {len(old.files)} arrays over 150 steps ({falls} falls, {timeouts} time-outs): "
        f"{len(old.files) - len(differ)} equal bit for bit, {len(differ)} differ{first}"
    )


def warp_drift(args: argparse.Namespace) -> None:
    """How far MuJoCo Warp on its CPU device (float32) drifts from C MuJoCo (float64) on the
    training model, open loop: --envs worlds from the settled stand, the same joint targets (the
    default pose plus Gaussian noise of the given std, rad) for 200 control steps of 4 x 5 ms;
    nominal, then with per-world joint damping, armature and ground friction drawn (warp's
    batched model fields). Prints the first step's time (kernel compile, or the cache), the
    largest base-height and joint-angle gaps at a few steps, and world-steps/s of both. This
    is the evidence a parity test's tolerances are set from (issue 31, item 2); it needs
    mujoco-warp, which the default install does not have."""
    import copy
    import importlib.util

    if importlib.util.find_spec("mujoco_warp") is None:
        sys.exit("bench_train: --warp-drift needs mujoco-warp (pip install mujoco-warp), not installed here")
    import mujoco_warp as mjw
    import warp as wp

    from memaug_sim.model import ModelIndex
    from memaug_train.env import STATE_SPEC, settled_stand_state

    description = load_robot_description("go2")
    model = build_model(description, Actuation.POSITION, textures=False)
    model.opt.timestep = EnvConfig.physics_period_s
    substeps = round(description.control_period_s / model.opt.timestep)
    scratch = mujoco.MjData(model)
    home = settled_stand_state(model, scratch, ModelIndex.of(model, description).keyframe, description.default_pose)
    mujoco.mj_setState(model, scratch, home, STATE_SPEC)
    mujoco.mj_forward(model, scratch)
    n, steps = args.envs, 200
    fields = ("dof_damping", "dof_armature", "geom_friction")
    for randomized in (False, True):
        for noise in (0.1, 0.4):
            rng = np.random.default_rng(0)
            models = [copy.copy(model) for _ in range(n)]
            if randomized:
                joints = slice(6, None)  # after the floating base's 6 dofs
                for m in models:
                    m.dof_damping[joints] = rng.uniform(0.0, 2.0, description.num_joints)
                    m.dof_armature[joints] *= rng.uniform(0.5, 3.0, description.num_joints)
                    m.geom_friction[:, 0] *= rng.uniform(0.3, 1.25)
            with wp.ScopedDevice("cpu"):
                start = time.perf_counter()
                warp_model = mjw.put_model(model, batch_sizes=dict.fromkeys(fields, n))
                for name in fields:
                    batched = np.stack([getattr(m, name) for m in models]).astype(np.float32)
                    field = getattr(warp_model, name)
                    field.assign(wp.array(batched, dtype=field.dtype))
                warp_model.opt.warn_overflow = 0  # the linesearch limit warns every step; the drift is measured
                warp_data = mjw.put_data(model, scratch, nworld=n, nconmax=16 * n, njmax=64 * n)
                mjw.step(warp_model, warp_data)
                wp.synchronize()
                first_s = time.perf_counter() - start
                warp_data = mjw.put_data(model, scratch, nworld=n, nconmax=16 * n, njmax=64 * n)
            reference = [mujoco.MjData(m) for m in models]
            for data in reference:
                mujoco.mj_setState(model, data, home, STATE_SPEC)
                mujoco.mj_forward(model, data)
            targets = description.default_pose + noise * rng.normal(0.0, 1.0, (steps, n, model.nu))
            warp_s = c_s = 0.0
            report = []
            for t in range(steps):
                t0 = time.perf_counter()
                warp_data.ctrl.assign(targets[t].astype(np.float32))
                for _ in range(substeps):
                    mjw.step(warp_model, warp_data)
                qpos = warp_data.qpos.numpy()
                t1 = time.perf_counter()
                for m, data, target in zip(models, reference, targets[t], strict=True):
                    data.ctrl[:] = target
                    for _ in range(substeps):
                        mujoco.mj_step(m, data)
                t2 = time.perf_counter()
                warp_s, c_s = warp_s + t1 - t0, c_s + t2 - t1
                exact = np.stack([data.qpos for data in reference])
                if t + 1 in (1, 10, 50, 100, 150, 200):
                    height = np.abs(qpos[:, 2] - exact[:, 2]).max()
                    joints_err = np.abs(qpos[:, 7:] - exact[:, 7:]).max()
                    report.append(f"{t + 1}: {height:.0e} m / {joints_err:.0e} rad")
            label = f"{'randomized' if randomized else 'nominal'}, targets +-{noise:g} rad"
            rate = steps * substeps * n
            print(f"warp-drift  {label:30} first step {first_s:5.1f} s; base height / joint angle gap at step")
            print(f"            {'; '.join(report)}")
            print(f"            physics {rate / warp_s:,.0f} (warp, cpu) vs {rate / c_s:,.0f} (C MuJoCo) world-steps/s")


#: What --device-ops counts, by the warp function or array method that issues it.
DEVICE_OPERATIONS = {
    "kernel launches": (("launch", "launch_tiled"), ()),
    "device copies": (("copy",), ()),
    "host->device": ((), ("assign",)),
    "device->host": ((), ("numpy",)),
}


def device_ops(args: argparse.Namespace) -> None:
    """The device operations (kernel launches, copies, transfers) one env step of the warp
    backend issues, for 8 worlds and for --envs worlds on --device: the same count means no
    Python loop runs over worlds on the device side (issue 31, item 5). Steps are counted apart
    by how many robots' models changed before them (resets and fault starts change a few per
    step): none, one, every one (a fault starting within the step adds its robot). Kernel
    launches vary from step to step with the constraint solver's iterations (mujoco_warp
    repeats its iteration kernels while any world has not converged), so their range is
    printed. Each count is taken with the task's arrays in NumPy (state to the host and back each
    step) and as torch tensors on the device, whose bytes brought to the host per step are
    printed too (the fall mask): these draw episodes on the host as they begin, looping over the
    robots that reset or start a fault (their MjModels). Last, what `memaug_train train --backend
    warp` runs: episodes drawn ahead (_drawn_ahead_ops), where a step brings nothing back."""
    import importlib.util

    if importlib.util.find_spec("mujoco_warp") is None:
        sys.exit("bench_train: --device-ops needs mujoco-warp (pip install -e 'src/memaug_train[gpu]'), not installed")
    import warp as wp

    counts = dict.fromkeys(DEVICE_OPERATIONS, 0)
    originals = []

    def counting(owner: object, name: str, kind: str) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))

        @functools.wraps(original)
        def wrapper(*a: object, **k: object) -> object:
            counts[kind] += 1
            return original(*a, **k)

        setattr(owner, name, wrapper)

    for kind, (functions, methods) in DEVICE_OPERATIONS.items():
        for name in functions:
            counting(wp, name, kind)
        for name in methods:
            counting(wp.array, name, kind)
    try:
        for worlds, library in itertools.product((8, args.envs), ("numpy", "torch")):
            env = make_env(worlds, 1, randomize=True, backend="warp", physics_device=args.device, task_arrays=library)
            rng = np.random.default_rng(0)
            env.reset()
            for _ in range(2):  # the first steps compile (or load) the kernels and read every model
                env.step(rng.normal(0.0, 0.5, (worlds, env.description.num_joints)))
            # Each third step one robot's model is marked changed, each third every robot's
            # (what resets and fault starts do, a few robots at a time in training).
            marks = {1: "1 marked", 2: f"{worlds} marked", 0: "none marked"}
            seen: dict[str, list[tuple[int, ...]]] = {label: [] for label in marks.values()}
            env.arrays.bytes_to_host = 0
            for step in range(args.sim_steps):
                env.model_changed[:] = False
                env.model_changed[: {0: 0, 1: 1, 2: worlds}[step % 3]] = True
                before = dict(counts)
                env.step(rng.normal(0.0, 0.5, (worlds, env.description.num_joints)))
                seen[marks[step % 3]].append(tuple(counts[k] - before[k] for k in counts))
            for label, steps in seen.items():
                where = f"{worlds:5} worlds on {args.device}, {library} task"
                print(f"device-ops  {where}, {label:16} {_spans(counts, steps)}")
            to_host = env.arrays.bytes_to_host / args.sim_steps  # counted for device arrays only
            if library == "torch":
                print(f"device-ops  {worlds:5} worlds on {args.device}, torch task: {to_host:.0f} B/step to the host")
            del env
        for worlds in (8, args.envs):
            _drawn_ahead_ops(worlds, args, counts)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _spans(counts: dict[str, int], steps: list[tuple[int, ...]]) -> str:
    """Each kind of device operation's range over ``steps`` (per-step counts in ``counts``' order)."""
    spans = np.array(steps)
    return ", ".join(
        f"{kind} {low}" + (f"-{high}" if high != low else "")
        for kind, low, high in zip(counts, spans.min(0), spans.max(0), strict=True)
    )


def _drawn_ahead_ops(worlds: int, args: argparse.Namespace, counts: dict[str, int]) -> None:
    """What `memaug_train train --backend warp` runs: torch task arrays, episodes drawn ahead
    (memaug_train.episodes_ahead). Per control step: the Warp operations (``counts``, counted by
    the caller's wrappers), the torch operations (every aten op the step dispatches) and the
    bytes brought to the host, over rollouts of 24 steps with 12-step episodes, so robots end
    and begin within them; then the host's draw between rollouts, in operations and time."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class TorchOps(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            TorchOps.count += 1
            return func(*args, **(kwargs or {}))

    env = make_env(
        worlds, 1, randomize=True, backend="warp", physics_device=args.device, task_arrays="torch", episodes="ahead"
    )
    rng = np.random.default_rng(0)
    env.reset()
    env.step(rng.normal(0.0, 0.5, (worlds, env.description.num_joints)))  # compiles (or loads) the kernels
    env.draw_ahead()
    steps: list[tuple[int, ...]] = []
    draws: list[tuple[int, ...]] = []
    draw_s, began, bytes_in_rollouts = 0.0, 0, 0
    for _ in range(max(1, args.sim_steps // 24)):
        env.arrays.bytes_to_host = 0
        for _ in range(24):
            before, torch_before = dict(counts), TorchOps.count
            with TorchOps():
                result = env.step(torch.as_tensor(rng.normal(0.0, 0.5, (worlds, env.description.num_joints))))
            steps.append((*(counts[k] - before[k] for k in counts), TorchOps.count - torch_before))
            began += int((result.terminated | result.truncated).sum())
        bytes_in_rollouts += env.arrays.bytes_to_host
        before = dict(counts)
        start = time.perf_counter()
        env.draw_ahead()
        draw_s += time.perf_counter() - start
        draws.append(tuple(counts[k] - before[k] for k in counts))
    kinds = {**counts, "torch ops": 0}
    label = f"device-ops  {worlds:5} worlds on {args.device}, torch task, episodes drawn ahead:"
    print(f"{label} per step {_spans(kinds, steps)}; {bytes_in_rollouts} B to the host inside the rollouts")
    rollouts = len(draws)
    print(
        f"{label} between rollouts {_spans(counts, draws)}; the host draws {began / rollouts:.0f} episodes "
        f"in {draw_s / rollouts * 1e3:.1f} ms per rollout of 24 steps"
    )


def host_task(args: argparse.Namespace) -> None:
    """The host-side task's share of a control step at --envs worlds (observations, rewards,
    terminations, resets with their randomization draws, fault starts, pushes: NumPy on the CPU
    for both backends), with C MuJoCo's physics timed apart and taken out. A GPU speeds only the
    physics, so N / task time is the most env-steps/s any backend can reach with this task on
    this CPU; the figure for the issue's 100k goal. Randomized robots, the fault task family,
    rough ground at the curriculum's top. Also the bytes the warp backend moves between host and
    device per control step at this many worlds (state and controls up, states and sensors down)."""
    env = make_env(args.envs, args.threads, randomize=True, terrain_level=1.0)
    physics_s = 0.0
    rollout = env._rollout

    class TimedRollout:
        def rollout(self, *a: object, **k: object) -> object:
            nonlocal physics_s
            start = time.perf_counter()
            out = rollout.rollout(*a, **k)
            physics_s += time.perf_counter() - start
            return out

    env._rollout = TimedRollout()
    rng = np.random.default_rng(0)
    env.reset()
    # Episodes spread over their length, as in training's steady state: a few reset each step.
    env.step_count[:] = rng.integers(0, env.config.episode_steps, args.envs)
    for _ in range(3):
        env.step(rng.normal(0.0, 0.5, (args.envs, env.description.num_joints)))
    physics_s, resets = 0.0, 0
    start = time.perf_counter()
    for _ in range(args.sim_steps):
        result = env.step(rng.normal(0.0, 0.5, (args.envs, env.description.num_joints)))
        resets += int((result.terminated | result.truncated).sum())
    total = (time.perf_counter() - start) / args.sim_steps
    task = total - physics_s / args.sim_steps
    print(
        f"host-task  {args.envs} worlds: task {task * 1e3:.1f} ms per control step "
        f"({task / args.envs * 1e6:.2f} us per world; {resets / args.sim_steps:.1f} resets per step), "
        f"C MuJoCo physics {physics_s / args.sim_steps * 1e3:.0f} ms on {args.threads} threads"
    )
    print(f"host-task  the task alone caps any backend at {args.envs / task:,.0f} env-steps/s on this CPU")
    from memaug_train.warp_physics import BATCHED

    float_bytes = 4  # Warp steps in float32
    up = env.state.shape[1] + env._control.shape[1] * env._control.shape[2]
    down = env._states_out.shape[1] * (env._states_out.shape[2] + env._sensors_out.shape[2])
    # A robot whose model changed (a reset, a fault start) sends its rows of the per-world fields.
    fields = sum(getattr(env.models[0], name).size for name in BATCHED)
    print(
        f"host-task  warp moves {up * args.envs * float_bytes / 1e6:.2f} MB up and "
        f"{down * args.envs * float_bytes / 1e6:.2f} MB down per control step at {args.envs} worlds, and "
        f"{fields * float_bytes / 1e3:.1f} kB of model fields up per robot whose model changed"
    )


def randomization_terms(args: argparse.Namespace) -> None:
    """Where randomization's cost goes: the randomized env on flat ground, then with each physics
    term held at its nominal value, against the nominal env, all in this run."""
    nominal = sim_env_steps_per_s(make_env(args.envs, args.threads), args.sim_steps)
    randomized = sim_env_steps_per_s(make_env(args.envs, args.threads, True), args.sim_steps)
    print(f"sim  {'nominal':46} {nominal:9,.0f} env-steps/s")
    print(f"sim  {'randomized, flat':46} {randomized:9,.0f} env-steps/s  ({randomized / nominal:.2f}x nominal)")
    for term in NOMINAL_TERMS:
        rate = sim_env_steps_per_s(make_env(args.envs, args.threads, True, nominal_term=term), args.sim_steps)
        print(f"sim  {'randomized, ' + term + ' nominal':46} {rate:9,.0f} env-steps/s  ({rate / nominal:.2f}x nominal)")


#: The benchmark's single-figure modes: flag -> (what it runs, its help). Without one (nor
#: --ranks or --against-tree) the whole benchmark runs.
ONLY_MODES = {
    "learning-only": (learning_only, "learning throughput, randomized robot, MLP critic"),
    "warp-drift": (warp_drift, "MuJoCo Warp (CPU device) against C MuJoCo, open loop"),
    "device-ops": (device_ops, "device operations per warp env step, 8 worlds against --envs (--device, --sim-steps)"),
    "cost": (randomization_cost, "randomization's cost to learning throughput, --repeats alternations"),
    "contact-cost": (
        contact_model_cost,
        "the contact model's and asymmetry's cost to learning throughput, --repeats alternations",
    ),
    "terms": (randomization_terms, "randomized sim throughput with each physics term held nominal"),
    "host-task": (host_task, "the host-side task's time per control step at --envs worlds, physics taken out"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="MuJoCo rollout threads")
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--sim-steps", type=int, default=60, help="control steps of the whole batch")
    parser.add_argument("--iterations", type=int, default=5, help="PPO iterations")
    for flag, (_, help_text) in ONLY_MODES.items():
        parser.add_argument(f"--{flag}", action="store_true", help=f"only: {help_text}")
    parser.add_argument(
        "--against-tree",
        default=None,
        metavar="OLD",
        help="only: --learning-only of this tree against the checkout at OLD, --repeats alternations",
    )
    parser.add_argument(
        "--same-task-as",
        default=None,
        metavar="OLD",
        help="only: whether this tree's environment returns bit for bit what the checkout at OLD returns",
    )
    parser.add_argument("--task-outputs", default=None, metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument(
        "--ranks", type=int, default=None, help="only: --learning-only under torchrun on this many ranks vs 1 process"
    )
    parser.add_argument(
        "--backend", choices=["mujoco", "warp"], default="mujoco", help="physics for --learning-only and --ranks"
    )
    parser.add_argument("--device", default="cpu", help="for --learning-only and --ranks: cpu, cuda or cuda:N")
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternations for --cost, --contact-cost and --against-tree"
    )
    args = parser.parse_args()
    for flag, (mode, _) in ONLY_MODES.items():
        if getattr(args, flag.replace("-", "_")):
            mode(args)
            return
    if args.task_outputs:  # one side of --same-task-as
        task_outputs(args.task_outputs)
        return
    if args.same_task_as:
        same_task_as(args)
        return
    if args.ranks is not None:
        data_parallel(args)
        return
    if args.against_tree:
        against_tree(args)
        return
    print(f"machine: {os.cpu_count()} CPUs; {args.envs} envs, {args.threads} rollout threads")
    baseline = baseline_env_steps_per_s(3.0)
    print(f"baseline  mj_step, 1 robot, 1 thread   {baseline:9,.0f} env-steps/s")
    # Peak RSS grows by what the environment allocates (models, data, buffers): its memory.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    env = make_env(args.envs, args.threads)
    env_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    per_robot_kb = env_mb * 1024 / args.envs
    print(f"memory    VecGo2Env({args.envs})               {env_mb:9,.0f} MB  ({per_robot_kb:.0f} kB per robot)")
    sim = sim_env_steps_per_s(env, args.sim_steps)
    del env
    print(f"sim       VecGo2Env, nominal           {sim:9,.0f} env-steps/s  ({sim / baseline:.2f}x baseline)")
    for label, level in (("randomized, flat", 0.0), ("randomized, rough", 1.0)):
        rate = sim_env_steps_per_s(make_env(args.envs, args.threads, True, level), args.sim_steps)
        print(f"sim       VecGo2Env, {label:17} {rate:9,.0f} env-steps/s  ({rate / sim:.2f}x nominal)")
    runs = {}
    for label, randomize, critic in (
        ("nominal, GRU critic", False, "memory"),
        ("nominal, MLP critic", False, "mlp"),
        ("randomized, MLP critic", True, "mlp"),
    ):
        result = runs[label] = learning_throughput(
            args.envs, args.threads, args.iterations, args.torch_threads, randomize, critic
        )
        print(
            f"learning  {label:26} {result.env_steps_per_s:9,.0f} env-steps/s  "
            f"({result.env_steps_per_s / baseline:.2f}x baseline, {result.update_share:.0%} of the time in the "
            f"update, {result.update_flops_per_sample / 1e6:.2f} MFLOP per sample at "
            f"{result.update_flops_per_s / 1e9:.0f} GFLOP/s)"
        )
    gru, mlp, randomized = (runs[k].env_steps_per_s for k in runs)
    print(f"ratios    MLP critic / GRU critic {mlp / gru:.2f}x; randomization costs {1 - randomized / mlp:.0%} of it")
    learning = randomized
    sim_for_target = sim
    budget_s = max(1 / LEARNING_TARGET - 1 / sim_for_target, 0.0)
    result = runs["randomized, MLP critic"]
    print(
        f"update    {LEARNING_TARGET:,} with learning at the nominal sim rate leaves {budget_s * 1e6:.0f} us "
        f"per sample "
        f"= {budget_s * result.update_flops_per_s / 1e6:.2f} MFLOP at the update's rate"
    )
    print(
        f"targets   sim {SIM_TARGET:,} ({sim / SIM_TARGET:.0%} of it), "
        f"learning {LEARNING_TARGET:,} ({learning / LEARNING_TARGET:.0%} of it)"
    )


if __name__ == "__main__":
    main()
