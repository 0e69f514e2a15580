"""memaug_train: train, evaluate and export memory-augmented locomotion policies.

memaug_train train --method memaug --run-dir runs/memaug --iterations 2000
memaug_train train --run-dir runs/memaug --resume           # continue from checkpoint.pt
torchrun --nproc-per-node 2 -m memaug_train train --run-dir runs/dp --envs 1024   # data-parallel, 512 per rank
memaug_train export runs/memaug/checkpoint.pt config/policies/go2_memaug.onnx
memaug_train eval runs/*/checkpoint.pt --episodes 16
memaug_train probe runs/memaug/checkpoint.pt --kind limp   # speed kept after each joint fails
memaug_train speed runs/memaug_snap/ckpt_*.pt               # which snapshots the suite should score
.venv/bin/tensorboard --logdir runs                         # every run's curves (RUN/tensorboard)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from memaug_common.arguments import ArgumentParser
from memaug_common.description import load_robot_description, whole_steps
from memaug_policy.observation import ObservationLayout
from memaug_policy.velocity_loop import VelocityFeedback
from memaug_train.backends import BACKENDS, DEFAULT_BACKEND, check_backend
from memaug_train.checkpoints import load_trained
from memaug_train.distributed import Ranks, Sync, parse_device, resolve_device
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.export import build_metadata, export_onnx
from memaug_train.methods import METHODS
from memaug_train.monitor import TrainingMonitor
from memaug_train.networks import ActorCritic, NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.randomization import describe as describe_randomization
from memaug_train.rewards import describe_rewards
from memaug_train.task_arrays import library_for
from memaug_train.tasks import CommandRanges
from memaug_train.warp_physics import warp_ranges


def _train(args: argparse.Namespace) -> int:
    """One process of a training run: the only one, or one of torchrun's ranks
    (memaug_train.distributed). Refusals that every rank reaches alike (the arguments, the
    machine) come before the ranks meet; those that read the run directory, rank 0 makes and
    the others learn by broadcast, so that every rank exits with the same status."""
    # OpenMP keeps its default wait policy on purpose (spin briefly, then sleep):
    # OMP_WAIT_POLICY=PASSIVE put torch's threads to sleep between the update's thousands of
    # small kernels and made the update 1.4x slower on 2 cores (bench/bench_train.py:
    # learning 4.9k vs 6.0k env-steps/s).
    torch.set_num_threads(args.torch_threads)
    try:
        ranks = Ranks.from_environment()
        device = resolve_device(args.device, ranks)
        if args.backend is not None:
            check_backend(args.backend)
        if not args.resume:
            ranks.worlds(args.envs)
    except ValueError as exc:
        return _refuse(os.environ.get("RANK", "0") == "0", str(exc))
    sync = Sync.start(ranks, device)
    finished = False
    try:
        status = _train_rank(args, sync)
        finished = True
        return status
    finally:
        sync.close(finished)


def _refuse(main: bool, problem: str) -> int:
    """Exit status 2; the line that names the problem comes from rank 0 alone (one line for the
    run, not one per rank)."""
    if main:
        print(f"memaug_train: {problem}", file=sys.stderr)
    return 2


def _open_run(args: argparse.Namespace, run_dir: Path) -> tuple[dict | None, str | None]:
    """Rank 0's look at the run directory: (run.json's record on --resume, else None; the
    refusal, else None)."""
    checkpoint, meta_path = run_dir / "checkpoint.pt", run_dir / "run.json"
    if not args.resume:
        if checkpoint.exists():
            return None, f"{checkpoint} exists; use --resume or another --run-dir"
        return None, None
    if not meta_path.is_file() or not checkpoint.is_file():
        return None, f"--resume needs {meta_path} and {checkpoint}"
    return json.loads(meta_path.read_text()), None


def _refuse_resume(meta: dict, args: argparse.Namespace, ranks: Ranks) -> str | None:
    """Why this resume cannot go on the run's way, or None: the run's worlds are split over the
    same number of ranks and step on the same physics (runs from before these records: one
    process, C MuJoCo)."""
    trained = meta.get("world_size", 1)
    if trained != ranks.world_size:
        launch = f"torchrun --nproc-per-node {trained}" if trained > 1 else "one process (no torchrun)"
        return f"{args.run_dir} trained on {trained} rank(s), this is {ranks.world_size}: resume it with {launch}"
    backend = meta.get("backend", DEFAULT_BACKEND)
    if args.backend is not None and args.backend != backend:
        return f"{args.run_dir} trained on --backend {backend}; it cannot resume on --backend {args.backend}"
    return None


def _train_rank(args: argparse.Namespace, sync: Sync) -> int:
    ranks = sync.ranks
    main = ranks.is_main
    run_dir = Path(args.run_dir)
    checkpoint = run_dir / "checkpoint.pt"
    meta_path = run_dir / "run.json"
    physics_period_s = EnvConfig.physics_period_s
    meta, refusal = sync.broadcast_object(_open_run(args, run_dir) if main else None)
    if meta is not None and refusal is None:
        refusal = _refuse_resume(meta, args, ranks)
    if refusal is not None:
        return _refuse(main, refusal)
    backend = args.backend or (meta or {}).get("backend", DEFAULT_BACKEND)
    try:  # a resumed run's own backend, which this install may lack
        check_backend(backend)
    except ValueError as exc:
        return _refuse(main, str(exc))
    if args.resume:
        assert meta is not None
        for key in ("method", "robot", "envs", "hidden", "seed"):
            setattr(args, key, meta[key])
        # A run resumes on the physics, critic and randomization it began with (runs from
        # before these keys: what they trained with then).
        physics_period_s = meta.get("physics_period_s", physics_period_s)
        args.critic = meta["ppo"]["net"].get("critic", "memory")
        resumed_net = NetConfig.from_json(meta["ppo"]["net"])
        args.randomize = "randomization" in meta
    method = METHODS[args.method]
    description = load_robot_description(args.robot)
    if args.physics_period_ms is not None:
        physics_period_s = args.physics_period_ms / 1e3
        if whole_steps(description.control_period_s, physics_period_s) is None:
            return _refuse(
                main,
                f"--physics-period-ms {args.physics_period_ms:g} does not divide the "
                f"{description.control_period_s * 1e3:g} ms control period",
            )
    commands = run_commands(meta if args.resume else {})
    for axis, bounds in (("vy", args.vy_range), ("yaw_rate", args.yaw_rate_range)):
        if bounds is not None:
            low, high = bounds
            # The mirror augmentation flips lateral and yaw commands: an asymmetric range would
            # train on mirrored commands outside the range the export records.
            if not (high > 0.0 and low == -high):
                return _refuse(
                    main, f"{_range_flag(axis)} must be -X X with X > 0 (the mirror flips it), got {low:g} {high:g}"
                )
            commands = dataclasses.replace(commands, **{axis: (low, high)})
    ranges = description.randomization if args.randomize else None
    if backend == "warp" and ranges is not None:
        ranges, dropped = warp_ranges(ranges)
        if dropped and main:
            print(
                f"memaug_train: --backend warp trains without {', '.join(dropped)}: MuJoCo Warp holds one contact "
                "model for all worlds (run.json records the ranges it trains on)",
                file=sys.stderr,
            )
    env_config = EnvConfig(
        num_envs=ranks.worlds(args.envs),
        threads=args.threads,
        physics_period_s=physics_period_s,
        randomization=ranges,
        commands=commands,
        backend=backend,
        physics_device=str(sync.device),
        task_arrays=library_for(backend, str(sync.device)),
        # Warp starts episodes on its device from draws made between rollouts: nothing
        # crosses inside a rollout (memaug_train.episodes_ahead).
        episodes="ahead" if backend == "warp" else "host",
    )
    env = VecGo2Env(description, env_config, method.sampler(description), seed=ranks.seed(args.seed))
    privileged_dim = env.privileged_layout.dim if args.critic == "mlp" else 0
    if args.estimator_hidden and not (privileged_dim and method.cell == "gru"):
        return _refuse(main, "--estimator-hidden needs the MLP critic and a gru method")
    net = NetConfig(
        cell=method.cell,
        hidden=args.hidden,
        critic=args.critic,
        privileged_dim=privileged_dim,
        velocity_estimator=privileged_dim > 0 and method.cell != "mlp",
        estimator_hidden=args.estimator_hidden,
    )
    if args.resume:  # the run's own settings, as run.json has them
        settings = {
            "net": resumed_net,
            "critic_warmup_iterations": meta["ppo"].get("critic_warmup_iterations", 0),
            "learning_rate": meta["ppo"]["learning_rate"],
        }
    else:
        settings = {
            "net": net,
            "critic_warmup_iterations": args.critic_warmup,
            "learning_rate": args.learning_rate,
        }
    config = PpoConfig(
        augment=method.augment, **settings, **_changeable_settings(args, meta["ppo"] if args.resume else None)
    )
    device = sync.device
    ppo = RecurrentPpo(env, config, seed=ranks.seed(args.seed), device=device, sync=sync)
    if main:
        over = f" x {ranks.world_size} ranks, {env_config.num_envs} worlds each" if ranks.world_size > 1 else ""
        physics = f"MuJoCo Warp on {device} steps" if backend == "warp" else f"{args.threads} MuJoCo threads step"
        print(
            f"training on {device}{over}: networks and updates; {physics} the environments "
            f"(physics step {physics_period_s * 1e3:g} ms)"
        )
    if args.resume:
        assert meta is not None
        ppo.load(checkpoint)
    if args.resume and main:
        assert meta is not None
        print(f"resumed {run_dir} at iteration {ppo.iteration} ({ppo.env_steps} env steps)")
        # Runs from before these records trained on C MuJoCo in one process, on a device not kept.
        meta.setdefault("backend", backend)
        meta.setdefault("world_size", ranks.world_size)
        meta.setdefault("device", str(device))
        meta_path.write_text(json.dumps(meta, indent=2))
        _record_changes(meta, meta_path, ppo.iteration, "device", str(device))
        _record_changes(meta, meta_path, ppo.iteration, "rewards", describe_rewards())
        _record_changes(meta, meta_path, ppo.iteration, "physics_period_s", physics_period_s)
        meta.setdefault("commands", _as_json(CommandRanges()))  # runs from before the record: the defaults
        _record_changes(meta, meta_path, ppo.iteration, "commands", _as_json(commands))
        _record_changes(meta, meta_path, ppo.iteration, "ppo", _as_json(config))
        if env_config.randomization is not None:
            _record_changes(
                meta, meta_path, ppo.iteration, "randomization", describe_randomization(env_config.randomization)
            )
    if not args.resume and args.init_actor:  # every rank reads the same file
        try:
            ppo.init_actor(Path(args.init_actor), critic=args.init_critic)
        except ValueError as exc:  # a network of another shape: say which part
            return _refuse(main, f"--init-actor {args.init_actor}: {exc}")
        if main:
            taken = "actor and critic" if args.init_critic else "actor"
            print(f"{taken} from {args.init_actor}; the critic alone learns for {args.critic_warmup} iterations")
    if not args.resume and main:
        run_dir.mkdir(parents=True, exist_ok=True)
        meta = {
            "method": args.method,
            "robot": args.robot,
            "envs": args.envs,
            "hidden": args.hidden,
            "seed": args.seed,
            "physics_period_s": physics_period_s,
            "ppo": dataclasses.asdict(config),
            "command": " ".join(sys.argv),
            "init_actor": args.init_actor,
            "init_critic": args.init_critic,
            "rewards": describe_rewards(),
            "commands": _as_json(commands),
            "backend": backend,
            "device": str(device),
            "world_size": ranks.world_size,
        }
        if env_config.randomization is not None:
            meta["randomization"] = describe_randomization(env_config.randomization)
        meta_path.write_text(json.dumps(meta, indent=2))
    if not main:  # the other ranks learn beside rank 0, which alone logs and checkpoints
        ppo.train(args.iterations, run_dir, checkpoint_every=args.checkpoint_every)
        return 0
    with TrainingMonitor(
        run_dir, args.method, ppo.iteration, ppo.env_steps, args.iterations, quiet=args.quiet
    ) as monitor:
        ppo.train(args.iterations, run_dir, checkpoint_every=args.checkpoint_every, on_iteration=monitor.update)
    return 0


def _export(args: argparse.Namespace) -> int:
    checkpoint = Path(args.checkpoint)
    model, meta, state = load_trained(checkpoint)
    description = load_robot_description(meta["robot"])
    layout = ObservationLayout.for_joints(description.num_joints)
    env_config = EnvConfig()
    provenance = {
        "method": meta["method"],
        "iterations": state["iteration"],
        "env_steps": state["env_steps"],
        "checkpoint": str(checkpoint),
        "training_command": meta.get("command", ""),
        "critic": model.config.critic,
        "randomization": meta.get("randomization"),
        "rewards": meta.get("rewards"),
        "physics_period_s": meta.get("physics_period_s"),
        "ppo": meta.get("ppo"),
        # Where it trained (runs from before the record: C MuJoCo, one process, device not kept).
        "backend": meta.get("backend", DEFAULT_BACKEND),
        "device": meta.get("device"),
        "world_size": meta.get("world_size", 1),
        # What a resumed run changed on the way (memaug_train.cli._record_changes) and how.
        **{key: value for key, value in meta.items() if key.startswith("earlier_") or key == "resumed"},
    }
    feedback = _velocity_feedback(args, model)
    metadata = build_metadata(
        description, layout, model, env_config.action_scale, run_commands(meta), provenance, feedback
    )
    export_onnx(model, Path(args.output), metadata)
    loop = f"velocity loop {feedback.describe()}" if feedback else "no velocity loop"
    print(
        f"exported {checkpoint} (iteration {state['iteration']}, {state['env_steps']:,} env steps, {loop}) "
        f"-> {args.output}"
    )
    return 0


def _velocity_feedback(args: argparse.Namespace, model: ActorCritic) -> VelocityFeedback | None:
    """The loop the export carries: the default one for an actor with a concurrent estimator,
    none for one without (ValueError if a gain was asked of such an actor) or at gain 0."""
    has_estimator = model.estimator_memory is not None
    gain = args.velocity_feedback_gain
    if gain is None:
        gain = VelocityFeedback.gain if has_estimator else 0.0
    if gain == 0.0:
        return None
    if not has_estimator:
        raise ValueError("--velocity-feedback-gain needs an actor with a concurrent velocity estimator")
    return VelocityFeedback(
        gain,
        args.velocity_feedback_time_constant,
        args.velocity_feedback_max_fraction,
        args.velocity_feedback_max_yaw_fraction,
        args.velocity_feedback_yaw_gain,
    )


def _eval(args: argparse.Namespace) -> int:
    from memaug_train.evaluate import evaluate, format_kinds_table, format_table, steps_to_90_percent

    torch.set_num_threads(1)
    rows: dict[str, dict] = {}
    for checkpoint in map(Path, args.checkpoints):
        model, meta, state = load_trained(checkpoint)
        description = load_robot_description(meta["robot"])
        ranges = description.randomization if args.randomized else None
        row: dict = dict(evaluate(model, description, args.episodes, ranges))
        row["env_steps"] = state["env_steps"]
        row["steps_to_90"] = steps_to_90_percent(checkpoint.parent / "log.jsonl")
        rows[f"{meta['method']} ({checkpoint.parent.name})"] = row
        print(f"evaluated {checkpoint}: {json.dumps(row)}", flush=True)
    table = (
        format_table(rows)
        + "\n\nBy failure kind: normalized return (fall rate) over the six joints (two legs) of each side.\n\n"
        + format_kinds_table(rows)
    )
    _emit(table, args.out)
    return 0


def _probe(args: argparse.Namespace) -> int:
    from memaug_train.evaluate import format_probe, probe

    torch.set_num_threads(1)
    model, meta, state = load_trained(Path(args.checkpoint))
    description = load_robot_description(meta["robot"])
    ranges = description.randomization if args.randomized else None
    rows = probe(model, description, args.kind, args.episodes, ranges)
    table = format_probe(rows, args.kind)
    print(f"{args.checkpoint} (iteration {state['iteration']}, {state['env_steps']:,} env steps)\n")
    _emit(table, args.out)
    return 0


def _speed(args: argparse.Namespace) -> int:
    from memaug_train.speed_probe import format_speeds, measure_speed, speed_points

    torch.set_num_threads(1)
    rows = {}
    for checkpoint in args.checkpoints:
        model, meta, state = load_trained(Path(checkpoint))
        description = load_robot_description(meta["robot"])
        label = f"{checkpoint} ({state['iteration']})"
        rows[label] = [measure_speed(model, description, point) for point in speed_points(description)]
        print(f"measured {label}", file=sys.stderr, flush=True)
    _emit(format_speeds(rows), args.out)
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from memaug_train.composite import full_suite
    from memaug_train.robustness import Row, format_table, only_commands, run_suite, select
    from memaug_train.tasks import leg_of

    description = load_robot_description(args.robot)
    legs = [leg_of(name) for name in description.joint_names]
    suite = full_suite(description.randomization, legs, args.randomized)
    points = only_commands(select(suite, args.points), args.commands)
    print(
        f"robustness suite: {args.model}, {sum(len(p.commands) for p in points)} rows x {args.seeds} seeds, "
        f"{args.duration:g} s each",
        flush=True,
    )

    def progress(row: Row) -> None:
        print(f"  {format_table([row]).splitlines()[2]}", flush=True)

    rows = run_suite(Path(args.model), description, points, args.seeds, args.duration, on_row=progress)
    _emit("\n" + format_table(rows), args.out)
    return 0


def _changeable_settings(args: argparse.Namespace, earlier: dict | None) -> dict:
    """The PpoConfig settings a resumed run may change: the cap on the action noise, the velocity
    estimator's weight, the rate scale of the estimate's input weights, hindsight's weight and
    clean share, the fault teacher, its weight and threshold. Each is the flag's value where
    given, else (on --resume, ``earlier``: run.json's ppo) what the run had, else the default. A
    teacher given without a weight copies at 1.0; a weight of 0 turns it off."""
    earlier = earlier or {}

    def given_or_earlier(flag: str, key: str, default: float | None) -> Any:
        value = getattr(args, flag)
        return value if value is not None else earlier.get(key, default)

    if args.teacher is not None and args.teacher_coef is None:
        teacher_coef = 1.0
    else:
        teacher_coef = given_or_earlier("teacher_coef", "teacher_coef", 0.0)
    teacher = given_or_earlier("teacher", "teacher", None)
    return {
        "max_action_std": given_or_earlier("max_action_std", "max_action_std", None),
        "estimator_coef": given_or_earlier("estimator_coef", "estimator_coef", PpoConfig.estimator_coef),
        "estimate_input_rate_scale": given_or_earlier(
            "estimate_input_rate_scale", "estimate_input_rate_scale", PpoConfig.estimate_input_rate_scale
        ),
        "hindsight_coef": given_or_earlier("hindsight_coef", "hindsight_coef", 0.0),
        "hindsight_clean_share": given_or_earlier("hindsight_clean_share", "hindsight_clean_share", 0.0),
        "teacher": teacher if teacher_coef > 0 else None,
        "teacher_coef": teacher_coef,
        "teacher_torque_left_below": given_or_earlier(
            "teacher_torque_below", "teacher_torque_left_below", PpoConfig.teacher_torque_left_below
        ),
    }


def _emit(table: str, out: str | None) -> None:
    """Print a Markdown table, and write it to ``out`` too when given."""
    print(table)
    if out:
        Path(out).write_text(table + "\n")


def _as_json(settings: Any) -> dict:
    """A settings dataclass as run.json holds it (lists, not tuples), so that records compare equal."""
    return json.loads(json.dumps(dataclasses.asdict(settings)))


def _range_flag(axis: str) -> str:
    """The train option that sets command axis ``axis``'s range (a CommandRanges field): --vy-range ..."""
    return f"--{axis.replace('_', '-')}-range"


def run_commands(meta: dict) -> CommandRanges:
    """The command ranges a run trains on, as its run.json records them (the defaults for a new
    run, and for runs from before the record)."""
    recorded = meta.get("commands")
    if recorded is None:
        return CommandRanges()
    return CommandRanges(
        vx=tuple(recorded["vx"]),
        vy=tuple(recorded["vy"]),
        yaw_rate=tuple(recorded["yaw_rate"]),
        standing_probability=recorded["standing_probability"],
    )


def _record_changes(meta: dict, meta_path: Path, iteration: int, key: str, now: dict | float | str) -> None:
    """A resumed run trains under today's reward scales and randomization ranges, and under the
    physics step, command ranges, hindsight weight and device it is given (``key`` "rewards",
    "randomization", "physics_period_s", "commands", "ppo" or "device", ``now`` today's record): when they
    differ from run.json's, say which, and keep run.json (and so the exported provenance) true
    to them, with the earlier record and the iteration it held until."""
    before = meta.get(key)
    if before is None or before == now:
        return
    changed = (
        {name: (before.get(name), now.get(name)) for name in {**before, **now} if before.get(name) != now.get(name)}
        if isinstance(now, dict)
        else (before, now)
    )
    print(f"memaug_train: {key} changed since iteration {iteration} (was, now): {changed}", file=sys.stderr)
    meta.setdefault(f"earlier_{key}", []).append({"until_iteration": iteration, key: before})
    meta[key] = now
    meta_path.write_text(json.dumps(meta, indent=2))


def _float_that(must: str, holds: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type: a float for which ``holds`` is true, else "must <must>, got <text>"."""

    def parse(text: str) -> float:
        value = float(text)
        if not holds(value):
            raise argparse.ArgumentTypeError(f"must {must}, got {text}")
        return value

    return parse


_positive = _float_that("be positive", lambda value: value > 0)
_not_negative = _float_that("not be negative", lambda value: value >= 0)
_share = _float_that("be at least 0 and below 1", lambda value: 0 <= value < 1)


def _whole(text: str) -> int:
    """An argparse type: a whole number, 0 or more (argparse reports a non-number itself)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


RANDOMIZED_HELP = (
    "score on robots drawn from the robot description's randomization ranges (dynamics, latency, "
    "noise, pushes, rough ground), the same draws for every checkpoint; default: the nominal robot"
)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="memaug_train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train (or --resume) a policy")
    train.add_argument("--method", choices=sorted(METHODS), default="memaug")
    train.add_argument("--robot", default="go2")
    train.add_argument("--run-dir", required=True)
    train.add_argument("--iterations", type=int, default=1000)
    train.add_argument("--envs", type=int, default=512)
    train.add_argument("--hidden", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=2, help="MuJoCo rollout threads")
    train.add_argument(
        "--torch-threads",
        type=int,
        default=2,
        help="torch threads for the PPO update (it runs while the rollout threads are idle; 2 instead of 1 "
        "made it 1.2x faster on 2 cores: 5.4k vs 4.4k env-steps/s in bench/bench_train.py)",
    )
    train.add_argument("--checkpoint-every", type=int, default=20)
    train.add_argument(
        "--physics-period-ms",
        type=_positive,
        default=None,
        help=f"MuJoCo step of the training env, ms (default {EnvConfig.physics_period_s * 1e3:g}; the sim bridge "
        "and the robustness suite step 2): must divide the control period; with --resume the run goes on at "
        "this step, and run.json records the change",
    )
    for axis, what in (("vy", "lateral command range, m/s"), ("yaw_rate", "yaw-rate command range, rad/s")):
        default = getattr(CommandRanges, axis)
        train.add_argument(
            _range_flag(axis),
            type=float,
            nargs=2,
            metavar=("LOW", "HIGH"),
            default=None,
            help=f"{what} (default {default[0]:g} {default[1]:g}); the exported model's command ranges follow the "
            "run's, and the node clamps commands to them; with --resume the run goes on at this range, and "
            "run.json records the change",
        )
    train.add_argument(
        "--critic",
        choices=["mlp", "memory"],
        default="mlp",
        help="mlp: a memoryless critic that also reads privileged ground truth (asymmetric actor-critic); "
        "memory: the critic has the actor's memory and inputs",
    )
    train.add_argument(
        "--no-randomize",
        dest="randomize",
        action="store_false",
        help="train on the nominal robot (no dynamics randomization, latency, noise or pushes)",
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        default=PpoConfig.learning_rate,
        help="initial learning rate (adapted to the KL target from there); lower for a warm-started actor",
    )
    train.add_argument(
        "--estimator-coef",
        type=float,
        default=None,
        help=f"weight of the velocity estimator's loss against PPO's (asymmetric critic runs; default "
        f"{PpoConfig.estimator_coef}, or the run's own on --resume, where it may change)",
    )
    train.add_argument(
        "--estimate-input-rate-scale",
        type=_positive,
        default=None,
        help="the concurrent estimate's input weights learn at this multiple of the policy's adaptive rate "
        f"(default {PpoConfig.estimate_input_rate_scale:g}, or the run's own on --resume, where it may change)",
    )
    train.add_argument(
        "--max-action-std",
        type=_positive,
        default=None,
        help="cap on the action noise's std (action units): keeps the trained gait close to the noise-free "
        "one the robot runs (PpoConfig.max_action_std)",
    )
    train.add_argument(
        "--hindsight-coef",
        type=_not_negative,
        default=None,
        help="weight of hindsight command relabelling: the actor copies its own actions under the command each "
        "robot achieved (memaug_train.hindsight; needs the MLP critic); 0 (the default) is off; with --resume "
        "the run goes on at this weight, and run.json records the change",
    )
    train.add_argument(
        "--hindsight-clean-share",
        type=_share,
        default=None,
        help="share of the robots that act noise-free and alone are relabelled, so that the relabelled speed is "
        "the deployed gait's (PpoConfig.hindsight_clean_share; needs --hindsight-coef; 0 when not given; with "
        "--resume the run goes on at this share, and run.json records the change)",
    )
    train.add_argument(
        "--teacher",
        default=None,
        help="checkpoint (its run.json beside it) whose frozen actor the faulted robots copy, so that a change "
        "aimed at the healthy gait keeps the fault skill (memaug_train.fault_teacher; needs the MLP critic)",
    )
    train.add_argument(
        "--teacher-coef",
        type=_not_negative,
        default=None,
        help="weight of copying the --teacher on faulted robots (1.0 when a teacher is given; 0 turns it off; "
        "with --resume the run goes on at this weight, and run.json records the change)",
    )
    train.add_argument(
        "--teacher-torque-below",
        type=_float_that("be in (0, 1]", lambda value: 0 < value <= 1),
        default=None,
        help="the teacher is copied where some motor keeps less than this fraction of its torque, or is locked "
        f"(default {PpoConfig.teacher_torque_left_below}: severe faults; 1: every fault)",
    )
    train.add_argument("--init-actor", default=None, help="start the actor from this checkpoint (a new run only)")
    train.add_argument(
        "--init-critic",
        action="store_true",
        help="with --init-actor: take that checkpoint's critic too (same critic shape), so that no warm-up is needed",
    )
    train.add_argument(
        "--estimator-hidden",
        type=_whole,
        default=0,
        help="size of a concurrent velocity estimator's GRU (NetConfig.estimator_hidden; a new run with the MLP "
        "critic and the gru cell): its own memory, trained by regression on the true velocity, whose estimate "
        "the actor reads; 0 (the default): the estimate is a head on the actor's memory",
    )
    train.add_argument(
        "--critic-warmup", type=int, default=0, help="iterations in which only the critic learns (with --init-actor)"
    )
    train.add_argument("--resume", action="store_true")
    train.add_argument(
        "--device",
        type=parse_device,
        default="auto",
        help="where the networks train: auto (cuda when available), cpu, cuda or cuda:N; under torchrun cuda "
        "means cuda:LOCAL_RANK. The mujoco backend's physics runs on the CPU whatever the device",
    )
    train.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help=f"physics: mujoco (C MuJoCo on the CPU, the default) or warp (MuJoCo Warp on --device: the gpu extra; "
        f"on a CPU for tests); with --resume the run's own ({DEFAULT_BACKEND} for runs before the record)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar (logs still go to TensorBoard)")
    export = sub.add_parser("export", help="write a checkpoint's actor as the ONNX policy contract")
    export.add_argument("checkpoint")
    export.add_argument("output")
    defaults = VelocityFeedback()
    export.add_argument(
        "--velocity-feedback-gain",
        type=float,
        default=None,
        help="K of the velocity loop carried inside the exported graph, for an actor with a concurrent "
        f"estimator (memaug_train.velocity_feedback; default {defaults.gain:g} there; 0: none)",
    )
    for flag, default, what in (
        ("time-constant", defaults.time_constant_s, "s, of the loop's low-pass filter on the tracking error"),
        ("max-fraction", defaults.max_fraction, "bound of the vx, vy correction, a fraction of the planar command"),
        ("max-yaw-fraction", defaults.max_yaw_fraction, "bound of the yaw-rate correction, a fraction of its command"),
        ("yaw-gain", defaults.yaw_gain, "K for the yaw rate (measured by the gyro, where vx and vy are estimated)"),
    ):
        export.add_argument(f"--velocity-feedback-{flag}", type=float, default=default, help=what)
    evaluate = sub.add_parser("eval", help="ID/OOD failure returns of trained checkpoints, as a table")
    evaluate.add_argument("checkpoints", nargs="+")
    evaluate.add_argument("--episodes", type=int, default=2, help="episodes per task")
    evaluate.add_argument("--out", default=None, help="also write the Markdown table here")
    evaluate.add_argument("--randomized", action="store_true", help=RANDOMIZED_HELP)
    probe = sub.add_parser("probe", help="speed kept and falls after each single joint fails, as a table")
    probe.add_argument("checkpoint")
    probe.add_argument("--kind", choices=["limp", "locked", "weakened"], default="limp")
    probe.add_argument("--episodes", type=int, default=2, help="episodes per joint")
    probe.add_argument("--out", default=None, help="also write the Markdown table here")
    probe.add_argument("--randomized", action="store_true", help=RANDOMIZED_HELP)
    speed = sub.add_parser(
        "speed",
        help="each checkpoint's speed along and across the command, nominal and at the ends of the ranges "
        "that move it most (seconds each: a screen before the robustness suite)",
    )
    speed.add_argument("checkpoints", nargs="+")
    speed.add_argument("--out", default=None, help="also write the Markdown table here")
    robustness = sub.add_parser(
        "robustness", help="an exported policy over dynamics points inside and beyond its training ranges"
    )
    robustness.add_argument("model", help="exported policy (.onnx)")
    robustness.add_argument("--robot", default="go2")
    robustness.add_argument("--seeds", type=int, default=3, help="runs per point and command")
    robustness.add_argument("--duration", type=float, default=10.0, help="seconds of policy per run")
    robustness.add_argument("--points", nargs="*", default=None, help="only points whose names contain these")
    robustness.add_argument("--commands", nargs="*", default=["forward", "lateral", "yaw"], help="only these commands")
    robustness.add_argument(
        "--randomized",
        type=int,
        default=0,
        metavar="N",
        help="also N robots drawn from the full ranges at once (pass fraction and worst case in the footer)",
    )
    robustness.add_argument("--out", default=None, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    commands = {
        "train": _train,
        "export": _export,
        "eval": _eval,
        "probe": _probe,
        "speed": _speed,
        "robustness": _robustness,
    }
    try:
        return commands[args.command](args)
    except FileNotFoundError as exc:
        print(f"memaug_train: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a model, robot description or suite point that cannot be used
        if args.command == "train":
            raise
        print(f"memaug_train {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
