"""The shipped policy behaves exactly as it did when it was recorded.

fixtures/go2_memaug_v10_actions.npz holds 240 ticks of random state and commands, with memory
resets at ticks 0, 90 and 170 (first recorded from the format-1 code at commit 88277d1, on v8),
and the actions and targets PolicyController gave for them on config/policies/go2_memaug.onnx
when v10 was shipped (2026-12-07). Inputs are stored as float32 and fed as float64, as they were
when recorded. A new shipped policy records its own actions over the same inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memaug_common.description import load_robot_description
from memaug_common.paths import config_dir
from memaug_policy.controller import PolicyController
from memaug_policy.model import check_compatible, load_policy

FIXTURE = Path(__file__).parent / "fixtures" / "go2_memaug_v10_actions.npz"


def test_shipped_policy_actions_equal_the_recorded_ones() -> None:
    recorded = np.load(FIXTURE)
    description = load_robot_description("go2")
    model = load_policy(config_dir() / "policies" / "go2_memaug.onnx")
    check_compatible(model, description)
    controller = PolicyController(model, description)
    actions, targets = [], []
    for t in range(len(recorded["resets"])):
        if recorded["resets"][t]:
            controller.reset()
        out = controller.step(
            *(recorded[k][t].astype(np.float64) for k in ("joint_position", "joint_velocity", "gyro")),
            recorded["orientation_wxyz"][t].astype(np.float64),
            recorded["command"][t].astype(np.float64),
        )
        actions.append(out.action)
        targets.append(out.targets)
    np.testing.assert_allclose(np.array(actions), recorded["actions"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.array(targets), recorded["targets"], rtol=0, atol=1e-6)
