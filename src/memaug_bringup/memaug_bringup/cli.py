"""memaug: run memaug stacks without a ROS 2 install, and look at what they recorded.

  memaug sim [--duration S] [--scenario NAME|FILE|none] [--cmd-vel VX VY WZ] [--record DIR] ...
  memaug robot [--target go2|unitree_mujoco|emulator] [--check] [--arm] [--bridge-param NAME=VALUE] ...
  memaug record --record DIR [--duration S]
  memaug report BAG [--out DIR]
  memaug bag repair BAG
  memaug inspect MODEL [--robot NAME]
  memaug policy import SRC --from FORMAT --out POLICY.onnx [--robot NAME] [--contract FILE]

Every node runs as its own process, from the same stack description as the launch files.
Ctrl-C stops them all cleanly; a node that fails makes memaug exit non-zero, naming it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
from pathlib import Path

from memaug_bringup.robot_cli import add_robot_parser
from memaug_bringup.stacks import SimOptions, record_stack, sim_stack
from memaug_bringup.supervisor import NodeFailed, Supervisor
from memaug_common.arguments import ArgumentParser


def _default_bag() -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / "bags" / f"sim-{stamp}"


def _domain() -> int:
    return int(os.environ.get("ROS_DOMAIN_ID", "0"))


def _finish(bag: Path | None, summary_json: str | None) -> int:
    """Print (and write) the run's summary; 1 when a bridge faulted or the policy stopped on a
    fault during the run."""
    if bag is None:
        return 0
    from memaug_bringup.bag_reader import read_run
    from memaug_bringup.summary import format_summary, run_faults, summarize

    summary = summarize(read_run(bag))
    print("\n== run summary\n" + format_summary(summary))
    if summary_json:
        Path(summary_json).write_text(json.dumps(summary, indent=2, allow_nan=True))
        print(f"summary written to {summary_json}")
    faults = run_faults(summary)
    for line in faults:
        print(f"memaug: {line}", file=sys.stderr)
    return 1 if faults else 0


def _sim(args: argparse.Namespace) -> int:
    record = None if args.no_record else Path(args.record or _default_bag())
    if record is not None and record.exists():
        print(f"memaug: bag folder already exists: {record} (choose another --record)", file=sys.stderr)
        return 2
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
    options = SimOptions(
        robot=args.robot,
        model=args.model,
        mode=args.mode,
        scenario=args.scenario,
        duration_s=args.duration,
        cmd_vel=tuple(args.cmd_vel),
        record=record,
        viewer=args.viewer,
        seed=args.seed,
    )
    stack = sim_stack(options)
    print(
        f"memaug sim: {args.mode}, {args.duration:.0f} s, scenario {args.scenario}, cmd_vel {args.cmd_vel}, "
        f"model {args.model}" + (f", recording to {record}" if record else "")
    )
    # Lockstep runs at least as fast as real time on a quiet machine; allow slack for a loaded one.
    timeout = args.duration * (20.0 if args.mode == "lockstep" else 2.0) + 60.0
    try:
        result = Supervisor(stack, _domain(), Path(args.log_dir)).run(timeout)
    except NodeFailed as exc:
        print(f"memaug: {exc}", file=sys.stderr)
        return 1
    if not result.completed:
        print("memaug: interrupted; all nodes stopped")
    return _finish(record, args.summary_json)


def _record(args: argparse.Namespace) -> int:
    folder = Path(args.record)
    stack = record_stack(folder)
    try:
        Supervisor(stack, _domain(), Path(args.log_dir)).run(args.duration if args.duration else math.inf)
    except NodeFailed as exc:
        if "did not finish" not in str(exc):
            print(f"memaug: {exc}", file=sys.stderr)
            return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from memaug_bringup.bag_repair import needs_repair
    from memaug_bringup.report import write_report

    bag = Path(args.bag)
    if not bag.is_dir():
        print(f"memaug report: no bag folder at {bag}", file=sys.stderr)
        return 2
    if needs_repair(bag):
        print(f"memaug report: {bag} was never closed (its recorder died); repairing it first")
        if _repair_bag(bag) != 0:
            return 1
    try:
        out = write_report(bag, Path(args.out) if args.out else None)
    except (OSError, ValueError, KeyError) as exc:  # rosbags' errors derive from these
        print(f"memaug report: cannot read {bag}: {exc}", file=sys.stderr)
        return 1
    print(f"report written to {out}")
    return 0


def _repair_bag(bag: Path) -> int:
    from memaug_bringup.bag import BagError
    from memaug_bringup.bag_repair import repair

    try:
        result = repair(bag)
    except BagError as exc:
        print(f"memaug bag repair: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"repaired {bag}: {result.messages} messages on {result.topics} topics recovered (the file ended: "
        f"{result.stopped_at}); the unfinished file is kept as {result.unfinished.name}"
    )
    return 0


def _bag(args: argparse.Namespace) -> int:
    return _repair_bag(Path(args.bag))


def _inspect(args: argparse.Namespace) -> int:
    from memaug_policy.inspect_cli import main as inspect_main

    return inspect_main([args.model] + (["--robot", args.robot] if args.robot else []))


def _policy_import(args: argparse.Namespace) -> int:
    from memaug_policy.import_cli import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="memaug", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="sim-in-the-loop: MuJoCo bridge + policy (+ recorder)")
    sim.add_argument("--duration", type=float, default=20.0, help="sim seconds to run")
    sim.add_argument("--model", default="go2_memaug.onnx", help="policy ONNX path or name in config/policies/")
    sim.add_argument("--robot", default="go2")
    sim.add_argument("--scenario", default="none", help="fault scenario name, YAML path, or none")
    sim.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep")
    sim.add_argument("--cmd-vel", nargs=3, type=float, default=[0.5, 0.0, 0.0], metavar=("VX", "VY", "WZ"))
    sim.add_argument("--record", default=None, help="bag folder to create (default runs/bags/sim-TIME)")
    sim.add_argument("--no-record", action="store_true", help="run without recording")
    sim.add_argument("--summary-json", default=None, help="also write the summary as JSON here")
    sim.add_argument("--viewer", action="store_true", help="open MuJoCo's viewer (needs a display)")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--log-dir", default="runs/logs", help="folder for each node's log")
    sim.set_defaults(run=_sim)

    add_robot_parser(sub, _finish, _default_bag)

    record = sub.add_parser("record", help="record the stack's topics to an MCAP bag")
    record.add_argument("--record", required=True, help="bag folder to create")
    record.add_argument("--duration", type=float, default=0.0, help="wall seconds (0: until Ctrl-C)")
    record.add_argument("--log-dir", default="runs/logs")
    record.set_defaults(run=_record)

    report = sub.add_parser("report", help="HTML report with plots from a bag")
    report.add_argument("bag")
    report.add_argument("--out", default=None, help="output folder (default BAG/report)")
    report.set_defaults(run=_report)

    bag = sub.add_parser("bag", help="bag tools")
    bag_sub = bag.add_subparsers(dest="bag_command", required=True)
    repair = bag_sub.add_parser("repair", help="rebuild the index and metadata.yaml of a bag whose recorder died")
    repair.add_argument("bag")
    repair.set_defaults(run=_bag)

    inspect = sub.add_parser("inspect", help="print and check a policy model's contract")
    inspect.add_argument("model")
    inspect.add_argument("--robot", default=None)
    inspect.set_defaults(run=_inspect)

    from memaug_policy.import_cli import add_arguments as add_import_arguments

    policy = sub.add_parser("policy", help="policy tools")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    policy_import = policy_sub.add_parser("import", help="write a policy trained elsewhere as memaug's ONNX")
    add_import_arguments(policy_import)
    policy_import.set_defaults(run=_policy_import)

    args = parser.parse_args(argv)
    if getattr(args, "no_record", False) and getattr(args, "summary_json", None):
        # The summary is read from the run's bag: with none, there would be nothing to write.
        parser.error("--summary-json needs the run's bag: drop --no-record")
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
