"""Episodes drawn ahead (memaug_train.episodes_ahead): what the device does with a drawn episode
when it begins, when its kicks and fault come, and what it counts for the host between rollouts.
The same code runs over NumPy and torch arrays; these tests use both."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_train.episodes_ahead import NEVER, EpisodesAhead, command_slots, push_slots, push_steps
from memaug_train.task_arrays import TaskArrays

N, S, J = 4, 5, 3


def make(library: str) -> tuple[EpisodesAhead, TaskArrays]:
    arrays = TaskArrays(library, "cpu")
    next_rows = {
        "torque_factor": arrays.zeros((N, J)) + 1.0,
        "locked": arrays.zeros((N, J)),
        "kp": arrays.zeros((N, J)),
    }
    return EpisodesAhead(arrays, N, S, J, commands=2, pushes=3, next_rows=next_rows), arrays


def test_an_episode_needs_one_command_per_resampling_period_and_room_for_its_kicks() -> None:
    assert command_slots(1000, 500) == 2
    assert command_slots(1001, 500) == 3
    assert command_slots(30, 500) == 1
    assert push_slots(1000, 250) == 4
    assert push_slots(1000, 0) == 1000  # a zero interval still advances a step
    np.testing.assert_array_equal(push_steps(np.array([5, 7]), np.array([[3, 4], [1, 1]])), [[5, 8, 12], [7, 8, 9]])


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_a_robot_takes_its_drawn_episode_when_it_begins_and_no_other_robot_does(library: str) -> None:
    ahead, arrays = make(library)
    rows = np.array([1, 3])
    ahead.put_next(
        rows,
        commands=np.array([[[0.5, 0, 0], [0, 0.2, 0]], [[0.1, 0, 0], [0, 0, 1.0]]]),
        push_steps=np.array([[10, 20, NEVER], [15, NEVER, NEVER]]),
        push_kicks=np.ones((2, 3, 2)),
        fault_step=np.array([12, NEVER]),
        fault_torque_factor=np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),
        fault_locked=np.zeros((2, J)),
    )
    ahead.next_rows["kp"][rows] = arrays.asarray(np.full((2, J), 40.0))
    starting = arrays.asarray(np.array([False, True, False, True]), bool)
    ahead.begin(starting)
    host = arrays.to_host
    np.testing.assert_array_equal(host(ahead.live["fault_step"]), [NEVER, 12, NEVER, NEVER])
    np.testing.assert_array_equal(host(ahead.rows["kp"])[:, 0], [0.0, 40.0, 0.0, 40.0])
    np.testing.assert_array_equal(host(ahead.live["commands"])[3, 1], [0, 0, 1.0])
    np.testing.assert_array_equal(host(ahead.consumed), [False, True, False, True])
    # Kicks come at their scheduled step only; the robots without one get none.
    steps = arrays.asarray(np.array([10, 10, 15, 15]), np.int64)
    np.testing.assert_array_equal(host(ahead.kicks(steps)), [[0, 0], [1, 1], [0, 0], [1, 1]])
    np.testing.assert_array_equal(host(ahead.kicks(steps + 1)), np.zeros((N, 2)))
    # A fault starts with its torque factors; a robot beginning again starts healthy.
    due = arrays.asarray(np.array([False, True, False, False]), bool)
    ahead.start_faults(due)
    np.testing.assert_array_equal(host(ahead.rows["torque_factor"])[1], [1.0, 0.0, 1.0])
    assert host(ahead.fault_active).tolist() == [False, True, False, False]
    ahead.begin(due)
    assert host(ahead.fault_active).tolist() == [False, False, False, False]
    np.testing.assert_array_equal(host(ahead.rows["torque_factor"])[1], np.ones(J))
    assert float(host(ahead.repeats)) == 1.0  # robot 1 began twice from one draw


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_the_curriculum_counts_time_outs_and_the_falls_of_healthy_robots_only(library: str) -> None:
    ahead, arrays = make(library)
    ahead.fault_active[...] = arrays.asarray(np.array([True, False, False, False]), bool)
    as_bool = lambda values: arrays.asarray(np.array(values), bool)  # noqa: E731
    ahead.count_ends(as_bool([False, False, True, False]), as_bool([True, True, False, False]))
    ahead.count_ends(as_bool([False, False, False, True]), as_bool([False, False, False, False]))
    assert ahead.take_counts() == (2, 1)  # robot 0's fall had a fault active
    assert ahead.take_counts() == (0, 0)


def test_episodes_are_drawn_ahead_only_where_the_worlds_models_live_on_the_device() -> None:
    from memaug_train.env import EnvConfig

    with pytest.raises(ValueError, match="needs the warp backend"):
        EnvConfig(episodes="ahead")
    with pytest.raises(ValueError, match="episodes must be one of"):
        EnvConfig(episodes="later")
