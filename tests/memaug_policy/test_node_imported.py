"""An imported policy through the real policy node and sim bridge (separate processes, DDS on
loopback): a legged_gym MLP without memory that observes the base linear velocity runs on the
sim's ground-truth /odom, at its own gains (the robot description the importer wrote, read
by both nodes), and publishes no /policy/memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sensor_msgs.msg import JointState
from std_msgs.msg import Float32MultiArray, String

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM
from memaug_policy.importers import import_policy


def test_a_sim_only_policy_without_memory_runs_on_odom(ros, start_node, tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = tmp_path / "policy_1.pt"
    actor = torch.nn.Sequential(torch.nn.Linear(48, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))
    with torch.no_grad():
        actor[2].weight.mul_(0.01)  # a small gait-less policy: it must stand, not walk
    torch.jit.script(actor).save(str(network))
    written = import_policy(network, "legged_gym", load_robot_description("go2"), tmp_path / "lg.onnx")
    assert written.description is not None
    robot = str(written.description)

    modes = ros.subscribe(String, "policy/mode", LATCHED)
    actions = ros.subscribe(Float32MultiArray, "policy/action", STREAM)
    memory = ros.subscribe(Float32MultiArray, "policy/memory", STREAM)
    observations = ros.subscribe(Float32MultiArray, "policy/observation", STREAM)
    commands = ros.subscribe(JointState, "joint_commands", STREAM)
    common = ("-p", f"robot:={robot}", "-p", "diagnostics_period_s:=0.2")
    start_node("memaug_sim_node", "--ros-args", "-p", "mode:=lockstep", "-p", "lockstep_gate:=true", *common)
    start_node(
        "memaug_policy_node",
        "--ros-args",
        "-p",
        "use_sim_time:=true",
        "-p",
        f"model:={written.model}",
        "-p",
        "autostart:=true",
        "-p",
        "stand_duration_s:=0.5",
        "-p",
        "stand_hold_s:=0.5",
        *common,
    )
    ros.wait_for(lambda: len(actions) > 50, 60.0, "50 policy ticks of the imported policy")
    assert modes[-1].data == "run"
    assert not memory, "a policy without memory publishes no /policy/memory"
    obs = np.array(observations[-1].data)
    assert obs.shape == (48,) and np.any(obs[:3] != 0.0)  # base linear velocity x2 from /odom
    assert all(np.all(np.isfinite(c.position)) for c in commands)
