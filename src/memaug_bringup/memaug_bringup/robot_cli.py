"""`memaug robot`: the policy on a Go2, Unitree's simulator or memaug's emulator, through the bridge.

  memaug robot --target unitree_mujoco --check          # preflight: reads, sends nothing
  memaug robot --target unitree_mujoco                  # disarmed: configures, stays damped
  memaug robot --target unitree_mujoco --arm            # stands and walks
  memaug robot --emulator --duration 60                 # = --target emulator (arms by itself)

The target (config/targets/NAME.yaml) holds the DDS domain, interface, CRC and motion-switcher
policies and the preflight thresholds; --interface, --go2-domain-id and --bridge-param
NAME=VALUE override it, each checked against the bridge's declared parameters.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from memaug_bringup.supervisor import NodeFailed, Supervisor


def add_robot_parser(sub: Any, run_finish: Any, default_bag: Any) -> None:
    """The `robot` subcommand on ``sub`` (argparse subparsers). ``run_finish(bag, summary_json)``
    prints the run's summary; ``default_bag()`` names a bag folder."""
    robot = sub.add_parser("robot", help="the policy on a Go2, Unitree's simulator or the emulator, through the bridge")
    robot.add_argument(
        "--target",
        default=None,
        help="what the bridge talks to: a name under config/targets/ (go2, unitree_mujoco, emulator) or a YAML "
        "path (default go2)",
    )
    robot.add_argument("--emulator", action="store_true", help="the same as --target emulator")
    armed = robot.add_mutually_exclusive_group()
    armed.add_argument("--arm", action="store_true", help="arm the bridge at start (real robot: stand clear)")
    armed.add_argument(
        "--disarmed", action="store_true", help="the emulator too stays disarmed (it arms by itself otherwise)"
    )
    robot.add_argument(
        "--check",
        action="store_true",
        help="preflight: read rt/lowstate for 1 s, ask the motion switcher, judge against the target's thresholds; "
        "sends nothing; exits 0 or names every problem",
    )
    robot.add_argument("--interface", default=None, help="network interface that reaches the Go2 (default: target's)")
    robot.add_argument("--go2-domain-id", type=int, default=None, help="DDS domain of the Go2's topics (target's)")
    robot.add_argument(
        "--bridge-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any bridge parameter (repeatable), e.g. lowstate_crc=ignore, loop_priority=80",
    )
    robot.add_argument(
        "--open-graph",
        action="store_true",
        help="let other machines on the subnet reach the run's ROS graph (teleop, Foxglove); default: this "
        "machine only, whatever ROS_AUTOMATIC_DISCOVERY_RANGE says",
    )
    robot.add_argument("--peers", default="", help="with --open-graph: also these addresses as static peers ('a;b')")
    robot.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds to run from the bridge's configure (the emulator: sim seconds from its first command; "
        "otherwise wall seconds; the bridge has 30 s to configure)",
    )
    robot.add_argument("--model", default="go2_memaug.onnx")
    robot.add_argument("--robot", default="go2")
    robot.add_argument("--scenario", default="none", help="emulator only: fault scenario")
    robot.add_argument("--cmd-vel", nargs=3, type=float, default=[0.5, 0.0, 0.0], metavar=("VX", "VY", "WZ"))
    robot.add_argument("--record", default=None)
    robot.add_argument("--no-record", action="store_true")
    robot.add_argument("--summary-json", default=None)
    robot.add_argument("--log-dir", default="runs/logs")
    robot.set_defaults(run=lambda args: run_robot(args, run_finish, default_bag))


#: Wall time allowed for the bridge to configure before a non-emulator run's --duration counts, s.
CONFIGURE_ALLOWANCE_S = 30.0


def _bridge_log(log_dir: Path) -> str:
    path = log_dir / "memaug_go2_bridge.log"
    return path.read_text(errors="replace") if path.is_file() else ""


def _bridge_configured(log_dir: Path) -> bool:
    return "]: configured: " in _bridge_log(log_dir)


class _DurationAfterConfigure:
    """True once the bridge has been configured for ``duration_s`` (wall time): a robot run's
    --duration counts from configure, however long the bridge took to start. Reads the
    bridge's log at most every 0.2 s."""

    def __init__(self, log_dir: Path, duration_s: float) -> None:
        self.log_dir, self.duration_s = log_dir, duration_s
        self.configured_at: float | None = None
        self._next_look = 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.configured_at is None and now >= self._next_look:
            self._next_look = now + 0.2
            if _bridge_configured(self.log_dir):
                self.configured_at = now
        return self.configured_at is not None and now - self.configured_at >= self.duration_s


def _bridge_failure(log_dir: Path) -> str | None:
    """The bridge's own one-line account of a failed start (configure, activate), if it gave one."""
    lines = [line for line in _bridge_log(log_dir).splitlines() if line.startswith("memaug_go2_bridge: ")]
    return lines[-1] if lines else None


def _ros_domain() -> int:
    return int(os.environ.get("ROS_DOMAIN_ID", "0"))


