"""The policy's observation: ordered named terms with sizes and scales.

One implementation serves the policy node (one robot, arrays of shape [n]) and the training
environment (a batch, arrays of shape [batch, n]): every function here works on the last
axis. The layout is written into the exported model's metadata and checked on load.

Frames: base frame = x forward, y left, z up; gyro in the base (IMU) frame; projected
gravity is the unit gravity direction expressed in the base frame ([0, 0, -1] upright).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memaug_common.arrays import astype, concat, cross, namespace
from memaug_common.symmetry import MirrorSymmetry

#: How a term changes under the mirror: polar or axial base-frame 3-vectors, the velocity
#: command, joint-space vectors (permuted, hips negated), joint-space magnitudes (permuted
#: only, e.g. how much torque a motor has left), one value per leg (permuted), or scalars.
MirrorKind = Literal["pseudovector", "vector", "command", "joints", "joint_magnitudes", "legs", "scalar"]


@dataclass(frozen=True)
class ObservationTerm:
    name: str
    size: int  # 0 means "one per joint"
    scale: tuple[float, ...] | float
    mirror: MirrorKind
    description: str


#: The default observation, in order. Scales follow common practice for legged RL (angular
#: velocity x0.25, joint velocity x0.05) so every term is of order one.
DEFAULT_TERMS: tuple[ObservationTerm, ...] = (
    ObservationTerm("base_angular_velocity", 3, 0.25, "pseudovector", "gyro, rad/s, base frame"),
    ObservationTerm("projected_gravity", 3, 1.0, "vector", "unit gravity direction in the base frame"),
    ObservationTerm("velocity_command", 3, (2.0, 2.0, 0.25), "command", "vx m/s, vy m/s, yaw rate rad/s"),
    ObservationTerm("joint_position", 0, 1.0, "joints", "q - q_default, rad"),
    ObservationTerm("joint_velocity", 0, 0.05, "joints", "dq, rad/s"),
    ObservationTerm("last_action", 0, 1.0, "joints", "previous raw policy output"),
)


@dataclass(frozen=True)
class ObservationLayout:
    """Terms resolved for a robot: sizes, offsets and the per-element scale vector."""

    terms: tuple[ObservationTerm, ...]
    sizes: tuple[int, ...]
    scale: np.ndarray  # [obs_dim]

    @classmethod
    def for_joints(cls, num_joints: int, terms: tuple[ObservationTerm, ...] = DEFAULT_TERMS) -> ObservationLayout:
        sizes = tuple(t.size or num_joints for t in terms)
        scale = np.concatenate(
            [np.broadcast_to(np.asarray(t.scale, dtype=np.float64), (n,)) for t, n in zip(terms, sizes, strict=True)]
        )
        scale.setflags(write=False)
        return cls(terms=terms, sizes=sizes, scale=scale)

    @property
    def dim(self) -> int:
        return sum(self.sizes)

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for term, size in zip(self.terms, self.sizes, strict=True):
            out[term.name] = slice(start, start + size)
            start += size
        return out

    def describe(self) -> list[dict[str, object]]:
        """[{name, size, scale}] in order: what the model metadata records."""
        return [
            {"name": t.name, "size": n, "scale": np.broadcast_to(np.asarray(t.scale, float), (n,)).tolist()}
            for t, n in zip(self.terms, self.sizes, strict=True)
        ]

    def build(self, raw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Concatenate unscaled term values (each [..., size]) and apply the scales -> [..., dim] float32."""
        xp = namespace(*raw.values())
        parts = [xp.asarray(raw[t.name], dtype=xp.float64) for t in self.terms]
        return astype(concat(parts, axis=-1) * self.scale, "float32")

    def mirror(self, obs: np.ndarray, symmetry: MirrorSymmetry) -> np.ndarray:
        """g_o: the observation the mirrored robot would see, [..., dim] -> [..., dim].

        Scales are per-term and symmetric, so mirroring the scaled vector is exact.
        """
        out = np.empty_like(obs)
        for term, sl in zip(self.terms, self.slices().values(), strict=True):
            out[..., sl] = mirror_term(obs[..., sl], term.mirror, symmetry)
        return out


def mirror_term(values: np.ndarray, kind: MirrorKind, symmetry: MirrorSymmetry) -> np.ndarray:
    if kind == "pseudovector":
        return symmetry.pseudovector(values)
    if kind == "vector":
        return symmetry.vector(values)
    if kind == "command":  # (vx, vy): polar vector in the base plane; yaw rate: axial z
        signs = np.array([symmetry.vector_signs[0], symmetry.vector_signs[1], symmetry.pseudovector_signs[2]])
        return values * signs
    if kind == "joint_magnitudes":
        return values[..., symmetry.joint_permutation]
    if kind == "legs":
        return values[..., symmetry.leg_permutation]
    if kind == "scalar":
        return values.copy()
    return symmetry.joints(values)


def projected_gravity(quat_wxyz: np.ndarray) -> np.ndarray:
    """World gravity direction [0, 0, -1] in the base frame, from base->world quaternions [..., 4]."""
    w, x, y, z = (quat_wxyz[..., i] for i in range(4))
    # Third row of R(q) is R^T e_z; gravity is -e_z.
    return -namespace(quat_wxyz).stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1)


def rotate_to_base(quat_wxyz: np.ndarray, world_vectors: np.ndarray) -> np.ndarray:
    """Express world-frame vectors [..., 3] in the base frame, given base->world quaternions [..., 4]."""
    w = quat_wxyz[..., :1]
    u = -quat_wxyz[..., 1:]  # conjugate: world->base
    t = 2.0 * cross(u, world_vectors)
    return world_vectors + w * t + cross(u, t)
