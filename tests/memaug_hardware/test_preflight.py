"""memaug robot --check against the emulator: what a person about to arm needs, and what is wrong."""

from __future__ import annotations

import re
import subprocess
import time

from memaug_common.testing import local_dds_env, resolve_executable


def run_check(domain_id: int, go2_domain: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [resolve_executable("memaug"), "robot", "--check", "--interface", "lo", "--go2-domain-id", str(go2_domain)],
        env=local_dds_env(domain_id),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_check_reads_the_robot_and_names_what_is_wrong(start_node, domain_id: int, go2_domain: int) -> None:
    absent = run_check(domain_id, go2_domain)
    assert absent.returncode == 1 and "no rt/lowstate within 1.0 s" in absent.stderr
    emulator = start_node("memaug_go2_emulator", "--domain-id", str(go2_domain))
    deadline = time.monotonic() + 30  # the emulator up and its passive robot settled
    while "t=2.0 s" not in emulator.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    result = run_check(domain_id, go2_domain)
    out = result.stdout
    assert f"interface lo, DDS domain {go2_domain}" in out
    assert "rt/lowstate" in out and "0 with a bad CRC" in out
    tilt = float(re.search(r"\): (\d+) deg from upright", out).group(1))
    assert tilt < 10 and "battery 90 %, 28.8 V" in out and "motor temperatures 35-35" in out
    assert out.count(" rad in [") == 12
    # The emulated robot lies where the passive bridge left it: joints at their stops, not outside.
    assert "OUTSIDE" not in out, out
    if result.returncode != 0:  # the emulator runs slow only on an overloaded machine; nothing else may fail
        assert "not ready: rt/lowstate at" in result.stderr and ";" not in result.stderr, result.stderr
    else:
        assert "ready to arm" in out
