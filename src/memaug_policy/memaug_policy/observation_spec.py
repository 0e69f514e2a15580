"""What a policy observes, as its contract describes it, and the builder that assembles it.

A term's value is measured (unscaled, policy joint order), clipped to the term's range if it
has one, then scaled: the order of Isaac Lab's observation manager and unitree_rl_lab's
deploy. A term may be seen over several control ticks (``history``); the frames are laid
out term-major (each term's frames together: Isaac Lab, unitree_rl_lab) or time-major (whole
observations one after another: rl_sar's "time" priority, HIMLoco), oldest or newest first,
and after a reset they are filled with the first frame (Isaac Lab's circular buffer) or with
zeros. Last, the whole vector may be clipped symmetrically (legged_gym's clip_observations).

A contract without any of these (every format-1 file) builds exactly what
ObservationLayout.build builds: one frame, scaled, float32.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from memaug_policy.observation import DEFAULT_TERMS, ObservationLayout, ObservationTerm

#: Terms a contract may name: the default observation's, and the base linear velocity, which
#: a simulator knows and a real Go2 does not measure (a model that needs it runs in sim only).
KNOWN_TERMS: dict[str, ObservationTerm] = {t.name: t for t in DEFAULT_TERMS} | {
    "base_linear_velocity": ObservationTerm(
        "base_linear_velocity", 3, 1.0, "vector", "base linear velocity, m/s, base frame (ground truth: sim only)"
    ),
}

#: Terms a real robot cannot measure: a model that observes one runs only where they are known.
GROUND_TRUTH_TERMS = ("base_linear_velocity",)

HistoryOrder = Literal["term_major", "time_major"]
HistoryFill = Literal["first", "zeros"]


class ObservationSpecError(ValueError):
    """The observation described by a contract cannot be built; the message says why."""


@dataclass(frozen=True)
class TermSpec:
    """One term: its meaning, size per frame, scale [size], clip (low, high) and history."""

    term: ObservationTerm
    size: int
    scale: np.ndarray
    clip: tuple[float, float] | None
    history: int

    @property
    def name(self) -> str:
        return self.term.name


@dataclass(frozen=True)
class ObservationSpec:
    terms: tuple[TermSpec, ...]
    order: HistoryOrder = "term_major"
    newest_first: bool = False
    fill: HistoryFill = "first"
    clip: float | None = None  # symmetric clip of the whole scaled vector

    @property
    def dim(self) -> int:
        """Length of the vector the network reads."""
        return sum(t.size * t.history for t in self.terms)

    @property
    def frame_dim(self) -> int:
        return sum(t.size for t in self.terms)

    @property
    def has_history(self) -> bool:
        return any(t.history > 1 for t in self.terms)

    def layout(self) -> ObservationLayout:
        """One frame's layout (terms, sizes, scales), as format 1 knew it."""
        terms = tuple(
            ObservationTerm(t.name, t.size, tuple(t.scale.tolist()), t.term.mirror, t.term.description)
            for t in self.terms
        )
        return ObservationLayout(terms=terms, sizes=tuple(t.size for t in self.terms), scale=_frame_scale(self.terms))

    def ground_truth_terms(self) -> list[str]:
        """The terms only a simulator can provide."""
        return [t.name for t in self.terms if t.name in GROUND_TRUTH_TERMS]

    @classmethod
    def parse(
        cls, entries: Sequence[Mapping[str, Any]], layout: Mapping[str, Any] | None, num_joints: int
    ) -> ObservationSpec:
        """From the contract's ``observation_terms`` and optional ``observation`` (metadata)."""
        terms = []
        for entry in entries:
            name = entry.get("name")
            if name not in KNOWN_TERMS:
                raise ObservationSpecError(
                    f"observation term {name!r} is not one memaug can measure; known: {sorted(KNOWN_TERMS)}"
                )
            known = KNOWN_TERMS[name]
            size = int(entry["size"])
            expected = known.size or num_joints
            if size != expected:
                raise ObservationSpecError(f"observation term {name} has size {size}; on this robot it is {expected}")
            scale = np.asarray(entry["scale"], dtype=np.float64)
            if scale.shape != (size,):
                raise ObservationSpecError(f"observation term {name} has {scale.size} scales for size {size}")
            clip = entry.get("clip")
            if clip is not None:
                low, high = float(clip[0]), float(clip[1])
                if not low < high:
                    raise ObservationSpecError(f"observation term {name}: clip low {low} not below high {high}")
                clip = (low, high)
            history = int(entry.get("history", 1))
            if history < 1:
                raise ObservationSpecError(f"observation term {name}: history {history} must be at least 1")
            scale.setflags(write=False)
            terms.append(TermSpec(known, size, scale, clip, history))
        options = dict(layout or {})
        order = options.pop("order", "term_major")
        fill = options.pop("fill", "first")
        newest_first = bool(options.pop("newest_first", False))
        clip_all = options.pop("clip", None)
        if options:
            raise ObservationSpecError(f"observation layout has unknown keys {sorted(options)}")
        if order not in ("term_major", "time_major"):
            raise ObservationSpecError(f"observation history order {order!r} is not term_major or time_major")
        if fill not in ("first", "zeros"):
            raise ObservationSpecError(f"observation history fill {fill!r} is not first or zeros")
        if order == "time_major" and len({t.history for t in terms}) > 1:
            raise ObservationSpecError("a time-major history needs the same history length for every term")
        if clip_all is not None and not float(clip_all) > 0:
            raise ObservationSpecError(f"observation clip {clip_all} must be positive")
        return cls(tuple(terms), order, newest_first, fill, None if clip_all is None else float(clip_all))

    def describe(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """(observation_terms, observation) for the metadata; observation is None when it
        would only restate the defaults."""
        entries: list[dict[str, Any]] = []
        for t in self.terms:
            entry: dict[str, Any] = {"name": t.name, "size": t.size, "scale": t.scale.tolist()}
            if t.clip is not None:
                entry["clip"] = list(t.clip)
            if t.history != 1:
                entry["history"] = t.history
            entries.append(entry)
        options = {"order": self.order, "newest_first": self.newest_first, "fill": self.fill, "clip": self.clip}
        default = {"order": "term_major", "newest_first": False, "fill": "first", "clip": None}
        return entries, (None if options == default else options)


def _frame_scale(terms: Sequence[TermSpec]) -> np.ndarray:
    scale = np.concatenate([t.scale for t in terms]) if terms else np.zeros(0)
    scale.setflags(write=False)
    return scale


class ObservationBuilder:
    """Builds the network's input tick by tick, holding each term's history between ticks."""

    def __init__(self, spec: ObservationSpec) -> None:
        self.spec = spec
        self._scale = _frame_scale(spec.terms)
        self._clipped = [t for t in spec.terms if t.clip is not None]
        self._history: list[deque[np.ndarray]] = [deque(maxlen=t.history) for t in spec.terms]

    def reset(self) -> None:
        """Forget the history: the next frame fills it as the spec says."""
        for frames in self._history:
            frames.clear()

    def build(self, raw: Mapping[str, np.ndarray]) -> np.ndarray:
        """Unscaled term values (each [size], policy joint order) -> the network input [dim] float32."""
        parts = [np.asarray(raw[t.name], dtype=np.float64) for t in self.spec.terms]
        for i, t in enumerate(self.spec.terms):
            if t.clip is not None:
                parts[i] = np.clip(parts[i], t.clip[0], t.clip[1])
        frame = np.concatenate(parts) * self._scale
        if self.spec.has_history:
            frame = self._with_history(frame)
        if self.spec.clip is not None:
            frame = np.clip(frame, -self.spec.clip, self.spec.clip)
        return frame.astype(np.float32)

    def _with_history(self, frame: np.ndarray) -> np.ndarray:
        start, per_term = 0, []
        for t, frames in zip(self.spec.terms, self._history, strict=True):
            value = frame[start : start + t.size]
            start += t.size
            if not frames:
                seed = value if self.spec.fill == "first" else np.zeros_like(value)
                frames.extend([seed] * (t.history - 1))
            frames.append(value)
            ordered = list(frames)  # oldest first
            per_term.append(ordered[::-1] if self.spec.newest_first else ordered)
        if self.spec.order == "term_major":
            return np.concatenate([np.concatenate(frames) for frames in per_term])
        steps = len(per_term[0])
        return np.concatenate([np.concatenate([frames[k] for frames in per_term]) for k in range(steps)])
