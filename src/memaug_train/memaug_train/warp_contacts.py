"""MuJoCo's contact priority, expressed in what MuJoCo Warp holds per world.

A contact between two geoms takes its parameters from them: with equal priorities, solref and
solimp mixed by the geoms' solmix weights (mix = solmix1 / (solmix1 + solmix2), 0.5 when both
are zero), condim and friction the larger; with unequal ones, everything from the geom of higher
priority. Soft feet (memaug_sim.dynamics) use the second rule, so that a foot's own solref wins
over the ground's. Warp holds ``geom_priority`` once for all worlds but ``geom_solmix`` per
world, so each world gets the weights that give its robot's contacts the same parameters with
every priority equal: 1 on the geoms of higher priority, 0 elsewhere.
"""

from __future__ import annotations

import mujoco
import numpy as np


def priority_as_solmix(model: mujoco.MjModel, robot: int) -> np.ndarray:
    """[ngeom] solmix weights which, with every geom at one priority, give each contact of
    ``model`` the parameters MuJoCo gives it under ``model``'s priorities; ``model``'s own
    weights when its priorities are all equal. ValueError, naming robot ``robot``, where no
    weights can: more than two priority levels, unequal solmix weights, or a geom of higher
    priority whose condim or friction is below another's (priority would take its smaller
    value, equal priorities the larger)."""
    priority, solmix = model.geom_priority, model.geom_solmix
    levels = np.unique(priority)
    if len(levels) == 1:
        return solmix.copy()
    top = priority == levels[-1]
    refusal = None
    if len(levels) > 2:
        refusal = f"{len(levels)} contact priority levels"
    elif not np.all(solmix == solmix[0]):
        refusal = "contact priorities with unequal solmix weights"
    elif model.geom_condim[top].min() < model.geom_condim[~top].max():
        refusal = "a geom of higher contact priority with the smaller condim"
    elif np.any(model.geom_friction[top].min(0) < model.geom_friction[~top].max(0)):
        refusal = "a geom of higher contact priority with the smaller friction"
    if refusal is not None:
        raise ValueError(f"robot {robot}: {refusal}, which MuJoCo Warp cannot express per world")
    # Top against other: mix 1 toward the top geom. Top against top, other against other:
    # 0.5, as MuJoCo's equal weights give.
    return top.astype(solmix.dtype)
