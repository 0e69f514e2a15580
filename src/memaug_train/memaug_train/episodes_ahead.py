"""Episodes drawn ahead: each robot's next episode waits on the training device, and starts there.

With ``EnvConfig.episodes = "host"`` (the CPU path) a robot's new episode is drawn on the host
when its last one ends, so each control step brings back which robots' episodes ended. With
``"ahead"`` (what MuJoCo Warp on a GPU trains with) the host draws every robot's *next* episode
between rollouts (``VecGo2Env.draw_ahead``), by the same code as the host path
(``VecGo2Env._draw_starts``): its start state, commands, push schedule, fault and model. The
device keeps it here and starts it the step the robot's episode ends; the fault starts at its
step, the pushes and command changes come at theirs, all by masked copies over every robot. So
no array leaves the device inside a rollout, and the step issues the same operations for 8
robots as for 4096. Between rollouts one [N] bool comes back (whose drawn episode began) and
the curriculum's two counts.

What an episode needs beyond its start is drawn with it: ``command_slots`` commands (one per
resampling period) and up to ``push_slots`` kicks. A robot whose episode ends twice within one
rollout (a fall in its first few steps) starts the same drawn episode again; ``repeats``
counts those (a rollout of 24 steps against episodes of hundreds: rare).

Shapes: N robots, J joints, S full-physics state size, C command slots, M push slots.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from memaug_train.task_arrays import TaskArrays

#: "host": each episode drawn on the host as it begins; "ahead": drawn between rollouts and
#: started on the device (this module).
EPISODE_MODES = ("host", "ahead")
#: The parts of an episode that are control steps (int64); the others are float64.
STEP_PARTS = ("push_steps", "fault_step")
#: The step of a kick slot no kick fills, or of a fault an episode lacks: one no episode reaches.
NEVER = np.iinfo(np.int64).max


def command_slots(episode_steps: int, resample_steps: int) -> int:
    """How many commands one episode meets: its first, then one each ``resample_steps``."""
    return (episode_steps - 1) // resample_steps + 1


def push_slots(episode_steps: int, shortest_interval_steps: int) -> int:
    """How many kicks can fit in one episode when they come at least ``shortest_interval_steps`` apart."""
    return math.ceil(episode_steps / max(shortest_interval_steps, 1))


def push_steps(first: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """[K, M] control steps of each episode's kicks: the first at ``first`` [K], each next one
    ``intervals`` [K, M - 1] after the last (the host path's clock: a kick at step s comes
    before that step's physics)."""
    return np.cumsum(np.concatenate([first[:, None], intervals], axis=1), axis=1)


def rows_mask(where: Any, ndim: int) -> Any:
    """``where`` [N] shaped [N, 1, ...] to select whole rows of an array of ``ndim`` dimensions."""
    return where.reshape((-1,) + (1,) * (ndim - 1))


class EpisodesAhead:
    """Each robot's drawn next episode (``next``) and what its running episode still needs from
    its own draw (``live``: commands, kicks, fault), with the per-robot parameters the step reads
    (``rows``: gains, strength, offsets, latencies, ...), all where the task's arrays are.

    ``next_rows`` are the mirrors that ``HostRows.publish`` writes the next episodes' per-robot
    parameters into."""

    def __init__(
        self,
        arrays: TaskArrays,
        num_envs: int,
        state_size: int,
        num_joints: int,
        commands: int,
        pushes: int,
        next_rows: dict[str, Any],
    ) -> None:
        n, j, zeros = num_envs, num_joints, arrays.zeros
        self._arrays = arrays
        #: The parts of an episode the step reads while it runs, by name, each [N, ...]
        self.live = {
            "commands": zeros((n, commands, 3)),
            "push_steps": arrays.asarray(np.full((n, pushes), NEVER), np.int64),
            "push_kicks": zeros((n, pushes, 2)),
            "fault_step": arrays.asarray(np.full(n, NEVER), np.int64),
            "fault_torque_factor": zeros((n, j)),
            "fault_locked": zeros((n, j)),
        }
        #: The next episode of each robot: the same parts, and its start state and joint targets
        self.next = {name: arrays.xp.zeros_like(values) for name, values in self.live.items()}
        self.next |= {"state": zeros((n, state_size)), "targets": zeros((n, j))}
        self.next_rows = next_rows
        #: The per-robot parameters of the running episodes (what HostRows.device is on the host path)
        self.rows = {name: arrays.xp.asarray(values, copy=True) for name, values in next_rows.items()}
        self.fault_active = zeros(n, bool)  # [N]
        #: [N] robots whose drawn next episode has begun since draw_ahead last drew
        self.consumed = zeros(n, bool)
        self.repeats = zeros(())  # episodes started a second time from one draw
        self.survived = zeros(())  # episodes that reached their time limit, since the last draw
        self.fell_healthy = zeros(())  # episodes that ended in a fall with no fault active

    def begin(self, starting: Any) -> None:
        """Robots ``starting`` [N] bool start their drawn next episode: its schedule, fault and
        parameters become theirs (the env swaps in state, targets, command and model fields)."""
        xp = self._arrays.xp
        for name, live in self.live.items():
            live[...] = xp.where(rows_mask(starting, live.ndim), self.next[name], live)
        for name, values in self.rows.items():
            values[...] = xp.where(rows_mask(starting, values.ndim), self.next_rows[name], values)
        self.fault_active[...] = self.fault_active & ~starting
        self.repeats += xp.sum(xp.astype(starting & self.consumed, xp.float64))
        self.consumed[...] = self.consumed | starting

    def start_faults(self, due: Any) -> None:
        """Robots ``due`` [N] bool begin their episode's fault: its torque factors and locks."""
        xp = self._arrays.xp
        column = due[:, None]
        self.rows["torque_factor"][...] = xp.where(column, self.live["fault_torque_factor"], self.rows["torque_factor"])
        self.rows["locked"][...] = xp.where(column, self.live["fault_locked"], self.rows["locked"])
        self.fault_active[...] = self.fault_active | due

    def kicks(self, steps: Any) -> Any:
        """[N, 2] m/s: each robot's kick at its episode's step ``steps`` [N] (zero for most)."""
        xp = self._arrays.xp
        due = steps[:, None] == self.live["push_steps"]  # [N, M]
        return xp.sum(xp.where(due[:, :, None], self.live["push_kicks"], 0.0), axis=1)

    def count_ends(self, truncated: Any, terminated: Any) -> None:
        """Add a step's time-outs and healthy falls (``truncated``, ``terminated`` [N] bool) to
        the rough-ground curriculum's counts."""
        xp = self._arrays.xp
        self.survived += xp.sum(xp.astype(truncated, xp.float64))
        self.fell_healthy += xp.sum(xp.astype(terminated & ~self.fault_active, xp.float64))

    def take_repeats(self) -> int:
        """How many episodes began a second time from one draw since the last call (cleared)."""
        repeats = int(self._arrays.to_host(self.repeats))
        self.repeats[...] = 0.0
        return repeats

    def take_counts(self) -> tuple[int, int]:
        """The curriculum's counts since the last call (time-outs, healthy falls), cleared."""
        counts = tuple(int(self._arrays.to_host(c)) for c in (self.survived, self.fell_healthy))
        self.survived[...] = 0.0
        self.fell_healthy[...] = 0.0
        return counts  # type: ignore[return-value]

    def put_next(self, rows: np.ndarray, **values: np.ndarray) -> None:
        """Robots ``rows`` [K] (host indices) get next episodes' parts ``values`` [K, ...] by name."""
        for name, rows_values in values.items():
            target = self.next[name]
            dtype = np.int64 if name in STEP_PARTS else np.float64
            target[rows] = self._arrays.asarray(rows_values, dtype)
