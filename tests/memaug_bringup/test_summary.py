"""The run summary's measures and the report's sections, on hand-made signals (no bag, no ROS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memaug_bringup.bag_reader import RunData
from memaug_bringup.report import render_report
from memaug_bringup.summary import format_summary, run_faults, summarize, windowed_tracking_error

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


def _run(observation_width: int) -> RunData:
    """A 10 s run at 0.4 m/s whose policy steps at 50 Hz with an observation of any layout."""
    steps = T[::2]
    data = RunData(bag=Path("run"), counts={})
    data.odom_t, data.odom_velocity = T, np.tile([0.4, 0.0, 0.0], (len(T), 1))
    data.odom_position = np.column_stack([0.4 * T, np.zeros(len(T)), np.full(len(T), 0.3)])
    data.odom_quat_wxyz, data.odom_yaw_rate = np.tile([1.0, 0.0, 0.0, 0.0], (len(T), 1)), np.zeros(len(T))
    data.obs_t, data.observation = steps, np.full((len(steps), observation_width), 7.0)
    data.modes = [(0.0, "run")]
    return data


def test_the_commanded_velocity_comes_from_policy_command_whatever_the_observation() -> None:
    """An imported policy's observation (here 48 values, a legged_gym layout) says nothing about
    where its command sits; the run's /policy/command does."""
    data = _run(48)
    assert np.isnan(summarize(data)["mean_commanded_speed_mps"])  # a bag from before /policy/command
    data.command_t, data.command = data.obs_t, np.tile([0.5, 0.1, -0.2], (len(data.obs_t), 1))
    summary = summarize(data)
    assert summary["mean_commanded_speed_mps"] == pytest.approx(0.5)
    assert summary["mean_commanded_lateral_speed_mps"] == pytest.approx(0.1)
    assert summary["mean_commanded_yaw_rate_radps"] == pytest.approx(-0.2)
    assert summary["velocity_tracking_error_1s_mps"] == pytest.approx(np.hypot(0.1, 0.1))


def test_a_run_without_odometry_reports_its_walk_as_not_measured() -> None:
    """On a robot or Unitree's simulator nothing publishes /odom: the distance and the falls are
    unknown, never 0 m and 0 falls, and the summary still says what was commanded."""
    data = RunData(bag=Path("run"), counts={}, joint_t=T)
    data.command_t, data.command = T[::2], np.tile([0.5, 0.0, 0.1], (len(T[::2]), 1))
    data.modes = [(0.0, "run")]
    summary = summarize(data)
    assert summary["odometry"] is False and summary["distance_m"] is None and summary["falls"] is None
    assert summary["mean_commanded_speed_mps"] == pytest.approx(0.5)
    text = format_summary(summary)
    assert "not measured: no /odom" in text and "0.500 m/s forward" in text and "0.100 rad/s yaw" in text
    assert "distance walked" not in text and "falls" not in text
    assert "distance walked        4.00 m" in format_summary(summarize(_run(45)))


def test_a_report_without_odometry_says_the_base_was_not_measured(tmp_path: Path) -> None:
    data = RunData(bag=Path("run"), counts={}, joint_t=T)
    page = render_report(data, tmp_path / "robot").read_text()
    assert "Not measured: no /odom" in page and not (tmp_path / "robot" / "base.png").exists()
    page = render_report(_run(45), tmp_path / "sim").read_text()
    assert "Not measured" not in page and (tmp_path / "sim" / "base.png").stat().st_size > 1000


def test_a_report_has_a_memory_section_only_where_the_policy_has_memory(tmp_path: Path) -> None:
    data = _run(48)
    page = render_report(data, tmp_path / "without").read_text()
    assert "Memory" not in page and not (tmp_path / "without" / "memory_pca.png").exists()
    data.memory_t, data.memory = data.obs_t, np.random.default_rng(0).normal(size=(len(data.obs_t), 8))
    page = render_report(data, tmp_path / "with").read_text()
    assert "<h2>Memory</h2>" in page and (tmp_path / "with" / "memory_pca.png").stat().st_size > 1000
