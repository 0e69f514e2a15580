"""Soft feet's contact priority as per-world solmix weights (memaug_train.warp_contacts),
checked on C MuJoCo itself: the weights, with every priority equal, give the same contacts."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_sim.dynamics import Dynamics, NominalPhysics, apply_physics
from memaug_sim.model import Actuation, ModelIndex, build_model
from memaug_train.warp_contacts import priority_as_solmix

GO2 = load_robot_description("go2")


def go2(dynamics: Dynamics) -> tuple[mujoco.MjModel, ModelIndex]:
    model = build_model(GO2, Actuation.POSITION, textures=False)
    index = ModelIndex.of(model, GO2)
    apply_physics(model, index, NominalPhysics.of(model), dynamics)
    return model, index


def standing_contacts(model: mujoco.MjModel) -> mujoco.MjData:
    """The robot on its keyframe pose, lowered until its lowest foot is 1 cm into the floor."""
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    mujoco.mj_forward(model, data)
    feet = ModelIndex.of(model, GO2).feet_geoms
    lowest = (data.geom_xpos[feet, 2] - model.geom_size[feet, 0]).min()
    data.qpos[2] -= lowest + 0.01
    mujoco.mj_forward(model, data)
    return data


def test_equal_priorities_keep_the_model_s_own_weights() -> None:
    model, _ = go2(Dynamics())
    np.testing.assert_array_equal(priority_as_solmix(model, 0), model.geom_solmix)


def test_soft_feet_as_weights_give_mujoco_the_same_contacts_as_their_priority() -> None:
    """Soft feet sink: their solref wins over the ground's by priority. The weights (1 on the
    feet, 0 elsewhere) with every priority at 0 give each contact the same solref, solimp,
    friction and condim, so the constraint forces and accelerations are MuJoCo's own."""
    by_priority, index = go2(Dynamics(foot_contact_time_constant_s=0.06, ground_friction=0.5))
    weights = priority_as_solmix(by_priority, 0)
    np.testing.assert_array_equal(np.flatnonzero(weights), index.feet_geoms)
    by_weights = go2(Dynamics(foot_contact_time_constant_s=0.06, ground_friction=0.5))[0]
    by_weights.geom_priority[:] = 0
    by_weights.geom_solmix[:] = weights
    a, b = standing_contacts(by_priority), standing_contacts(by_weights)
    assert a.ncon >= 4
    np.testing.assert_allclose(b.efc_KBIP[: b.nefc], a.efc_KBIP[: a.nefc], rtol=1e-12)
    np.testing.assert_allclose(b.qacc, a.qacc, rtol=1e-9, atol=1e-9)
    # Without the weights the feet would meet the ground at the mean of the two time constants.
    by_weights.geom_solmix[:] = 1.0
    c = standing_contacts(by_weights)
    assert not np.allclose(c.efc_KBIP[: c.nefc], a.efc_KBIP[: a.nefc])


@pytest.mark.parametrize(
    ("edit", "refusal"),
    [
        (lambda m, feet: m.geom_priority.__setitem__(feet[0], 5), "3 contact priority levels"),
        (lambda m, feet: m.geom_friction.__setitem__((feet, 0), 0.1), "the smaller friction"),
        (lambda m, feet: m.geom_solmix.__setitem__(0, 3.0), "unequal solmix weights"),
    ],
    ids=["three levels", "weaker top friction", "unequal weights"],
)
def test_priorities_no_weights_can_express_are_refused_naming_the_robot(edit, refusal: str) -> None:
    model, index = go2(Dynamics(foot_contact_time_constant_s=0.06))
    edit(model, index.feet_geoms)
    with pytest.raises(ValueError, match=rf"robot 7: .*{refusal}.*MuJoCo Warp"):
        priority_as_solmix(model, 7)
