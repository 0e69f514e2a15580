"""Parameters of the Go2 bridge node, declared once (name, default, range, description)."""

from memaug_common.params import ParamSpec

BRIDGE_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("robot", "go2", "Robot description: a name under config/robots/ or a YAML path."),
    ParamSpec("network_interface", "eth0", "Interface that reaches the Go2 (its wired port); lo for the emulator."),
    ParamSpec("dds_domain_id", 0, "DDS domain of rt/lowstate and rt/lowcmd (the Go2 uses 0).", min=0, max=232),
    ParamSpec("loop_rate_hz", 500.0, "Bridge loop rate: rt/lowcmd and the safety checks, Hz.", min=50.0, max=1000.0),
    ParamSpec(
        "publish_rate_hz",
        500.0,
        "Rate of /joint_states and /imu/data (the newest valid rt/lowstate), Hz.",
        min=1.0,
        max=1000.0,
    ),
    ParamSpec(
        "lowstate_wait_s", 5.0, "configure: how long to wait for the first valid rt/lowstate, s.", min=0.1, max=60.0
    ),
    ParamSpec(
        "motion_switcher",
        "check",
        "configure asks Unitree's motion switcher for an active high-level controller: check (refuse while one "
        "runs), release (switch it off: the robot must be lying or held), skip (simulators without the service).",
        choices=("check", "release", "skip"),
    ),
    ParamSpec(
        "motion_switcher_timeout_s",
        2.0,
        "configure: how long to wait for the motion switcher's answer, s.",
        min=0.1,
        max=30.0,
    ),
    ParamSpec(
        "command_timeout_s", 0.05, "Watchdog: /joint_commands older than this means damping, s.", min=0.005, max=1.0
    ),
    ParamSpec("state_timeout_s", 0.05, "rt/lowstate older than this is a fault, s.", min=0.005, max=1.0),
    ParamSpec(
        "lowstate_crc",
        "strict",
        "strict: a rt/lowstate with a bad CRC is dropped (counted; none valid for state_timeout_s is a fault); "
        "ignore: for simulators that leave LowState_.crc at 0.",
        choices=("strict", "ignore"),
    ),
    ParamSpec("arm_max_tilt", 0.5, "Refuse to arm when |projected gravity xy| exceeds this.", min=0.0, max=1.0),
    ParamSpec(
        "max_tilt_deg",
        60.0,
        "Armed: a base tilted further from upright is a fault (damping), deg.",
        min=10.0,
        max=180.0,
    ),
    ParamSpec(
        "velocity_factor", 1.1, "A joint over this x its velocity limit counts toward a fault.", min=0.5, max=3.0
    ),
    ParamSpec(
        "velocity_samples", 10, "Consecutive lowstates over the velocity limit that make a fault.", min=1, max=500
    ),
    ParamSpec(
        "auto_configure",
        False,
        "Configure by itself and stay disarmed (damping): read a valid rt/lowstate, apply the CRC policy, ask "
        "the motion switcher, report the posture; a failed configure ends the node (status 3) naming why.",
    ),
    ParamSpec(
        "auto_activate",
        False,
        "Configure and activate (arm) by itself: only with a robot on the ground and people clear of it.",
    ),
    ParamSpec("diagnostics_period_s", 0.5, "Period of /diagnostics, s.", min=0.05, max=60.0),
    ParamSpec(
        "loop_priority",
        0,
        "SCHED_FIFO priority (1-99) of the 500 Hz loop's process, its DDS receive threads included "
        "(root or CAP_SYS_NICE; refused: normal priority, said in the log); 0: normal priority. "
        "bench/results/bench_robot_loop.txt has the figures.",
        min=0,
        max=99,
    ),
    ParamSpec(
        "node_priority",
        0,
        "SCHED_FIFO priority (1-99) of this node's process, below loop_priority: its executor, which takes "
        "/joint_commands to the loop, and its publication of /joint_states, /imu/data and /remote. At normal "
        "priority beside a real-time loop and emulator, on a loaded machine, commands reached the loop late "
        "(watchdog damping) and the policy stopped on stale state (root or CAP_SYS_NICE; refused: normal "
        "priority, said in the log); 0: normal priority.",
        min=0,
        max=99,
    ),
)
