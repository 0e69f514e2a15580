"""What each stack runs: one description for `memaug` and the launch files (ROS-free)."""

from __future__ import annotations

from pathlib import Path

from memaug_bringup.stacks import RobotOptions, SimOptions, robot_stack, sim_stack


def _by_name(stack):
    return {node.name: node for node in stack.nodes}


def test_the_sim_stack_publishes_tf_from_ground_truth_in_sim_time() -> None:
    nodes = _by_name(sim_stack(SimOptions(record=Path("bag"))))
    assert set(nodes) == {"memaug_recorder", "memaug_sim", "memaug_policy", "memaug_state_publisher"}
    frames = nodes["memaug_state_publisher"].parameters
    assert frames["base_pose"] == "odom" and frames["use_sim_time"] is True
    # The sim waits for every /joint_states reader: the policy, the TF publisher, the recorder.
    assert nodes["memaug_sim"].parameters["wait_for_subscribers"] == 3
    assert _by_name(sim_stack(SimOptions()))["memaug_sim"].parameters["wait_for_subscribers"] == 2


def test_a_real_go2_gets_its_base_from_the_imu_and_the_emulator_from_its_odometry() -> None:
    real = _by_name(robot_stack(RobotOptions()))
    assert "memaug_go2_emulator" not in real
    assert real["memaug_state_publisher"].parameters["base_pose"] == "imu"
    rehearsal = _by_name(robot_stack(RobotOptions(emulator=True)))
    assert "--odom" in (rehearsal["memaug_go2_emulator"].plain_args or ())
    assert rehearsal["memaug_state_publisher"].parameters["base_pose"] == "odom"
