"""Parameters of the policy node, declared once (name, default, range, description)."""

from memaug_common.params import ParamSpec

DEFAULT_MODEL = "go2_memaug.onnx"

POLICY_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("robot", "go2", "Robot description: a name under config/robots/ or a YAML path."),
    ParamSpec("model", DEFAULT_MODEL, "Policy ONNX file: a path, or a name under config/policies/."),
    ParamSpec(
        "state_timeout_s", 0.1, "Stop commanding when /joint_states or /imu/data is older, s.", min=0.005, max=5.0
    ),
    ParamSpec(
        "stale_ticks_allowed",
        1,
        "On-time control ticks in a row with stale state that only skip the command before the node stops "
        "(late ticks of a starved node do not count; memaug_policy.state.StalenessGuard). Above 1 the Go2 "
        "bridge's 50 ms watchdog damps first.",
        min=0,
        max=3,
    ),
    ParamSpec(
        "max_tilt_deg", 60.0, "Stand or run with the base tilted further from upright: damp, deg.", min=10.0, max=180.0
    ),
    ParamSpec("stand_duration_s", 2.0, "Stand-up interpolation time, s.", min=0.0, max=30.0),
    ParamSpec("stand_hold_s", 0.5, "Hold the default pose this long before run (auto_run), s.", min=0.0, max=60.0),
    ParamSpec("auto_run", True, "Enter run by itself once standing; otherwise a second ~/start does."),
    ParamSpec("autostart", False, "Call ~/start by itself once the first state arrives."),
    ParamSpec(
        "wait_for_subscribers",
        0,
        "Autostart only once /joint_commands has this many subscribers (the bridge, a recorder).",
        min=0,
        max=64,
    ),
    ParamSpec(
        "wait_for_bridge_armed",
        False,
        "Autostart only once the Go2 bridge says it is armed (bridge/state): standing up into a disarmed "
        "bridge's damping would leave a lying robot in run mode when it arms.",
    ),
    ParamSpec(
        "cmd_vel_timeout_s", 0.5, "A /cmd_vel older than this falls back to the default command, s.", min=0.01, max=60.0
    ),
    ParamSpec("command_vx", 0.0, "Default forward velocity command, m/s (used without /cmd_vel).", min=-5.0, max=5.0),
    ParamSpec("command_vy", 0.0, "Default lateral velocity command, m/s.", min=-5.0, max=5.0),
    ParamSpec("command_yaw_rate", 0.0, "Default yaw rate command, rad/s.", min=-5.0, max=5.0),
    ParamSpec("diagnostics_period_s", 1.0, "Period of /diagnostics, s (node clock).", min=0.05, max=60.0),
    ParamSpec(
        "node_priority",
        0,
        "SCHED_FIFO priority (1-99) of this node's process, below the Go2 bridge's loop: at normal priority beside "
        "a real-time bridge and emulator on a loaded 2-core machine, the policy step's p99 reached 20-35 ms, "
        "it missed deadlines and the robot fell (root or CAP_SYS_NICE; refused: normal priority, said in the "
        "log); 0: normal priority.",
        min=0,
        max=99,
    ),
    ParamSpec(
        "publish_debug",
        True,
        "Publish /policy/observation, /policy/action, /policy/command and /policy/memory (with memory only).",
    ),
)
