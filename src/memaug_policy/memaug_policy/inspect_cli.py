"""memaug_policy_inspect MODEL [--robot NAME]: print a policy's contract and check it.

Exit status: 0 compatible, 2 unusable file or mismatch with the robot description.
"""

from __future__ import annotations

import argparse
import json
import sys

from memaug_common.description import load_robot_description
from memaug_common.errors import ConfigError
from memaug_policy.model import ModelError, check_compatible, load_policy, resolve_model_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="memaug_policy_inspect", description=__doc__)
    parser.add_argument("model", help="ONNX file, or a name under config/policies/")
    parser.add_argument("--robot", default=None, help="robot description to check against (default: the model's)")
    args = parser.parse_args(argv)
    try:
        model = load_policy(resolve_model_path(args.model))
        meta = model.metadata
        print(f"model       {model.path}")
        print(f"inputs      {[(i.name, i.shape) for i in model.session.get_inputs()]}")
        print(f"outputs     {[(o.name, o.shape) for o in model.session.get_outputs()]}")
        print(f"robot       {meta.robot}, {len(meta.joint_names)} joints, period {meta.control_period_s * 1e3:.0f} ms")
        print(f"recurrent   {meta.recurrent.cell} layers={meta.recurrent.layers} hidden={meta.recurrent.hidden}")
        print(f"action      q* = q_default + {meta.action_scale} * a")
        print(
            "observation "
            + ", ".join(f"{t['name']}[{t['size']}]" for t in meta.observation_terms)
            + f" = {model.obs_dim}"
        )
        print(f"commands    {json.dumps(meta.command_ranges)}")
        print(f"provenance  {json.dumps(meta.provenance)}")
        description = load_robot_description(args.robot or meta.robot)
        check_compatible(model, description)
    except (ModelError, ConfigError) as exc:
        print(f"memaug_policy_inspect: {exc}", file=sys.stderr)
        return 2
    print(f"compatible with {description.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
