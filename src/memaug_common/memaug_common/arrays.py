"""One function body for NumPy arrays and for torch tensors on a training device.

The functions that take batches (the observation, the action map, the last gate, the torque
envelope, falls, rewards, the ground lookup) serve the policy node and CPU training with NumPy,
and training on a GPU with torch tensors that never leave it. They ask ``namespace(x)`` for
their array functions instead of calling ``np``: NumPy itself for NumPy input, so the CPU path
runs exactly the NumPy calls it always ran; the array-API namespace of array-api-compat for
anything else. Only memaug_train installs array-api-compat: the deploy path never imports it.

Only names both namespaces have may be used: ``concat``, ``astype``, ``linalg.vector_norm``,
``linalg.cross``, ``clip(x, low, None)`` for a floor, and so on.
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


def device_of(array: Any) -> Any:
    """Where ``array`` lives: "cpu" for NumPy, the tensor's device otherwise."""
    if not _is_foreign(array):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(array)


def with_arrays(value: T, convert: Callable[[np.ndarray], Any]) -> T:
    """A copy of the frozen dataclass ``value`` whose NumPy array fields went through
    ``convert`` (e.g. onto a torch device), so its methods compute there."""
    arrays = {
        f.name: convert(getattr(value, f.name))
        for f in dataclasses.fields(value)  # type: ignore[arg-type]
        if isinstance(getattr(value, f.name), np.ndarray)
    }
    return dataclasses.replace(value, **arrays)  # type: ignore[type-var]
