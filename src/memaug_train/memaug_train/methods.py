"""The method and its baselines, behind one flag, on the same budget.

memaug        : GRU memory + mirror augmentation, trained on left-leg failures only.
memory_no_aug : GRU memory, no augmentation, left-leg failures only.
aug_no_memory : MLP (no memory) + mirror augmentation, left-leg failures only.
full_random   : GRU memory, no augmentation, trained on left- *and* right-leg failures
                (an upper reference: it simulates the out-of-distribution tasks).
"""

from __future__ import annotations

from dataclasses import dataclass

from memaug_common.description import RobotDescription
from memaug_train.networks import Cell
from memaug_train.tasks import LEFT_LEGS, RIGHT_LEGS, TaskSampler, failure_weights, leg_joints


@dataclass(frozen=True)
class Method:
    name: str
    cell: Cell
    augment: bool
    train_legs: tuple[str, ...]

    def sampler(self, description: RobotDescription) -> TaskSampler:
        joints = leg_joints(description, self.train_legs)
        return TaskSampler(joints=joints, joint_weights=failure_weights(joints))


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("memaug", "gru", True, LEFT_LEGS),
        Method("memory_no_aug", "gru", False, LEFT_LEGS),
        Method("aug_no_memory", "mlp", True, LEFT_LEGS),
        Method("full_random", "gru", False, LEFT_LEGS + RIGHT_LEGS),
    )
}
