"""memaug policy import SRC --from FORMAT --robot NAME --out POLICY.onnx [--contract FILE.yaml]

Writes a policy trained elsewhere as memaug's self-describing ONNX (memaug_policy.importers).
When the policy was trained with other gains, default pose or control period than the robot
description's, a robot description for it is written beside the ONNX (POLICY.robot.yaml):
run the policy with ``--robot POLICY.robot.yaml`` so the bridge applies the policy's gains.

Exit status: 0 written and checked, 2 refused (one line on stderr saying why).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memaug_common.arguments import ArgumentParser
from memaug_common.description import load_robot_description
from memaug_common.errors import ConfigError

#: --from choices (memaug_policy.importers.FORMATS; listed here so the parser needs no torch).
FORMAT_NAMES = ("isaaclab", "rsl_rl", "mjlab", "unitree_rl_lab", "rl_sar", "legged_gym")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="run folder, network file (.onnx / TorchScript .pt) of the source policy")
    parser.add_argument("--from", dest="format", required=True, metavar="FORMAT", help=", ".join(FORMAT_NAMES))
    parser.add_argument("--robot", default="go2", help="robot description: a name under config/robots/ or a path")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument("--contract", default=None, help="YAML with what the format does not store")


def run(args: argparse.Namespace) -> int:
    from memaug_policy.importers import PolicyImportError, import_policy
    from memaug_policy.model import load_policy

    prog = "memaug policy import"
    try:
        description = load_robot_description(args.robot)
        written = import_policy(
            Path(args.src),
            args.format,
            description,
            Path(args.out),
            None if args.contract is None else Path(args.contract),
        )
    except (PolicyImportError, ConfigError) as exc:
        print(f"{prog}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    meta = load_policy(written.model).metadata
    rec = meta.recurrent
    memory = "no memory" if not rec.has_memory else f"{rec.cell} {rec.layers}x{rec.hidden}"
    print(
        f"wrote {written.model}: {args.format} policy, {memory}, {meta.observation.dim} observations, "
        f"period {meta.control_period_s * 1e3:g} ms"
    )
    robot = args.robot
    if written.description is not None:
        robot = str(written.description)
        print(f"wrote {written.description}: the policy's robot differs from {description.source}:")
        for line in written.differences:
            print(f"  {line}")
        print(f"  run the policy with --robot {written.description}")
    for line in written.assumptions:
        print(f"assumed: {line}")
    unmeasured = meta.observation.ground_truth_terms()
    if unmeasured:
        print(f"sim only: the policy observes {unmeasured}, which a real robot does not measure")
    print(f"check the joint map and observation before the robot moves: memaug inspect {written.model} --robot {robot}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="memaug_policy_import", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
