"""Ground other than the flat floor: rough ground (a height field) or a step ahead.

Both sit on the MJCF's floor plane and are added to the model when it is built
(memaug_sim.model.build_model), so the sim bridge, the robustness suite and a scenario
(``terrain:``) all build the same ground. The robot starts at the world origin facing +x.
"""

from __future__ import annotations

from typing import Literal

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

#: Rough ground: a square of this half-width, m, around the origin, in cells of this size, m.
ROUGH_HALF_WIDTH_M = 10.0
ROUGH_CELL_M = 0.1
#: Where a step begins ahead of the robot's start, m (world x), and how far it runs.
STEP_START_M = 1.0
STEP_LENGTH_M = 20.0


class Terrain(BaseModel):
    """``flat``: the floor only. ``rough``: bumps uniformly 0..height_m, one per ROUGH_CELL_M
    cell (the robot starts on a flat patch). ``step``: a ledge height_m high from
    STEP_START_M ahead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["flat", "rough", "step"] = "flat"
    height_m: float = Field(default=0.0, ge=0.0, le=0.3)
    seed: int = 0


FLAT = Terrain()


def add_terrain(spec: mujoco.MjSpec, terrain: Terrain) -> None:
    """Add ``terrain``'s geometry to ``spec``'s world body (nothing for flat ground)."""
    if terrain.kind == "flat" or terrain.height_m <= 0:
        return
    if terrain.kind == "step":
        half = STEP_LENGTH_M / 2
        spec.worldbody.add_geom(
            name="terrain_step",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[half, half, terrain.height_m / 2],
            pos=[STEP_START_M + half, 0.0, terrain.height_m / 2],
            contype=0,
            conaffinity=1,
            rgba=[0.45, 0.45, 0.5, 1.0],
        )
        return
    cells = round(2 * ROUGH_HALF_WIDTH_M / ROUGH_CELL_M)
    heights = np.random.default_rng(terrain.seed).uniform(0.0, 1.0, size=(cells, cells))
    middle = slice(cells // 2 - 3, cells // 2 + 3)  # a flat 0.6 m patch to stand up on
    heights[middle, middle] = 0.0
    spec.add_hfield(
        name="terrain_rough",
        size=[ROUGH_HALF_WIDTH_M, ROUGH_HALF_WIDTH_M, terrain.height_m, 0.01],
        nrow=cells,
        ncol=cells,
        userdata=heights.ravel().tolist(),
    )
    spec.worldbody.add_geom(
        name="terrain_rough",
        type=mujoco.mjtGeom.mjGEOM_HFIELD,
        hfieldname="terrain_rough",
        contype=0,
        conaffinity=1,
        rgba=[0.45, 0.45, 0.5, 1.0],
    )