def resolve(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """(target, bridge parameters) from the arguments; ValueError (ConfigError) in one line."""
    if args.emulator and args.target not in (None, "emulator"):
        raise ValueError(f"--emulator and --target {args.target} name two targets: choose one")
    name = "emulator" if args.emulator else (args.target or "go2")
    return resolve_target(name, args.bridge_param, args.interface, args.go2_domain_id)


def resolve_target(
    name: str, bridge_params: list[str], interface: str | None, domain_id: int | None
) -> tuple[Any, dict[str, Any]]:
    """The target ``name`` and its bridge parameters with the user's overrides (``NAME=VALUE``
    texts, an interface, a DDS domain): what `memaug robot` and robot.launch.py both apply.
    ValueError (ConfigError) in one line: an unknown target or parameter, a bad value, an
    interface that does not exist or is down."""
    from memaug_hardware.interfaces import interface_problem
    from memaug_hardware.targets import load_target, parse_bridge_param

    target = load_target(name)
    overrides = dict(parse_bridge_param(text) for text in bridge_params)
    if interface is not None:
        overrides["network_interface"] = interface
    if domain_id is not None:
        overrides["dds_domain_id"] = domain_id
    bridge = target.bridge_parameters(overrides, (_ros_domain() + 100) % 233)
    problem = interface_problem(str(bridge["network_interface"]))
    if problem is not None:
        raise ValueError(problem)
    return target, bridge


def run_robot(args: argparse.Namespace, run_finish: Any, default_bag: Any) -> int:
    from memaug_common.errors import ConfigError

    try:
        target, bridge = resolve(args)
    except (ValueError, ConfigError) as exc:
        print(f"memaug robot: {exc}", file=sys.stderr)
        return 2
    if args.peers and not args.open_graph:
        print("memaug robot: --peers opens the graph to them: add --open-graph", file=sys.stderr)
        return 2
    if args.check:
        return _check(args, target, bridge)
    refusal = _sim_only_refusal(args.model, target.kind)
    if refusal is not None:
        print(f"memaug robot: {refusal}", file=sys.stderr)
        return 2
    return _run(args, target, bridge, run_finish, default_bag)


def _sim_only_refusal(model: str, target_kind: str) -> str | None:
    """Why a policy cannot run on this target, or None: a policy that observes what only a
    simulator knows (the base's linear velocity from /odom) runs against the emulator, which
    publishes its ground truth, and nowhere else."""
    from memaug_policy.model import ModelError, load_policy, resolve_model_path

    if target_kind == "emulator":
        return None
    try:
        terms = load_policy(resolve_model_path(model)).metadata.observation.ground_truth_terms()
    except ModelError as exc:
        return str(exc).splitlines()[0]
    if not terms:
        return None
    return (
        f"{model} observes {', '.join(terms)}, which only a simulator measures: a {target_kind} cannot feed it "
        "(run it with memaug sim or memaug robot --emulator, or import a policy that estimates it)"
    )


def _check(args: argparse.Namespace, target: Any, bridge: dict[str, Any]) -> int:
    from memaug_hardware.preflight import check

    from memaug_common.description import load_robot_description

    print(f"target {target.name}: {target.description}")
    report = check(
        load_robot_description(args.robot),
        str(bridge["network_interface"]),
        int(bridge["dds_domain_id"]),
        target.preflight,
        strict_crc=bridge["lowstate_crc"] == "strict",
        motion_switcher=str(bridge["motion_switcher"]),
    )
    print("\n".join(report.lines))
    if report.problems:
        count = len(report.problems)
        print(f"memaug robot --check: not ready ({count} problem{'s' if count > 1 else ''}):", file=sys.stderr)
        for problem in report.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("ready to arm")
    return 0


def _run(args: argparse.Namespace, target: Any, bridge: dict[str, Any], run_finish: Any, default_bag: Any) -> int:
    from memaug_bringup.stacks import RobotOptions, robot_stack

    emulator = target.kind == "emulator"
    record = (
        None
        if args.no_record
        else Path(args.record or default_bag().with_name(default_bag().name.replace("sim-", "robot-")))
    )
    if record is not None and record.exists():
        print(f"memaug: bag folder already exists: {record} (choose another --record)", file=sys.stderr)
        return 2
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
    arm = args.arm or (emulator and not args.disarmed)
    print(
        f"memaug robot: target {target.name} ({target.description}), interface {bridge['network_interface']}, "
        f"DDS domain {bridge['dds_domain_id']}, lowstate_crc {bridge['lowstate_crc']}, motion switcher "
        f"{bridge['motion_switcher']}; "
        + ("ARMED: the policy moves the robot" if arm else "disarmed: the bridge configures and stays damped")
        + "; ROS graph "
        + (
            f"OPEN to the subnet{' and ' + args.peers if args.peers else ''}"
            if args.open_graph
            else "on this machine only"
        )
    )
    options = RobotOptions(
        robot=args.robot,
        model=args.model,
        cmd_vel=tuple(args.cmd_vel),
        record=record,
        emulator=emulator,
        emulator_scenario=args.scenario,
        emulator_priority=target.emulator_priority,
        policy_priority=target.policy_priority,
        emulator_duration_s=args.duration,
        bridge=bridge,
        arm=arm,
        open_graph=args.open_graph,
        peers=args.peers,
    )
    # With the emulator the run ends with it; otherwise after --duration of wall time, plus
    # the bridge's start-up (its loop process, the lowstate wait, the motion switcher).
    timeout = args.duration * 3.0 + 60.0 if emulator else args.duration + CONFIGURE_ALLOWANCE_S
    finished = (lambda: False) if emulator else _DurationAfterConfigure(Path(args.log_dir), args.duration)
    try:
        result = Supervisor(robot_stack(options), _ros_domain(), Path(args.log_dir)).run(timeout, finished)
    except NodeFailed as exc:
        if emulator or "did not finish" not in str(exc):
            print(f"memaug: {_bridge_failure(Path(args.log_dir)) or exc}", file=sys.stderr)
            return 1
    else:
        if not result.completed:
            print("memaug: interrupted; all nodes stopped")
    if not _bridge_configured(Path(args.log_dir)):
        # A run whose bridge never configured checked nothing: never a healthy exit.
        print(
            f"memaug robot: the bridge never configured within the run's {timeout:.0f} s "
            f"(its log: {Path(args.log_dir) / 'memaug_go2_bridge.log'})",
            file=sys.stderr,
        )
        return 1
    return int(run_finish(record, args.summary_json))
