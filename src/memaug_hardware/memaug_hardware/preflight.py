"""`memaug robot --check`: look at a Go2 (or a simulator of one) before anything moves it. ROS-free.

Listens to rt/lowstate for a moment and reports what a person about to arm the robot needs:
the state's rate and CRC, the IMU's gravity (is the robot upright?), every joint against its
range, battery and motor temperatures, the interface and DDS domain, and what Unitree's motion
switcher answers; judged against the target's thresholds (memaug_hardware.targets), every
problem at once. Sends no command.
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
from memaug_hardware.targets import PreflightThresholds
from memaug_policy.observation import projected_gravity

POSITION_MARGIN_RAD = SafetyLimits.position_margin_rad


@dataclass
class PreflightReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check(
    description: RobotDescription,
    interface: str,
    domain_id: int,
    thresholds: PreflightThresholds,
    strict_crc: bool = True,
    motion_switcher: str = "check",
    listen_s: float = 1.0,
) -> PreflightReport:
    """Listen ``listen_s`` to rt/lowstate on ``interface``/``domain_id``, ask the motion
    switcher (unless ``motion_switcher`` is skip) and judge it all."""
    endpoints = controller_endpoints(participant(domain_id, interface), write=False)
    frames = []
    start = time.monotonic()
    while time.monotonic() - start < listen_s:
        if endpoints.wait(0.05):
            frames.extend(endpoints.take_all())
    report = judge(description, frames, time.monotonic() - start, interface, domain_id, thresholds, strict_crc)
    if frames:
        _motion_switcher(report, motion_switcher)
    return report


def _motion_switcher(report: PreflightReport, policy: str) -> None:
    """What configure will find: Unitree's high-level controller, asked as the bridge asks."""
    from memaug_hardware.motion_switcher import HELP, check_mode

    if policy == "skip":
        report.lines.append("motion switcher: not asked (motion_switcher skip: a simulator without it)")
        return
    answer = check_mode(1.0)
    if answer.mode is None:
        report.lines.append("motion switcher: no answer")
        report.problems.append(
            f"{answer.detail}: a simulator without the service needs motion_switcher skip "
            "(--target unitree_mujoco, or --bridge-param motion_switcher=skip)"
        )
    elif answer.mode and policy == "release":
        report.lines.append(
            f"motion switcher: '{answer.mode}' active; the bridge will release it (robot lying or held)"
        )
    elif answer.mode:
        report.lines.append(f"motion switcher: '{answer.mode}' active")
        report.problems.append(f"Unitree's high-level controller '{answer.mode}' is active; {HELP}")
    else:
        report.lines.append("motion switcher: no high-level controller active")


def judge(
    description: RobotDescription,
    frames: list,
    seconds: float,
    interface: str,
    domain_id: int,
    thresholds: PreflightThresholds,
    strict_crc: bool,
) -> PreflightReport:
    """Every problem with ``frames`` (rt/lowstate heard over ``seconds``) against ``thresholds``."""
    report = PreflightReport()
    report.lines.append(f"interface {interface}, DDS domain {domain_id}")
    if not frames:
        report.problems.append(
            f"no rt/lowstate within {seconds:.1f} s on interface {interface}, DDS domain {domain_id} "
            "(robot on? cable in? right interface? right domain: a real Go2 uses 0, Unitree's simulator 1)"
        )
        return report
    valid = [f for f in frames if crc_ok(f)]
    rate = len(frames) / seconds
    report.lines.append(f"rt/lowstate {rate:.0f} Hz, {len(frames)} frames, {len(frames) - len(valid)} with a bad CRC")
    if rate < thresholds.min_rate_hz:
        report.problems.append(f"rt/lowstate at {rate:.0f} Hz, below {thresholds.min_rate_hz:.0f} Hz")
    if strict_crc and not valid:
        report.problems.append(
            "every rt/lowstate failed its CRC (a simulator that leaves crc 0: --bridge-param lowstate_crc=ignore)"
        )
    elif not strict_crc:
        report.lines.append("CRC not required (lowstate_crc ignore)")
    latest = (valid or frames)[-1]
    state = state_from_lowstate(latest, description.num_joints)
    gravity = projected_gravity(state.orientation_wxyz)
    tilt = tilt_deg(gravity)
    report.lines.append(
        f"IMU gravity ({gravity[0]:+.2f}, {gravity[1]:+.2f}, {gravity[2]:+.2f}): {tilt:.0f} deg from upright"
    )
    if tilt > thresholds.max_tilt_deg:
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
    if thresholds.max_motor_temp_c is None:
        report.lines.append("motor temperatures: not reported by this target (not checked)")
    else:
        temperatures = np.array([m.temperature for m in latest.motor_state[: description.num_joints]])
        report.lines.append(f"motor temperatures {temperatures.min()}-{temperatures.max()} deg C")
        hot = [n for n, t in zip(description.joint_names, temperatures, strict=True) if t > thresholds.max_motor_temp_c]
        if hot:
            report.problems.append(f"motors over {thresholds.max_motor_temp_c:g} deg C: {hot}")
    if thresholds.min_battery_percent is None:
        report.lines.append("battery: not reported by this target (not checked)")
    else:
        soc = int(latest.bms_state.soc)
        report.lines.append(f"battery {soc} %, {latest.power_v:.1f} V")
        if soc < thresholds.min_battery_percent:
            report.problems.append(f"battery at {soc} %, below {thresholds.min_battery_percent} %")
    return report
