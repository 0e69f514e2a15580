"""The physics backends ``memaug_train train --backend`` names, and whether this install has them.

mujoco: C MuJoCo on the CPU, batched by mujoco.rollout (memaug_train.env): the default, what CI
and CPU machines train on; the networks may still learn on a GPU (--device cuda).
warp: MuJoCo Warp (the mujoco-warp package on warp-lang), for many worlds on a GPU. This
version does not step it yet: asking for it is refused with a line that says why.
"""

from __future__ import annotations

import importlib.util

BACKENDS = ("mujoco", "warp")
DEFAULT_BACKEND = "mujoco"


def check_backend(name: str) -> None:
    """Raise ValueError, naming what is missing, unless this install can train on ``name``."""
    if name == "mujoco":
        return
    if name != "warp":
        raise ValueError(f"--backend {name}: unknown; one of {', '.join(BACKENDS)}")
    packages = (("mujoco-warp", "mujoco_warp"), ("warp-lang", "warp"))
    missing = [package for package, module in packages if not _has(module)]
    if missing:
        raise ValueError(f"--backend warp needs {' and '.join(missing)}, not installed here (pip install mujoco-warp)")
    raise ValueError("--backend warp: mujoco-warp is installed, but this memaug_train steps C MuJoCo only so far")


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
