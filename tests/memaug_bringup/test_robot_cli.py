"""`memaug robot` as a user runs it: targets, a disarmed run that configures, the preflight, bad input.

Every run is its own process tree on loopback, in the test's domains; the Go2 side is
memaug's emulator (started by the run, or by the test where it plays a misconfigured robot).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from memaug_common.testing import local_dds_env, resolve_executable


@pytest.fixture
def go2_domain(domain_id: int) -> int:
    """DDS domain of the Go2 channels: distinct from the ROS domain, unique per test."""
    return domain_id + 110


def memaug_robot(domain_id: int, *args: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [resolve_executable("memaug"), "robot", *args],
        env=local_dds_env(domain_id),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def start_robot(start_node, go2_domain: int, *emulator_args: str):
    """The emulator as a robot the user points memaug at (--interface lo --go2-domain-id D)."""
    emulator = start_node("memaug_go2_emulator", "--domain-id", str(go2_domain), *emulator_args)
    deadline = time.monotonic() + 30.0
    while "t=1.0 s" not in emulator.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    return emulator


def test_a_disarmed_run_configures_never_arms_and_says_so(domain_id: int, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    run = memaug_robot(
        domain_id, "--emulator", "--disarmed", "--duration", "5", "--record", str(tmp_path / "bag"),
        "--summary-json", str(summary_path), "--log-dir", str(tmp_path / "logs"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "disarmed: the bridge configures and stays damped" in run.stdout
    assert "disarmed run" in run.stdout and "distance walked" not in run.stdout  # no walk figures
    summary = json.loads(summary_path.read_text())
    assert summary["bridge_arms"] == 0 and summary["bridge_faults"] == []
    assert "rt/lowstate valid (lowstate_crc strict), motion switcher check" in summary["bridge_configure"]
    assert "posture:" in summary["bridge_configure"] and summary["bridge_counters"]["ticks"] > 100
    assert summary["ros_graph"] == "this machine only (LOCALHOST)"
    bridge_log = (tmp_path / "logs" / "memaug_go2_bridge.log").read_text()
    assert "configured:" in bridge_log and "ARMED" not in bridge_log


def test_a_disarmed_run_fails_on_a_robot_without_crc_naming_the_fix_and_bridge_params_apply(
    start_node, domain_id: int, go2_domain: int, tmp_path: Path
) -> None:
    start_robot(start_node, go2_domain, "--zero-crc-after", "0")
    run = memaug_robot(
        domain_id, "--interface", "lo", "--go2-domain-id", str(go2_domain), "--no-record",
        "--bridge-param", "lowstate_wait_s=1.5", "--duration", "30", "--log-dir", str(tmp_path / "logs"),
    )  # fmt: skip
    assert run.returncode != 0
    # The failed configure is the run's end, in one line naming the CRC and its fix; the
    # --bridge-param reached the bridge (its wait is 1.5 s, not the default 5).
    assert "configure failed: no valid rt/lowstate within 1.5 s" in run.stderr, run.stderr
    assert "bad CRC" in run.stderr and "lowstate_crc" in run.stderr and "Traceback" not in run.stderr


def test_the_check_lists_every_problem_at_once(start_node, domain_id: int, go2_domain: int) -> None:
    start_robot(start_node, go2_domain, "--zero-crc-after", "0", "--sport-mode")
    run = memaug_robot(domain_id, "--check", "--interface", "lo", "--go2-domain-id", str(go2_domain))
    assert run.returncode == 1
    assert "every rt/lowstate failed its CRC" in run.stderr, run.stderr
    assert "high-level controller 'normal' is active" in run.stderr
    assert "sport-mode controller: not checked" not in run.stdout + run.stderr  # no check nobody makes
    # Judged against Unitree's simulator's profile instead, the CRC is not required.
    sim = memaug_robot(
        domain_id, "--check", "--target", "unitree_mujoco", "--go2-domain-id", str(go2_domain),
        "--bridge-param", "motion_switcher=check",
    )  # fmt: skip
    assert "every rt/lowstate failed its CRC" not in sim.stderr and "CRC not required" in sim.stdout
    assert "battery: not reported by this target" in sim.stdout


@pytest.mark.parametrize("mode", [("--check",), (), ("--arm",)])
def test_a_missing_interface_is_one_line_naming_the_ones_there_are(domain_id: int, mode: tuple[str, ...]) -> None:
    run = memaug_robot(domain_id, "--interface", "nosuchif0", "--no-record", *mode, timeout_s=60.0)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert "'nosuchif0' does not exist" in run.stderr and "lo" in run.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--target", "go3"), "no targets named 'go3'"),
        (("--bridge-param", "loop_rate=500"), "no parameter 'loop_rate'"),
        (("--emulator", "--target", "go2"), "name two targets"),
    ],
)
def test_bad_input_is_one_named_line(domain_id: int, args: tuple[str, ...], named: str) -> None:
    run = memaug_robot(domain_id, *args, "--check", timeout_s=60.0)
    assert run.returncode == 2 and named in run.stderr and run.stderr.strip().count("\n") == 0, run.stderr


def test_a_domain_with_no_go2_is_named(domain_id: int, go2_domain: int, tmp_path: Path) -> None:
    check = memaug_robot(domain_id, "--check", "--interface", "lo", "--go2-domain-id", str(go2_domain))
    assert check.returncode == 1 and f"no rt/lowstate within 1.0 s on interface lo, DDS domain {go2_domain}" in (
        check.stderr
    )
    run = memaug_robot(
        domain_id, "--interface", "lo", "--go2-domain-id", str(go2_domain), "--no-record",
        "--bridge-param", "lowstate_wait_s=1.0", "--log-dir", str(tmp_path / "logs"),
    )  # fmt: skip
    assert run.returncode != 0 and f"no valid rt/lowstate within 1.0 s on interface lo, domain {go2_domain}" in (
        run.stderr
    )


def test_a_policy_that_observes_ground_truth_is_refused_off_the_emulator(domain_id: int, tmp_path: Path) -> None:
    import torch

    from memaug_policy.import_cli import main as import_main

    torch.manual_seed(0)
    source = tmp_path / "policy_1.pt"  # legged_gym's default observation starts with the base's linear velocity
    torch.jit.script(torch.nn.Sequential(torch.nn.Linear(48, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))).save(
        str(source)
    )
    model = tmp_path / "sim_only.onnx"
    assert import_main([str(source), "--from", "legged_gym", "--out", str(model)]) == 0
    for target in (("--target", "go2", "--interface", "lo"), ("--target", "unitree_mujoco")):
        run = memaug_robot(domain_id, *target, "--model", str(model), "--no-record", timeout_s=60.0)
        assert run.returncode == 2 and run.stderr.strip().count("\n") == 0, run.stderr
        assert "observes base_linear_velocity, which only a simulator measures" in run.stderr
