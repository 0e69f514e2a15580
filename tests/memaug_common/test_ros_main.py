"""Nodes, and `memaug` with its whole stack, stop cleanly on SIGINT and SIGTERM whenever they
come: exit 0, no traceback (7 trials each, 21 in all; the recorder's own in test_recorder)."""

from __future__ import annotations

import random
import signal
import time

import pytest

NODES = {
    "memaug_sim_node": ("--ros-args", "-p", "mode:=realtime"),
    "memaug_policy_node": ("--ros-args", "-p", "autostart:=true"),
    "memaug": ("sim", "--no-record", "--duration", "120", "--log-dir", "runs/logs/signal_test"),
}


@pytest.mark.parametrize("executable", sorted(NODES))
def test_signals_at_random_moments_end_a_node_cleanly(start_node, executable: str) -> None:
    rng = random.Random(executable)
    for trial in range(7):
        node = start_node(executable, *NODES[executable])
        # After the imports (about a second): from then on a signal is a request to stop.
        time.sleep(rng.uniform(1.5, 4.0))
        sig = (signal.SIGINT, signal.SIGTERM)[trial % 2]
        node.process.send_signal(sig)
        if trial == 2:  # launch forwards a second SIGINT to its children
            node.process.send_signal(sig)
        assert node.wait(20) == 0, f"{executable} trial {trial} ({sig.name}):\n{node.output()}"
        assert "Traceback" not in node.output() and "Exception" not in node.output(), node.output()
