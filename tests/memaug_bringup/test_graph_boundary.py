"""Who may reach a run, across a real network boundary: two network namespaces joined by a veth pair.

The stack (`memaug robot --emulator --disarmed`) runs in namespace A; a publisher with ROS's
defaults (the whole subnet, as a lab laptop has) sends /estop from namespace B. By default
the run's graph stays on its machine and the e-stop reaches nothing; with --open-graph it
reaches the bridge, which faults on it. The addresses are in the loopback range (127.233.0.0/24,
made routable on the pair by route_localnet inside the namespaces), exist only inside the two
namespaces this test creates and are deleted with them: no traffic leaves this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memaug_common.testing import resolve_executable

SUBNET = "127.233.{}.{}"

PUBLISHER = """
import time, rclpy
from std_msgs.msg import Bool
from memaug_common.ros_qos import LATCHED
rclpy.init()
node = rclpy.create_node("lab_laptop")
pub = node.create_publisher(Bool, "estop", LATCHED)
pub.publish(Bool(data=True))
end = time.monotonic() + float(__import__("sys").argv[1])
while time.monotonic() < end:
    rclpy.spin_once(node, timeout_sec=0.1)
"""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by a veth pair, lo and the pair up, a multicast route each."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2's ip")
    tag = f"mg{os.getpid() % 100000}"
    a, b = f"{tag}a", f"{tag}b"
    created = [ns for ns in (a, b) if _ip("netns", "add", ns).returncode == 0]
    try:
        if len(created) < 2:
            pytest.skip("this sandbox cannot create network namespaces (ip netns add failed)")
        octet = os.getpid() % 250 + 1
        veth = _ip("link", "add", f"{tag}va", "type", "veth", "peer", "name", f"{tag}vb")
        if veth.returncode != 0:
            pytest.skip(f"this kernel gives no veth pair (ip link add ... type veth: {veth.stderr.strip()})")
        # From here on the sandbox has what the test needs: a step that fails is the test's fault.
        steps = [
            ("link", "set", f"{tag}va", "netns", a),
            ("link", "set", f"{tag}vb", "netns", b),
        ]
        for ns, end, host in ((a, "va", 1), (b, "vb", 2)):
            steps += [
                ("-n", ns, "addr", "add", f"{SUBNET.format(octet, host)}/24", "dev", f"{tag}{end}"),
                ("-n", ns, "link", "set", "lo", "up"),
                ("-n", ns, "link", "set", f"{tag}{end}", "up"),
                ("-n", ns, "route", "add", "224.0.0.0/4", "dev", f"{tag}{end}"),  # DDS discovery
            ]
        for step in steps:
            result = _ip(*step)
            if result.returncode != 0:
                pytest.fail(f"cannot build the namespaces' network (ip {' '.join(step)}: {result.stderr.strip()})")
        for ns, end in ((a, "va"), (b, "vb")):  # loopback-range addresses routed on the pair
            for scope in ("all", f"{tag}{end}"):
                result = _ip("netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.conf.{scope}.route_localnet=1")
                if result.returncode != 0:
                    pytest.fail(f"cannot route loopback-range addresses on the pair: {result.stderr.strip()}")
        yield a, b
    finally:
        for ns in created:
            _ip("netns", "del", ns)  # deletes the veth pair and its addresses with it
        _ip("link", "del", f"{tag}va")  # a pair still here (a failed step): nothing to delete otherwise


def _run_in(ns: str, command: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *command], env=env, capture_output=True, text=True, timeout=timeout_s
    )


def _caller_env(domain_id: int) -> dict[str, str]:
    """A caller with ROS's defaults: discovery over the whole subnet."""
    env = {k: v for k, v in os.environ.items() if k not in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS")}
    env.update(ROS_DOMAIN_ID=str(domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="SUBNET", PYTHONUNBUFFERED="1")
    env.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    return env


def _estop_reaches_the_run(namespaces: tuple[str, str], domain_id: int, tmp_path: Path, *extra: str) -> dict:
    a, b = namespaces
    env = _caller_env(domain_id)
    laptop = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", PUBLISHER, "90"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        folder = tmp_path / ("open" if extra else "closed")
        run = _run_in(
            a,
            [
                resolve_executable("memaug"), "robot", "--emulator", "--disarmed", "--duration", "3",
                "--record", str(folder / "bag"), "--summary-json", str(folder / "summary.json"),
                "--log-dir", str(folder / "logs"), *extra,
            ],
            env,
            timeout_s=180.0,
        )  # fmt: skip
    finally:
        laptop.terminate()
        laptop.wait(10)
    summary_path = folder / "summary.json"
    assert summary_path.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    return {"returncode": run.returncode, "stderr": run.stderr, **json.loads(summary_path.read_text())}


def test_a_laptop_on_the_subnet_reaches_the_run_only_when_the_graph_is_opened(
    namespaces: tuple[str, str], domain_id: int, tmp_path: Path
) -> None:
    closed = _estop_reaches_the_run(namespaces, domain_id, tmp_path)
    assert closed["ros_graph"] == "this machine only (LOCALHOST)"
    assert closed["bridge_faults"] == [] and closed["returncode"] == 0, closed["stderr"][-1500:]
    opened = _estop_reaches_the_run(namespaces, domain_id, tmp_path, "--open-graph")
    assert opened["ros_graph"] == "open: SUBNET"
    assert [f["reason"] for f in opened["bridge_faults"]] == ["e-stop"], opened
    assert opened["returncode"] == 1 and "e-stop" in opened["stderr"]


def test_an_interface_that_is_down_is_one_named_line(namespaces: tuple[str, str], domain_id: int) -> None:
    a, _ = namespaces
    _ip("-n", a, "link", "set", "lo", "down")
    run = _run_in(
        a, [resolve_executable("memaug"), "robot", "--target", "unitree_mujoco", "--check"], _caller_env(domain_id), 60
    )
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0, run.stderr
    assert "network interface 'lo' is down" in run.stderr and "ip link set lo up" in run.stderr
