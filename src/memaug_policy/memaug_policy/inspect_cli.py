"""memaug_policy_inspect MODEL [--robot NAME]: print a policy's contract as tables and check it.

The joint map (policy joint -> robot joint, default pose, gains, action scale, offset and
clip) and the observation layout (terms in order with sizes, history, scales and clips) are
what a user checks before a robot moves: a wrong joint order or scale shows here, not on
the robot. Exit status: 0 compatible, 2 unusable file or mismatch with the robot description.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from memaug_common.arguments import ArgumentParser
from memaug_common.description import RobotDescription, load_robot_description
from memaug_common.errors import ConfigError
from memaug_policy.model import ModelError, PolicyModel, check_compatible, load_policy, resolve_model_path


def _numbers(values: np.ndarray) -> str:
    """Compact: one number when all equal, else the list."""
    if values.size and np.allclose(values, values.flat[0]):
        return f"{values.flat[0]:g}"
    return "[" + " ".join(f"{v:g}" for v in values.ravel()) + "]"


def joint_table(model: PolicyModel, description: RobotDescription) -> list[str]:
    """One row per policy joint: what it reads and drives on the robot."""
    meta, actions = model.metadata, model.metadata.actions
    rows = [
        f"{'#':>2}  {'policy joint':<16} {'robot #':>7}  {'default':>7}  {'kp':>6}  {'kd':>5}  {'scale':>6}  "
        f"{'offset':>7}  target clip",
    ]
    for i, name in enumerate(meta.joint_names):
        robot = str(description.joint_names.index(name)) if name in description.joint_names else "none!"
        clip = (
            "-"
            if actions.target_clip is None
            else f"[{actions.target_clip[i, 0]:+.3f}, {actions.target_clip[i, 1]:+.3f}]"
        )
        rows.append(
            f"{i:>2}  {name:<16} {robot:>7}  {meta.default_joint_positions[i]:+7.3f}  {meta.kp[i]:6.2f}  "
            f"{meta.kd[i]:5.2f}  {actions.scale[i]:6.3f}  {actions.offset[i]:+7.3f}  {clip}"
        )
    raw = (
        "none"
        if actions.raw_clip is None
        else f"{_numbers(actions.raw_clip[:, 0])} .. {_numbers(actions.raw_clip[:, 1])}"
    )
    rows.append(f"q* = offset + scale * clip(a, {raw}); last_action feeds back the {actions.last_action} output")
    return rows


def observation_table(model: PolicyModel) -> list[str]:
    """One row per term: where it sits in the network's input and how it is built."""
    spec = model.metadata.observation
    rows = [f"{'index':>9}  {'term':<22} {'size':>4}  {'history':>7}  {'clip':<16} scale"]
    start = 0
    for term in spec.terms:
        width = term.size * term.history
        clip = "-" if term.clip is None else f"[{term.clip[0]:g}, {term.clip[1]:g}]"
        rows.append(
            f"{start:>4}-{start + width - 1:<4}  {term.name:<22} {term.size:>4}  {term.history:>7}  {clip:<16} "
            f"{_numbers(term.scale)}"
        )
        start += width
    layout = (
        "one frame"
        if not spec.has_history
        else (
            f"{spec.order.replace('_', '-')}, {'newest' if spec.newest_first else 'oldest'} frame first, "
            f"filled with {'the first frame' if spec.fill == 'first' else 'zeros'} after a reset"
        )
    )
    rows.append(f"{spec.dim} values; {layout}; whole-vector clip {spec.clip if spec.clip is not None else 'none'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="memaug_policy_inspect", description=__doc__)
    parser.add_argument("model", help="ONNX file, or a name under config/policies/")
    parser.add_argument("--robot", default=None, help="robot description to check against (default: the model's)")
    args = parser.parse_args(argv)
    try:
        model = load_policy(resolve_model_path(args.model))
        meta = model.metadata
        description = load_robot_description(args.robot or meta.robot)
        rec = meta.recurrent
        memory = (
            "none (no state inputs)" if not rec.has_memory else f"{rec.cell} layers={rec.layers} hidden={rec.hidden}"
        )
        print(f"model       {model.path} (contract format {meta.format_version})")
        print(f"inputs      {[(i.name, i.shape) for i in model.session.get_inputs()]}")
        print(f"outputs     {[(o.name, o.shape) for o in model.session.get_outputs()]}")
        print(f"robot       {meta.robot}, {len(meta.joint_names)} joints, period {meta.control_period_s * 1e3:g} ms")
        print(f"memory      {memory}")
        print(f"commands    {json.dumps(meta.command_ranges)}")
        source = meta.provenance.get("format", "memaug_train")
        files = {role: entry["file"] for role, entry in meta.provenance.get("sources", {}).items()}
        print(f"provenance  {source}" + (f" from {json.dumps(files)}" if files else ""))
        for assumption in meta.provenance.get("assumptions", []):
            print(f"assumed     {assumption}")
        print("\njoint map (policy order -> robot joint index in the description)")
        print("\n".join("  " + row for row in joint_table(model, description)))
        print("\nobservation (network input, in order)")
        print("\n".join("  " + row for row in observation_table(model)))
        unmeasured = meta.observation.ground_truth_terms()
        if unmeasured:
            print(f"\nsim only: observes {unmeasured}, which a real robot does not measure")
        print()
        check_compatible(model, description)
    except (ModelError, ConfigError) as exc:
        print(f"memaug_policy_inspect: {exc}", file=sys.stderr)
        own = resolve_model_path(args.model).with_suffix(".robot.yaml")
        if own.is_file() and args.robot is None:
            print(
                f"memaug_policy_inspect: the importer wrote the policy's robot beside it: --robot {own}",
                file=sys.stderr,
            )
        return 2
    print(f"compatible with {description.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
