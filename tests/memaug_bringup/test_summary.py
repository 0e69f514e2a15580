"""The run summary's measures, on hand-made signals (no bag, no ROS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memaug_bringup.bag_reader import RunData
from memaug_bringup.summary import run_faults, summarize, windowed_tracking_error

T = np.arange(0.0, 10.0, 0.01)  # 100 Hz, 10 s
COMMAND = np.tile([0.5, 0.0, 0.0], (len(T), 1))


def test_a_gait_ripple_around_the_command_averages_out() -> None:
    """A trot's forward velocity swings within each step; over whole windows it follows the command."""
    velocity = np.zeros((len(T), 3))
    velocity[:, 0] = 0.5 + 0.2 * np.sin(2 * np.pi * 3.0 * T)  # 3 Hz ripple, 3 cycles per window
    velocity[:, 1] = 0.1 * np.sin(2 * np.pi * 3.0 * T)  # lateral sway, once per stride
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) < 0.01
    instantaneous = np.mean(np.linalg.norm(COMMAND[:, :2] - velocity[:, :2], axis=1))
    assert instantaneous > 0.1  # what the instantaneous measure would call an error


def test_a_slow_robot_shows_its_speed_deficit() -> None:
    velocity = np.tile([0.3, 0.0, 0.0], (len(T), 1))
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) == pytest.approx(0.2)


def test_lateral_error_counts_and_too_short_runs_are_nan() -> None:
    velocity = np.tile([0.5, 0.1, 0.0], (len(T), 1))
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) == pytest.approx(0.1)
    assert np.isnan(windowed_tracking_error(T[:50], COMMAND[:50], velocity[:50], 1.0))


def _outcome(bridge_faults: list[dict], policy_stops: list[dict]) -> dict:
    return {"bridge_faults": bridge_faults, "policy_stops": policy_stops, "falls": 1}


def test_a_run_with_no_fault_is_healthy_even_if_it_fell() -> None:
    """A fall under a fault scenario can be the experiment's result: the summary counts it."""
    assert run_faults(_outcome([], [])) == []


def test_a_policy_that_stopped_on_its_own_makes_the_run_unhealthy() -> None:
    """The policy starved of state for 0.19 s went to damp and the robot fell, with no bridge
    fault: once such a run exited 0."""
    stop = {"t": 8.2, "reason": "stale /joint_states: 0.188 s old (limit 0.1 s)"}
    assert run_faults(_outcome([], [stop])) == [
        "the policy stopped at 8.20 s: stale /joint_states: 0.188 s old (limit 0.1 s)"
    ]


def test_the_policys_answer_to_a_bridge_fault_is_not_a_second_fault() -> None:
    fault = {"t": 4.4, "reason": "joint FR_calf_joint outside its range"}
    answer = {"t": 4.41, "reason": "bridge fault: joint FR_calf_joint outside its range"}
    assert run_faults(_outcome([fault], [answer])) == [
        "the bridge faulted at 4.40 s: joint FR_calf_joint outside its range"
    ]


def test_the_policys_answer_to_the_bridge_being_disarmed_is_not_a_fault() -> None:
    """An operator deactivating the bridge (or Ctrl-C) is not a fault of the run; the stop is still listed."""
    answer = {"t": 30.0, "reason": "bridge disarmed: deactivated"}
    assert run_faults(_outcome([], [answer])) == []


def _states_until(last_s: float, stops: list[tuple[float, str]]) -> RunData:
    """A run whose /joint_states (500 Hz) end at ``last_s``, with these policy stops."""
    t = np.arange(0.0, last_s, 0.002)
    return RunData(bag=Path("run"), counts={}, joint_t=t, policy_stops=stops)


def test_a_stale_state_stop_once_the_states_ended_is_the_end_of_the_run_not_a_fault() -> None:
    """A realtime sim or an emulator ends: 0.1 s later the policy finds its state stale."""
    ended = summarize(_states_until(5.0, [(5.1, "stale /joint_states: 0.102 s old (limit 0.1 s)")]))
    assert run_faults(ended) == []
    assert [stop["t"] for stop in ended["policy_stops_after_data_ended"]] == [5.1]  # still shown
    starved = summarize(_states_until(60.0, [(8.2, "stale /joint_states: 0.188 s old (limit 0.1 s)")]))
    assert run_faults(starved) == ["the policy stopped at 8.20 s: stale /joint_states: 0.188 s old (limit 0.1 s)"]
