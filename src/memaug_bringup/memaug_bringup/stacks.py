"""Each stack described once: which nodes, with which parameters. ROS-free.

The ``memaug`` command (separate processes, no ROS 2 install needed) and the ROS 2 launch
files in launch/ both build their nodes from these descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from memaug_common.graph import graph_environment


@dataclass(frozen=True)
class NodeSpec:
    name: str  # also the node's ROS name
    package: str
    executable: str
    parameters: dict[str, Any] = field(default_factory=dict)
    #: When this node exits on its own with status 0, the run is complete (the sim's duration).
    ends_run: bool = False
    #: For a program that is not a ROS node (the Go2 emulator): its command-line arguments.
    plain_args: tuple[str, ...] | None = None

    def ros_args(self) -> list[str]:
        """``--ros-args -p name:=value ...`` for running it as a plain process."""
        if self.plain_args is not None:
            return list(self.plain_args)
        args = ["--ros-args"]
        for key, value in self.parameters.items():
            args += ["-p", f"{key}:={_literal(value)}"]
        return args


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Stack:
    name: str
    nodes: tuple[NodeSpec, ...]
    #: Environment every node gets, whatever the caller's (memaug_common.graph: who may reach
    #: the run's ROS graph); the `memaug` command and the launch files both apply it.
    environment: dict[str, str] = field(default_factory=lambda: graph_environment(False))


@dataclass(frozen=True)
class SimOptions:
    robot: str = "go2"
    model: str = "go2_memaug.onnx"
    mode: Literal["lockstep", "realtime"] = "lockstep"
    scenario: str = "none"
    duration_s: float = 20.0
    cmd_vel: tuple[float, float, float] = (0.5, 0.0, 0.0)
    record: Path | None = None
    viewer: bool = False
    seed: int = 0


def recorder_node(folder: Path, sim_time: bool = False) -> NodeSpec:
    """The recorder; with ``sim_time`` (lockstep) its log times are /clock's, the bag's one clock."""
    params = {"output": str(folder), "log_clock": "sim" if sim_time else "system"}
    return NodeSpec("memaug_recorder", "memaug_bringup", "memaug_recorder", params)


def state_publisher_node(
    robot: str, base_pose: Literal["odom", "imu"], sim_time: bool = False, recorded: bool = False
) -> NodeSpec:
    """/tf and /tf_static of the robot (robot_state_publisher's job, from the robot description);
    ``recorded``: it waits for the recorder's /tf subscription before it takes the robot's state."""
    params = {"robot": robot, "base_pose": base_pose, "use_sim_time": sim_time, "wait_for_subscribers": int(recorded)}
    return NodeSpec("memaug_state_publisher", "memaug_bringup", "memaug_state_publisher", params)


def sim_stack(options: SimOptions) -> Stack:
    """Sim bridge + policy + TF publisher (+ recorder): sim-in-the-loop through the real topics."""
    lockstep = options.mode == "lockstep"
    sim = NodeSpec(
        "memaug_sim",
        "memaug_sim",
        "memaug_sim_node",
        {
            "robot": options.robot,
            "mode": options.mode,
            "lockstep_gate": lockstep,
            "scenario": options.scenario,
            "duration_s": float(options.duration_s),
            "viewer": options.viewer,
            "seed": options.seed,
            # The policy, the state publisher and the recorder when there is one must hear the
            # run from its start.
            "wait_for_subscribers": 2 if options.record is None else 3,
        },
        ends_run=True,
    )
    vx, vy, wz = options.cmd_vel
    policy = NodeSpec(
        "memaug_policy",
        "memaug_policy",
        "memaug_policy_node",
        {
            "robot": options.robot,
            "model": options.model,
            "use_sim_time": lockstep,
            "autostart": True,
            "command_vx": float(vx),
            "command_vy": float(vy),
            "command_yaw_rate": float(wz),
            "wait_for_subscribers": 1 if options.record is None else 2,
        },
    )
    frames = state_publisher_node(options.robot, "odom", lockstep, recorded=options.record is not None)
    recorder = () if options.record is None else (recorder_node(options.record, lockstep),)
    return Stack("sim", (*recorder, sim, policy, frames))


@dataclass(frozen=True)
class RobotOptions:
    robot: str = "go2"
    model: str = "go2_memaug.onnx"
    cmd_vel: tuple[float, float, float] = (0.5, 0.0, 0.0)
    record: Path | None = None
    #: Run against memaug_go2_emulator (on loopback), which this stack starts.
    emulator: bool = False
    emulator_scenario: str = "none"
    emulator_duration_s: float = 20.0
    emulator_priority: int = 0  # SCHED_FIFO of the emulator process; 0: normal
    policy_priority: int = 0  # SCHED_FIFO of the policy node's process; 0: normal
    #: The bridge's parameters from the target profile and the user's overrides
    #: (memaug_hardware.targets.Target.bridge_parameters): interface, DDS domain, CRC and
    #: motion-switcher policies, any other declared parameter.
    bridge: dict[str, Any] = field(default_factory=dict)
    #: Arm the bridge without a second step. With a real robot only when it stands clear.
    #: Disarmed, the bridge still configures (and the run fails if it cannot) and stays damped.
    arm: bool = False
    #: Let other machines reach the run's ROS graph (memaug_common.graph); off: this machine only.
    open_graph: bool = False
    peers: str = ""


def robot_stack(options: RobotOptions) -> Stack:
    """Go2 bridge + policy + TF publisher (+ recorder), against the robot, a simulator or the emulator."""
    bridge = {"network_interface": "lo", "dds_domain_id": 0, **options.bridge}
    nodes: list[NodeSpec] = []
    if options.record is not None:
        nodes.append(recorder_node(options.record))
    if options.emulator:
        nodes.append(
            NodeSpec(
                "memaug_go2_emulator",
                "memaug_hardware",
                "memaug_go2_emulator",
                ends_run=True,
                plain_args=(
                    "--robot",
                    options.robot,
                    "--domain-id",
                    str(bridge["dds_domain_id"]),
                    "--interface",
                    str(bridge["network_interface"]),
                    "--scenario",
                    options.emulator_scenario,
                    "--duration",
                    str(float(options.emulator_duration_s)),
                    # The run is --duration long from the bridge's first command on, however
                    # long the bridge took to start on a loaded machine.
                    "--duration-from-command",
                    "--priority",
                    str(options.emulator_priority),
                    "--odom",
                ),
            )
        )
    nodes.append(
        NodeSpec(
            "memaug_go2_bridge",
            "memaug_hardware",
            "memaug_go2_bridge",
            {"robot": options.robot, **bridge, "auto_configure": True, "auto_activate": options.arm},
        )
    )
    vx, vy, wz = options.cmd_vel
    nodes.append(
        NodeSpec(
            "memaug_policy",
            "memaug_policy",
            "memaug_policy_node",
            {
                "robot": options.robot,
                "model": options.model,
                "autostart": True,
                "command_vx": float(vx),
                "command_vy": float(vy),
                "command_yaw_rate": float(wz),
                "wait_for_subscribers": 1 if options.record is None else 2,
                # On the emulator the stand began 1.2 s before the bridge armed, and once the
                # robot was still lying when run began (a fall in the summary). Disarmed, the
                # policy loads and checks its model and waits.
                "wait_for_bridge_armed": True,
                "node_priority": options.policy_priority,
            },
        )
    )
    # The emulator publishes ground truth on /odom; a real Go2 has only its IMU.
    nodes.append(
        state_publisher_node(options.robot, "odom" if options.emulator else "imu", recorded=options.record is not None)
    )
    return Stack("robot", tuple(nodes), graph_environment(options.open_graph, options.peers))


def record_stack(folder: Path) -> Stack:
    return Stack("record", (recorder_node(folder),))
