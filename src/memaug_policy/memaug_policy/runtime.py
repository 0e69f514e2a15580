"""The policy runtime: ONNX Runtime inference with the hidden state held between ticks.

Hidden-state semantics: carried from step to step; reset only by ``reset_memory`` (which
the node calls on entering run mode and on ~/reset_memory), never silently. A policy without
memory (recurrent cell "none") has no state: its memory is empty and a reset only counts. A step that
produces a non-finite output raises NonFiniteError and leaves the memory as it was.
"""

from __future__ import annotations

import numpy as np

from memaug_policy.contract import output_names, state_names
from memaug_policy.model import PolicyModel


class NonFiniteError(ArithmeticError):
    """The observation or the policy's output held NaN or inf."""


class PolicyRuntime:
    def __init__(self, model: PolicyModel) -> None:
        self.model = model
        rec = model.metadata.recurrent
        self._state_names = state_names(rec.cell)
        self._state_shape = (rec.layers, 1, rec.hidden)
        self._outputs = output_names(rec.cell)
        self.state: list[np.ndarray] = []
        self.resets = 0
        self.reset_memory()

    def reset_memory(self) -> None:
        """Zero the hidden state (the policy forgets the task it had inferred)."""
        self.state = [np.zeros(self._state_shape, dtype=np.float32) for _ in self._state_names]
        self.resets += 1

    @property
    def memory(self) -> np.ndarray:
        """The hidden state, flattened: [layers * hidden] (LSTM: h then c); [0] without memory."""
        if not self.state:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([s.ravel() for s in self.state])

    def step(self, obs: np.ndarray) -> np.ndarray:
        """obs [obs_dim] -> raw actions [act_dim] (float32); advances the hidden state."""
        obs = np.asarray(obs, dtype=np.float32).reshape(1, -1)
        if not np.all(np.isfinite(obs)):
            raise NonFiniteError(f"non-finite observation at indices {np.flatnonzero(~np.isfinite(obs)).tolist()}")
        feeds = {"obs": obs, **dict(zip(self._state_names, self.state, strict=True))}
        outputs = self.model.session.run(self._outputs, feeds)
        if not all(np.all(np.isfinite(o)) for o in outputs):
            raise NonFiniteError("policy produced a non-finite action or hidden state")
        self.state = list(outputs[1:])
        return outputs[0][0]
