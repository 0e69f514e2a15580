"""memaug_sim_demo: start the sim bridge as its own process, stand the Go2 up, report.

The main job until the policy node and the ``memaug`` command exist: the bridge starts
passive (the robot settles under damping), then this demo sends the default pose at the
control rate and prints what it saw on the topic contract.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from sensor_msgs.msg import Imu, JointState

from memaug_common.arguments import ArgumentParser
from memaug_common.description import load_robot_description
from memaug_common.ros_qos import STREAM
from memaug_common.testing import NodeProcess, local_dds_env, wait_until


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--robot", default="go2", help="robot description name or YAML path")
    parser.add_argument("--passive-s", type=float, default=1.0, help="seconds left passive first")
    parser.add_argument("--stand-s", type=float, default=4.0, help="seconds commanding the default pose")
    args = parser.parse_args(argv)

    description = load_robot_description(args.robot)
    domain = int(os.environ.get("ROS_DOMAIN_ID", "0"))
    log = Path(tempfile.mkdtemp(prefix="memaug-demo-")) / "memaug_sim_node.log"
    bridge = NodeProcess(
        ["memaug_sim_node", "--ros-args", "-p", f"robot:={args.robot}", "-p", "mode:=realtime"],
        local_dds_env(domain),
        log,
    )
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node("memaug_sim_demo", context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    states: list[JointState] = []
    odoms: list[Odometry] = []
    imus: list[Imu] = []
    modes: list[str] = []
    node.create_subscription(JointState, "joint_states", states.append, STREAM)
    node.create_subscription(Odometry, "odom", odoms.append, STREAM)
    node.create_subscription(Imu, "imu/data", imus.append, STREAM)

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == "memaug_sim: bridge":
                modes.append(status.message)

    node.create_subscription(DiagnosticArray, "diagnostics", on_diagnostics, 10)
    commands = node.create_publisher(JointState, "joint_commands", STREAM)

    def spin_for(seconds: float, command: JointState | None = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if command is not None:
                commands.publish(command)
            executor.spin_once(timeout_sec=description.control_period_s)

    try:
        wait_until(
            lambda: states and odoms,
            30.0,
            "/joint_states and /odom from memaug_sim_node",
            poll=lambda: executor.spin_once(timeout_sec=0.05),
        )
        print(f"memaug_sim_node up (pid {bridge.pid}); passive for {args.passive_s:.1f} s")
        spin_for(args.passive_s)
        settled = odoms[-1].pose.pose.position.z
        stand = JointState(name=list(description.joint_names), position=description.default_pose.tolist())
        print(f"commanding the default pose for {args.stand_s:.1f} s at {1 / description.control_period_s:.0f} Hz")
        states.clear()
        spin_for(args.stand_s, stand)
        q = np.array(states[-1].position)
        acc = imus[-1].linear_acceleration
        print("\nwhat the bridge published:")
        print(
            f"  /joint_states      {len(states) / args.stand_s:6.1f} Hz, joints {', '.join(states[-1].name[:3])}, ..."
        )
        print(
            f"  base height        {settled:.3f} m passive -> {odoms[-1].pose.pose.position.z:.3f} m standing "
            f"(nominal {description.nominal_base_height_m:.2f} m)"
        )
        print(f"  pose error         max |q - q_default| = {np.abs(q - description.default_pose).max():.3f} rad")
        print(f"  /imu/data accel    ({acc.x:+.2f}, {acc.y:+.2f}, {acc.z:+.2f}) m/s^2")
        print(f"  bridge modes seen  {sorted(set(modes))}")
    except TimeoutError as exc:
        print(f"memaug_sim_demo: {exc}\nbridge log:\n{bridge.output()[-2000:]}", file=sys.stderr)
        return 1
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
        code = bridge.stop()
    print(f"memaug_sim_node exited with {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
