"""The runtime's hidden state: carried, reset on request, never silently; parity with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from memaug_policy.model import load_policy
from memaug_policy.runtime import NonFiniteError, PolicyRuntime


@pytest.mark.parametrize(("cell", "estimator_hidden"), [("gru", 0), ("lstm", 0), ("gru", 16)])
def test_step_by_step_onnx_equals_torch_over_a_500_step_sequence(
    export_policy, cell: str, estimator_hidden: int
) -> None:
    """The concurrent estimator's memory rides in the same hidden tensor as the policy's."""
    path, model = export_policy(cell, hidden=64, seed=3, estimator_hidden=estimator_hidden)
    runtime = PolicyRuntime(load_policy(path))
    obs = torch.from_numpy(np.random.default_rng(1).normal(size=(500, 1, model.obs_dim)).astype(np.float32))
    with torch.no_grad():
        sequence, _ = model.actor_sequence(obs, model.actor_initial(1))
        expected = model.actor_mean(sequence)[:, 0].numpy()
    actual = np.stack([runtime.step(o[0].numpy()) for o in obs])
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_memory_changes_the_output_and_reset_restores_it(gru_policy) -> None:
    runtime = PolicyRuntime(load_policy(gru_policy))
    obs = np.full(45, 0.3, dtype=np.float32)
    first = runtime.step(obs)
    second = runtime.step(obs)
    assert not np.allclose(first, second)  # same input, different memory
    assert np.any(runtime.memory != 0)
    resets = runtime.resets
    runtime.reset_memory()
    assert runtime.resets == resets + 1
    assert np.all(runtime.memory == 0)
    np.testing.assert_array_equal(runtime.step(obs), first)


def test_non_finite_observation_is_refused_and_memory_kept(gru_policy) -> None:
    runtime = PolicyRuntime(load_policy(gru_policy))
    runtime.step(np.ones(45, dtype=np.float32))
    memory = runtime.memory.copy()
    bad = np.ones(45, dtype=np.float32)
    bad[4] = np.nan
    with pytest.raises(NonFiniteError, match=r"indices \[4\]"):
        runtime.step(bad)
    np.testing.assert_array_equal(runtime.memory, memory)
