"""Parameters of the sim bridge node, declared once (name, default, range, description)."""

from memaug_common.params import ParamSpec

SIM_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("robot", "go2", "Robot description: a name under config/robots/ or a YAML path."),
    ParamSpec(
        "mode",
        "realtime",
        "realtime: physics paced by the wall clock. lockstep: as fast as possible, sim time on /clock.",
        choices=("realtime", "lockstep"),
    ),
    ParamSpec("seed", 0, "Seed of the IMU noise generator.", min=0, max=2**31 - 1),
    ParamSpec("publish_rate_hz", 500.0, "Rate of /joint_states and /imu/data, Hz (sim time).", min=1.0, max=1000.0),
    ParamSpec("odom_rate_hz", 100.0, "Rate of /odom (ground truth), Hz (sim time).", min=1.0, max=1000.0),
    ParamSpec("clock_rate_hz", 500.0, "Rate of /clock in lockstep mode, Hz (sim time).", min=10.0, max=1000.0),
    ParamSpec(
        "command_timeout_s",
        0.1,
        "Watchdog: a /joint_commands message older than this (sim time, s) means damping.",
        min=0.004,
        max=10.0,
    ),
    ParamSpec("gyro_noise_std", 0.0, "Gyro white noise, rad/s.", min=0.0, max=1.0),
    ParamSpec("accelerometer_noise_std", 0.0, "Accelerometer white noise, m/s^2.", min=0.0, max=5.0),
    ParamSpec("scenario", "none", "Fault scenario: a name under config/scenarios/, a YAML path, or none."),
    ParamSpec(
        "fault",
        "none",
        "Live fault, applied when set: none (clears all), limp:JOINT, locked:JOINT, "
        "weakened:JOINT:FACTOR, payload:KG, friction:SCALE.",
    ),
    ParamSpec("duration_s", 0.0, "Stop after this much sim time, s (0: run until shut down).", min=0.0, max=1e6),
    ParamSpec(
        "max_realtime_factor",
        0.0,
        "Lockstep only: cap on sim time / wall time (0: uncapped).",
        min=0.0,
        max=1000.0,
    ),
    ParamSpec(
        "lockstep_gate",
        False,
        "Lockstep only: while commands flow, wait at each control period for the next /joint_commands, "
        "so the run goes exactly as fast as the controller (real-time pace until the first command).",
    ),
    ParamSpec(
        "wait_for_subscribers",
        0,
        "Hold sim time at 0 until /joint_states has this many subscribers (a recorder and a controller), "
        "so nothing published is missed.",
        min=0,
        max=64,
    ),
    ParamSpec("subscriber_timeout_s", 30.0, "Longest wait for those subscribers, s (wall).", min=0.1, max=600.0),
    ParamSpec("gate_timeout_s", 0.5, "Longest wall-clock wait for a gated command, s.", min=0.01, max=10.0),
    ParamSpec("diagnostics_period_s", 1.0, "Period of the bridge's /diagnostics status, s (wall).", min=0.05, max=60.0),
    ParamSpec("viewer", False, "Open MuJoCo's passive viewer (needs a display)."),
    ParamSpec("base_frame", "base", "Frame id of the base (odom child frame)."),
    ParamSpec("odom_frame", "odom", "Frame id of the world-fixed odometry frame."),
    ParamSpec("imu_frame", "imu", "Frame id of /imu/data."),
)
