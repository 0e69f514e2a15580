"""The robot's left-right mirror: the symmetry group {e, g} used by memory augmentation.

g acts on joint-space vectors by a permutation plus sign flips, on base-frame polar vectors
(linear velocity, projected gravity) and axial vectors (angular velocity) by sign flips.
Every function maps arrays of shape [..., n] to the same shape and never modifies its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class MirrorSymmetry:
    joint_permutation: np.ndarray  # [num_joints] int: mirrored[i] = signs[i] * v[perm[i]]
    joint_signs: np.ndarray  # [num_joints] +-1
    vector_signs: np.ndarray  # [3] +-1 for polar vectors in the base frame
    pseudovector_signs: np.ndarray  # [3] +-1 for axial vectors in the base frame
    #: [num_legs] int: the mirrored value of leg i is v[leg_permutation[i]] (feet order)
    leg_permutation: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def joints(self, values: np.ndarray) -> np.ndarray:
        """Mirror joint-space values, shape [..., num_joints]."""
        return values[..., self.joint_permutation] * self.joint_signs

    def vector(self, values: np.ndarray) -> np.ndarray:
        """Mirror base-frame polar vectors, shape [..., 3]."""
        return values * self.vector_signs

    def pseudovector(self, values: np.ndarray) -> np.ndarray:
        """Mirror base-frame axial vectors (angular velocity), shape [..., 3]."""
        return values * self.pseudovector_signs

    def check_involution(self) -> None:
        """Raise ValueError unless mirroring twice is the identity (g is its own inverse)."""
        probe = np.arange(1, len(self.joint_permutation) + 1, dtype=np.float64)
        twice = self.joints(self.joints(probe))
        if not np.array_equal(twice, probe):
            raise ValueError(
                "symmetry: mirroring a joint vector twice must give it back; "
                f"got {twice.tolist()} from {probe.tolist()} (check joint_mirror and joint_signs)"
            )
