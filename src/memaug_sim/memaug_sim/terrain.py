"""Ground other than the flat floor: rough ground (a height field), a step or blocks ahead.

Both sit on the MJCF's floor plane and are added to the model when it is built
(memaug_sim.model.build_model), so the sim bridge, the robustness suite and a scenario
(``terrain:``) all build the same ground. The robot starts at the world origin facing +x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from memaug_common.arrays import astype, clip, namespace

#: Rough ground: a square of this half-width, m, around the origin, in cells of this size, m.
ROUGH_HALF_WIDTH_M = 10.0
ROUGH_CELL_M = 0.1
#: Rough ground stands this far, m, above the floor. Level with it, a foot on a low cell touched
#: the floor and the height field at once: those duplicate contacts were a quarter of a rough-
#: ground robot's solver rows (measured in the training env). Feet sink up to ~7 mm (p99)
#: into soft ground, so a few still touch both.
ROUGH_LIFT_M = 0.005
#: Where a step begins ahead of the robot's start, m (world x), and how far it runs.
STEP_START_M = 1.0
STEP_LENGTH_M = 20.0
#: Blocks: square tiles of this size, m, over this stretch ahead of the start (world x) and
#: this half-width across (world y), each of its own height.
BLOCK_SIZE_M = 0.1
BLOCKS_X_M = (0.5, 8.0)
BLOCKS_HALF_WIDTH_M = 1.0


class Terrain(BaseModel):
    """``flat``: the floor only. ``rough``: bumps uniformly 0..height_m, one per ROUGH_CELL_M
    cell, ROUGH_LIFT_M above the floor (the robot starts on a flat patch). ``step``: a ledge height_m high from
    STEP_START_M ahead. ``blocks``: square BLOCK_SIZE_M tiles, each uniformly 0..height_m high, with
    sharp edges that a foot can catch (a height field's cells are ramps), over BLOCKS_X_M ahead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["flat", "rough", "step", "blocks"] = "flat"
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
    if terrain.kind == "blocks":
        _add_blocks(spec, terrain)
        return
    heights = rough_heights(terrain.seed)
    cells = heights.shape[0]
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
        pos=[0.0, 0.0, ROUGH_LIFT_M],
        contype=0,
        conaffinity=1,
        rgba=[0.45, 0.45, 0.5, 1.0],
    )


def _add_blocks(spec: mujoco.MjSpec, terrain: Terrain) -> None:
    """One box per tile, standing on the floor, its top 0..height_m above it."""
    xs = np.arange(BLOCKS_X_M[0], BLOCKS_X_M[1], BLOCK_SIZE_M) + BLOCK_SIZE_M / 2
    ys = np.arange(-BLOCKS_HALF_WIDTH_M, BLOCKS_HALF_WIDTH_M, BLOCK_SIZE_M) + BLOCK_SIZE_M / 2
    heights = np.random.default_rng(terrain.seed).uniform(0.0, terrain.height_m, size=(len(xs), len(ys)))
    half = BLOCK_SIZE_M / 2
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            top = max(float(heights[i, j]), 1e-3)
            spec.worldbody.add_geom(
                name=f"terrain_block_{i}_{j}",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[half, half, top / 2],
                pos=[float(x), float(y), top / 2],
                contype=0,
                conaffinity=1,
                rgba=[0.45, 0.45, 0.5, 1.0],
            )


def rough_heights(seed: int) -> np.ndarray:
    """[cells, cells] bump heights in 0..1 (x the terrain's height), rows along world y and
    columns along world x, as MuJoCo lays out a height field; flat in a 0.6 m patch about
    the origin, where the robot stands up."""
    cells = round(2 * ROUGH_HALF_WIDTH_M / ROUGH_CELL_M)
    heights = np.random.default_rng(seed).uniform(0.0, 1.0, size=(cells, cells))
    middle = slice(cells // 2 - 3, cells // 2 + 3)
    heights[middle, middle] = 0.0
    return heights


@dataclass(frozen=True)
class GroundLookup:
    """Ground height under points, for contact tests without MuJoCo's contact list: the
    bilinear interpolation of rough_heights(seed) (MuJoCo triangulates each cell, so within
    a few mm of its surface), 0 off the field."""

    heights: np.ndarray  # [cells, cells] in 0..1

    @classmethod
    def rough(cls, seed: int = 0) -> GroundLookup:
        return cls(rough_heights(seed))

    def height(self, x: np.ndarray, y: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Ground z, m, under world points (x, y) [N, ...] for robots whose bumps are
        ``scale`` [N] m high (0: the field is off, flat floor), ROUGH_LIFT_M included."""
        xp = namespace(x)
        cells = self.heights.shape[0]
        u = (x + ROUGH_HALF_WIDTH_M) / (2 * ROUGH_HALF_WIDTH_M) * (cells - 1)  # column coordinate
        v = (y + ROUGH_HALF_WIDTH_M) / (2 * ROUGH_HALF_WIDTH_M) * (cells - 1)  # row coordinate
        inside = (u >= 0) & (u <= cells - 1) & (v >= 0) & (v <= cells - 1)
        c0 = clip(astype(xp.floor(u), "int64"), 0, cells - 2)
        r0 = clip(astype(xp.floor(v), "int64"), 0, cells - 2)
        fu, fv = clip(u - c0, 0, 1), clip(v - r0, 0, 1)
        h = self.heights
        z = (h[r0, c0] * (1 - fu) + h[r0, c0 + 1] * fu) * (1 - fv) + (
            h[r0 + 1, c0] * (1 - fu) + h[r0 + 1, c0 + 1] * fu
        ) * fv
        scale = xp.reshape(scale, (-1,) + (1,) * (z.ndim - 1))
        return (z * scale + ROUGH_LIFT_M * (scale > 0)) * inside
