"""Where the training task's arrays live: NumPy on the host, or torch tensors on the training device.

VecGo2Env's task (state, sensors, targets, observations, rewards, terminations, and every
per-robot parameter the step reads) is one code body over ``TaskArrays.xp``
(memaug_common.arrays). With C MuJoCo the physics runs on the host, so the arrays are NumPy
there, and the CPU path runs the NumPy calls it always ran, bit for bit. With MuJoCo Warp on a
GPU they are torch tensors on that GPU, shared with Warp without a copy. With episodes drawn
as they begin, a control step brings back to the host only what the host must act on: whose
episodes ended, by a fall or a knee on the floor ([N] bool; time-outs, command changes, pushes
and fault starts follow from the host's own step counts; a fault edits its robot's MjModel
without its state, and a lock's angle is copied on the device). With episodes drawn ahead
(memaug_train.episodes_ahead, what the warp backend trains with) nothing comes back inside a
rollout. Crossings go through ``to_host``, which counts their bytes (bench/bench_train.py
--device-ops prints them).

Per-robot parameters that the host writes at episode starts and fault starts (gains, strength,
encoder offsets, faults' torque factors, latencies, ...) live on the host and have a mirror
where the task reads them (``HostRows``): one copy per array sends the rows written since.

Draws: the per-episode and per-event ones (dynamics, tasks, commands, pushes) come from the
environment's NumPy generator on the host, in the order they always came; the per-step
observation noise, a draw for every robot, is made where the arrays are (``TorchDraws``, seeded
from the environment's seed: the host's stream then lacks only the NumPy task's noise draws).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

#: Where a task's arrays may live: "numpy" (host) or "torch" (tensors on a torch device).
ARRAY_LIBRARIES = ("numpy", "torch")


def library_for(backend: str, device: str) -> str:
    """Where a run's task arrays live: torch tensors on a GPU that Warp steps on, NumPy on the
    host otherwise (C MuJoCo steps on the host whatever device the networks use; on warp's CPU
    device NumPy is what the parity tests hold Warp to)."""
    return "torch" if backend == "warp" and str(device).startswith("cuda") else "numpy"


class Uniform(Protocol):
    """What draws the per-step noise: NumPy's Generator has this method, TorchDraws too."""

    def uniform(self, low: float, high: float, size: tuple[int, ...]) -> Any: ...


class TorchDraws:
    """Uniform draws made on a torch device, from a generator seeded once (float64)."""

    def __init__(self, seed: int, device: Any) -> None:
        import torch

        self._torch = torch
        self.device = torch.device(device)
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(seed)

    def uniform(self, low: float, high: float, size: tuple[int, ...]) -> Any:
        torch = self._torch
        unit = torch.rand(size, generator=self._generator, device=self.device, dtype=torch.float64)
        return low + (high - low) * unit


@dataclass
class TaskArrays:
    """The array library and device of one environment's task, and the crossings to the host."""

    library: str = "numpy"
    device: str = "cpu"
    #: Bytes brought to the host by to_host since the counter was last cleared.
    bytes_to_host: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.library not in ARRAY_LIBRARIES:
            raise ValueError(f"task arrays: library must be one of {ARRAY_LIBRARIES}, got {self.library!r}")
        if self.library == "numpy" and self.device != "cpu":
            raise ValueError(f"task arrays: NumPy arrays live on the host, not on {self.device!r}")
        if self.library == "torch":
            import array_api_compat.torch
            import torch

            self._torch = torch
            self.xp: Any = array_api_compat.torch
            self._device = torch.device(self.device)
        else:
            self.xp = np

    @property
    def on_host(self) -> bool:
        return self.library == "numpy"

    def asarray(self, values: Any, dtype: Any = np.float64) -> Any:
        """``values`` (NumPy, lists, or tensors on any device) as this task's array of NumPy
        ``dtype``: the same object where it already is one."""
        if self.on_host:
            if hasattr(values, "detach"):  # a tensor, e.g. the policy's actions on a GPU
                values = values.detach().cpu().numpy()
            return np.asarray(values, dtype=dtype)
        torch = self._torch
        target = getattr(torch, np.dtype(dtype).name)  # float64, float32, int64, bool: the same names
        if isinstance(values, torch.Tensor):
            return values.to(device=self._device, dtype=target)
        return torch.from_numpy(np.array(values, dtype=dtype)).to(self._device)  # one host copy, then one transfer

    def mirror(self, host: np.ndarray) -> Any:
        """Where the task reads ``host``, a host array the host writes: ``host`` itself on the
        host, else a device copy that whoever writes ``host`` keeps up to date."""
        return host if self.on_host else self.asarray(host, host.dtype)

    def zeros(self, shape: tuple[int, ...] | int, dtype: Any = np.float64) -> Any:
        return self.asarray(np.zeros(shape, dtype=dtype), dtype)

    def to_host(self, values: Any) -> np.ndarray:
        """``values`` as a NumPy array on the host (no copy for NumPy), counting the bytes a
        device array brings back."""
        if self.on_host:
            return np.asarray(values)
        host = values.detach().cpu().numpy()
        self.bytes_to_host += host.nbytes
        return host

    def draws(self, rng: np.random.Generator, seed: int) -> Uniform:
        """What draws the per-step noise: ``rng`` itself on the host, else a device generator
        seeded from ``seed`` (not from ``rng``, whose stream stays the NumPy task's)."""
        if self.on_host:
            return rng
        return TorchDraws(int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]), self._device)


class HostRows:
    """Per-robot arrays [N, ...] the host writes for a few robots at a time (episode starts,
    fault starts) and the task reads every step: ``host`` holds them, ``device`` their mirrors
    where the task's arrays are (the same arrays on the host). Writers ``mark`` the rows they
    wrote; ``publish`` sends those rows, one copy per array."""

    def __init__(self, arrays: TaskArrays, **host: np.ndarray) -> None:
        self._arrays = arrays
        self.host = host
        self.device = {name: arrays.mirror(values) for name, values in host.items()}
        self._marked = np.zeros(len(next(iter(host.values()))), dtype=bool)

    def mark(self, rows: Any) -> None:
        if not self._arrays.on_host:  # on the host the mirrors are the arrays
            self._marked[rows] = True

    def publish(self) -> None:
        rows = np.flatnonzero(self._marked)
        if len(rows):
            for name, values in self.host.items():
                self.device[name][rows] = self._arrays.asarray(values[rows], values.dtype)
            self._marked[:] = False
