"""The bridge's 500 Hz loop in its own process: its priority reaches its DDS threads, and its death is a fault."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from std_msgs.msg import String

from memaug_common.ros_qos import LATCHED


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _loop_process(bridge_pid: int) -> int:
    """The spawned loop process among the bridge's children (not multiprocessing's resource tracker)."""
    for child in _children(bridge_pid):
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    raise AssertionError(f"no loop process among {_children(bridge_pid)}")


def test_the_loop_process_runs_fifo_with_its_dds_threads_and_its_death_is_a_fault(
    ros, start_node, start_bridge, go2_domain: int
) -> None:
    states = ros.subscribe(String, "bridge/state", LATCHED)
    start_node("memaug_go2_emulator", "--domain-id", str(go2_domain))
    bridge = start_bridge(
        "-p", "auto_activate:=false", "-p", "auto_configure:=true", "-p", "loop_priority:=20",
        "-p", "node_priority:=10",
    )  # fmt: skip
    ros.wait_for(lambda: "configured:" in bridge.output(), 60.0, "the bridge to configure")
    loop = _loop_process(bridge.pid)
    threads = {int(t.name): (Path(t) / "comm").read_text().strip() for t in Path(f"/proc/{loop}/task").iterdir()}
    policies = {name: os.sched_getscheduler(tid) for tid, name in threads.items()}
    # Cyclone's receive and delivery threads (recv, dq.user) live in the loop process.
    assert {"recv", "dq.user"} <= set(policies), policies
    granted = "loop process at SCHED_FIFO 20" in bridge.output()
    expected = os.SCHED_FIFO if granted else os.SCHED_OTHER
    assert all(p == expected for p in policies.values()), (granted, policies)
    # The node's own process, every thread of it (executor, DDS, state publisher), at node_priority.
    node_threads = [int(t.name) for t in Path(f"/proc/{bridge.pid}/task").iterdir()]
    priorities = {(os.sched_getscheduler(t), os.sched_getparam(t).sched_priority) for t in node_threads}
    assert priorities == ({(os.SCHED_FIFO, 10)} if granted else {(os.SCHED_OTHER, 0)}), priorities

    os.kill(loop, signal.SIGKILL)  # a crash of the loop: the node must not go on as if healthy
    ros.wait_for(
        lambda: states and states[-1].data == "fault: the 500 Hz loop process died", 10.0, "the bridge's fault"
    )


def test_a_repeated_frame_goes_out_as_the_same_bytes(go2_domain: int) -> None:
    """The loop's writer resends an unchanged rt/lowcmd without serializing it again: a reader
    gets the frame itself, CRC and all, each time."""
    import time

    import numpy as np
    from cyclonedds.pub import DataWriter
    from cyclonedds.qos import Policy, Qos
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from memaug_hardware.dds import LOWCMD_TOPIC, RepeatingWriter, participant
    from memaug_hardware.protocol import MotorCommand, crc_ok, lowcmd_from_command
    from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_

    dp = participant(go2_domain, "lo")
    topic = Topic(dp, LOWCMD_TOPIC, LowCmd_)
    reader = DataReader(dp, topic, qos=Qos(Policy.History.KeepLast(16)))
    writer = RepeatingWriter(DataWriter(dp, topic))
    frame = lowcmd_from_command(
        MotorCommand(np.full(12, 0.3), np.zeros(12), np.full(12, 20.0), np.ones(12), np.zeros(12))
    )
    time.sleep(0.5)  # the reader matched
    for changed in (True, False, False):
        writer.write(frame, changed)
    received: list[LowCmd_] = []
    deadline = time.monotonic() + 5.0
    while len(received) < 3 and time.monotonic() < deadline:
        received += [s for s in reader.take(N=16) if isinstance(s, LowCmd_)]
        time.sleep(0.01)
    assert len(received) == 3 and all(r.serialize() == frame.serialize() and crc_ok(r) for r in received)
