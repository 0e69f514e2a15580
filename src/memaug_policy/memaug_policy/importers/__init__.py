"""Importers: policies trained elsewhere -> memaug's self-describing ONNX (one module per format).

``import_policy`` reads the source, applies the user's --contract file, and writes the ONNX
(plus a robot description for the policy when its gains, default pose or period differ from
the robot's). Every failure is a PolicyImportError whose message is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memaug_common.description import RobotDescription
from memaug_policy.importers import isaaclab, legged_gym, mjlab, rl_sar, unitree_rl_lab
from memaug_policy.importers.common import ImportedPolicy, WrittenPolicy, write_policy
from memaug_policy.importers.contract_file import load_contract_file
from memaug_policy.importers.errors import PolicyImportError

Reader = Callable[[Path, RobotDescription], ImportedPolicy]

#: --from names -> readers; rsl_rl's exports come from Isaac Lab runs (same files).
FORMATS: dict[str, Reader] = {
    "isaaclab": isaaclab.read,
    "rsl_rl": isaaclab.read,
    "mjlab": mjlab.read,
    "unitree_rl_lab": unitree_rl_lab.read,
    "legged_gym": legged_gym.read,
    "rl_sar": rl_sar.read,
}


def import_policy(
    src: Path, fmt: str, description: RobotDescription, out: Path, contract: Path | None = None
) -> WrittenPolicy:
    if fmt not in FORMATS:
        raise PolicyImportError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    overrides = load_contract_file(contract)
    policy = FORMATS[fmt](Path(src), description)
    policy.format = fmt
    policy.apply(overrides)
    if contract is not None:
        policy.sources["contract"] = Path(contract)
    return write_policy(policy, description, Path(out))


__all__ = ["FORMATS", "PolicyImportError", "WrittenPolicy", "import_policy"]
