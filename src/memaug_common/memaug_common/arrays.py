"""One function body for NumPy arrays and for torch tensors on a training device.

The functions that take batches (the observation, the action map, the last gate, the torque
envelope, falls, rewards, the ground lookup) serve the policy node and CPU training with NumPy,
and training on a GPU with torch tensors that never leave it. They ask ``namespace(x)`` for
their array functions instead of calling ``np``: NumPy itself for NumPy input, so the CPU path
runs exactly the NumPy calls it always ran; the array-API namespace of array-api-compat for
anything else. Only memaug_train installs array-api-compat: the deploy path never imports it.

Only names that NumPy 1.26 (the robot's ROS 2 Jazzy image) and the torch namespace share may
be used from the namespace: asarray, stack, where, sum, sqrt, exp, abs, floor, reshape, all, any,
isfinite, zeros_like and the dtypes. What they name differently is a function here: ``clip``,
``astype``, ``concat``, ``cross``, ``norm``, ``arange``. ``clip`` is here for another reason
too: array-api-compat's torch clip indexes with boolean masks, which waits for the GPU at
every call; torch.clamp does not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def _is_foreign(value: Any) -> bool:
    """True for an array that is not NumPy's (a torch tensor: it speaks DLPack)."""
    return hasattr(value, "__dlpack__") and not isinstance(value, np.ndarray | np.generic)


def namespace(*values: Any) -> Any:
    """The array namespace for ``values``: ``numpy`` when none is a foreign array (lists and
    Python scalars count as NumPy), else array-api-compat's namespace of the foreign ones."""
    foreign = [value for value in values if _is_foreign(value)]
    if not foreign:
        return np
    import array_api_compat

    return array_api_compat.array_namespace(*foreign)


def with_arrays(value: T, convert: Callable[[np.ndarray], Any]) -> T:
    """A copy of the frozen dataclass ``value`` whose NumPy array fields went through
    ``convert`` (e.g. onto a torch device), so its methods compute there."""
    arrays = {
        f.name: convert(getattr(value, f.name))
        for f in dataclasses.fields(value)  # type: ignore[arg-type]
        if isinstance(getattr(value, f.name), np.ndarray)
    }
    return dataclasses.replace(value, **arrays)  # type: ignore[type-var]


def _torch() -> Any:
    import torch

    return torch


def clip(values: Any, low: Any = None, high: Any = None) -> Any:
    """``values`` limited to [low, high] elementwise (either bound None: that side open; bounds
    are scalars or arrays that broadcast)."""
    if not _is_foreign(values):
        return np.clip(values, low, high)
    torch = _torch()
    if isinstance(low, torch.Tensor) != isinstance(high, torch.Tensor) and low is not None and high is not None:
        low, high = (torch.as_tensor(bound, dtype=values.dtype, device=values.device) for bound in (low, high))
    return torch.clamp(values, low, high)


def astype(values: Any, dtype: str) -> Any:
    """``values`` as elements of ``dtype`` ("float64", "float32", "int64", ...)."""
    if not _is_foreign(values):
        return values.astype(dtype)
    return values.to(getattr(_torch(), dtype))


def concat(parts: list[Any], axis: int = 0) -> Any:
    """``parts`` joined along ``axis``."""
    if not any(_is_foreign(part) for part in parts):
        return np.concatenate(parts, axis=axis)
    return _torch().cat(parts, dim=axis)


def cross(a: Any, b: Any) -> Any:
    """Cross products of 3-vectors along the last axis (broadcasting)."""
    if not (_is_foreign(a) or _is_foreign(b)):
        return np.cross(a, b)
    return _torch().linalg.cross(a, b, dim=-1)


def norm(values: Any, axis: int = -1) -> Any:
    """Euclidean norms along ``axis``: sqrt(sum(x * x)), which is what np.linalg.norm computes
    for real arrays, bit for bit."""
    xp = namespace(values)
    return xp.sqrt(xp.sum(values * values, axis=axis))


def arange(count: int, like: Any) -> Any:
    """[count] int64 0, 1, ... where ``like`` is."""
    if not _is_foreign(like):
        return np.arange(count)
    return _torch().arange(count, device=like.device)
