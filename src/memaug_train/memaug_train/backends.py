"""The physics backends ``memaug_train train --backend`` names, and whether this install has them.

mujoco: C MuJoCo on the CPU, batched by mujoco.rollout (memaug_train.env): the default, what CI
and CPU machines train on; the networks may still learn on a GPU (--device cuda).
warp: MuJoCo Warp (the mujoco-warp package on warp-lang, the ``gpu`` extra), the same task
over Warp's physics (memaug_train.warp_physics) on the training device; on warp's CPU device
for parity tests. On a GPU the task's arrays are torch tensors there (memaug_train.task_arrays),
on a CPU NumPy; every randomization term but rich contact's condim and cone (one for all worlds
in Warp) is drawn per world on both.
"""

from __future__ import annotations

BACKENDS = ("mujoco", "warp")
DEFAULT_BACKEND = "mujoco"


def check_backend(name: str) -> None:
    """Raise ValueError, naming what is missing, unless this install can train on ``name``."""
    if name == "mujoco":
        return
    if name != "warp":
        raise ValueError(f"--backend {name}: unknown; one of {', '.join(BACKENDS)}")
    from memaug_train.warp_physics import unavailable

    missing = unavailable()
    if missing is not None:
        raise ValueError(f"--backend warp: {missing}")
