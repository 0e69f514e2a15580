"""`memaug robot --check`: look at a Go2 before anything moves it. ROS-free; reads only.

Listens to rt/lowstate for a moment and reports what a person about to arm the robot needs:
the state's rate and CRC, the IMU's gravity (is the robot upright?), every joint against its
range, battery and motor temperatures, the interface and DDS domain. Sends nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from memaug_common.attitude import tilt_deg
from memaug_common.description import RobotDescription
from memaug_hardware.dds import controller_endpoints, participant
from memaug_hardware.protocol import crc_ok, state_from_lowstate
from memaug_hardware.safety import SafetyLimits
from memaug_policy.observation import projected_gravity

POSITION_MARGIN_RAD = SafetyLimits.position_margin_rad
#: A Go2 publishes rt/lowstate at 500 Hz; below this the link or the robot is in trouble.
MIN_RATE_HZ = 400.0
#: Motor temperature that stops a check, deg C (Unitree's motors protect themselves near 90).
MAX_MOTOR_TEMP_C = 70
#: Battery state of charge below which a walk should not start, %.
MIN_BATTERY_PERCENT = 20
#: Tilt from upright above which arming is refused (the bridge's own arm check is |g_xy| 0.5, 30 deg).
MAX_ARM_TILT_DEG = 30.0


@dataclass
class PreflightReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check(
    description: RobotDescription, interface: str, domain_id: int, listen_s: float = 1.0, strict_crc: bool = True
) -> PreflightReport:
    """Listen ``listen_s`` to rt/lowstate on ``interface``/``domain_id`` and judge it."""
    endpoints = controller_endpoints(participant(domain_id, interface))
    frames = []
    start = time.monotonic()
    while time.monotonic() - start < listen_s:
        if endpoints.wait(0.05):
            frames.extend(endpoints.take_all())
    return judge(description, frames, time.monotonic() - start, interface, domain_id, strict_crc)


def judge(
    description: RobotDescription, frames: list, seconds: float, interface: str, domain_id: int, strict_crc: bool
) -> PreflightReport:
    report = PreflightReport()
    report.lines.append(f"interface {interface}, DDS domain {domain_id}")
    if not frames:
        report.problems.append(f"no rt/lowstate within {seconds:.1f} s (robot on? cable in? right interface?)")
        return report
    valid = [f for f in frames if crc_ok(f)]
    rate = len(frames) / seconds
    report.lines.append(f"rt/lowstate {rate:.0f} Hz, {len(frames)} frames, {len(frames) - len(valid)} with a bad CRC")
    if rate < MIN_RATE_HZ:
        report.problems.append(f"rt/lowstate at {rate:.0f} Hz, below {MIN_RATE_HZ:.0f} Hz")
    if strict_crc and not valid:
        report.problems.append("every rt/lowstate failed its CRC (a simulator that leaves crc 0: lowstate_crc:=ignore)")
    latest = (valid or frames)[-1]
    state = state_from_lowstate(latest, description.num_joints)
    gravity = projected_gravity(state.orientation_wxyz)
    tilt = tilt_deg(gravity)
    report.lines.append(
        f"IMU gravity ({gravity[0]:+.2f}, {gravity[1]:+.2f}, {gravity[2]:+.2f}): {tilt:.0f} deg from upright"
    )
    if tilt > MAX_ARM_TILT_DEG:
        report.problems.append(f"the robot is tilted {tilt:.0f} deg: not a posture to arm from")
    for name, q, low, high in zip(
        description.joint_names, state.position, description.lower_limits, description.upper_limits, strict=True
    ):
        # A robot lying down rests its joints on their stops, a hair past the range; the
        # bridge's own margin tells a resting joint from a broken encoder or a wrong zero.
        inside = low - POSITION_MARGIN_RAD <= q <= high + POSITION_MARGIN_RAD
        note = "" if low <= q <= high else ("  at its stop" if inside else "  OUTSIDE")
        report.lines.append(f"  {name:16s} {q:+.3f} rad in [{low:+.3f}, {high:+.3f}]{note}")
        if not inside:
            report.problems.append(f"joint {name} at {q:+.3f} rad is outside its range")
    temperatures = np.array([m.temperature for m in latest.motor_state[: description.num_joints]])
    report.lines.append(f"motor temperatures {temperatures.min()}-{temperatures.max()} deg C")
    hot = [n for n, t in zip(description.joint_names, temperatures, strict=True) if t > MAX_MOTOR_TEMP_C]
    if hot:
        report.problems.append(f"motors over {MAX_MOTOR_TEMP_C} deg C: {hot}")
    soc = int(latest.bms_state.soc)
    report.lines.append(f"battery {soc} %, {latest.power_v:.1f} V")
    if soc < MIN_BATTERY_PERCENT:
        report.problems.append(f"battery at {soc} %, below {MIN_BATTERY_PERCENT} %")
    report.lines.append(
        "sport-mode controller: not checked here (the bridge's configure refuses while rt/sportmodestate is published)"
    )
    return report
