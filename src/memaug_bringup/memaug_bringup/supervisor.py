"""Run a stack's nodes as separate processes; stop them all, cleanly, whatever happens.

Ctrl-C (SIGINT) or SIGTERM stops every node (policy first, recorder last, so the bag sees
the end); a node that dies makes the run fail with its name; no process is left behind.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memaug_bringup.stacks import NodeSpec, Stack
from memaug_common.testing import NodeProcess, local_dds_env


class NodeFailed(RuntimeError):
    """A node exited on its own with a non-zero status; the message names it."""


@dataclass
class RunResult:
    completed: bool  # the run reached its end (duration) rather than being interrupted
    logs: dict[str, Path]


class Supervisor:
    def __init__(self, stack: Stack, domain_id: int, log_dir: Path) -> None:
        self.stack = stack
        self.domain_id = domain_id
        self.log_dir = log_dir
        self.processes: dict[str, NodeProcess] = {}
        self._interrupted = False

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._interrupted = True

    def run(self, timeout_s: float, finished: Callable[[], bool] = lambda: False) -> RunResult:
        """Start every node, wait for the run to end (a node that ends the run exits 0, or
        ``finished()`` says so), stop them all. Raises NodeFailed."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        # The stack's environment (who may reach its graph) wins over the caller's.
        env = {**local_dds_env(self.domain_id), **self.stack.environment}
        failure: str | None = None
        completed = False
        try:
            for node in self.stack.nodes:
                self.processes[node.name] = NodeProcess(
                    [node.executable, *node.ros_args()], env, self.log_dir / f"{node.name}.log"
                )
                time.sleep(0.2)  # the recorder subscribes before the others publish
            deadline = time.monotonic() + timeout_s
            while not self._interrupted:
                ended, failure = self._check(self.stack.nodes)
                ended = ended or (failure is None and finished())
                if ended or failure:
                    completed = ended and failure is None
                    break
                if time.monotonic() > deadline:
                    failure = f"run did not finish within {timeout_s:.0f} s (wall clock)"
                    break
                time.sleep(0.05)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failure:
            raise NodeFailed(failure)
        return RunResult(completed=completed, logs={n: p.log_path for n, p in self.processes.items()})

    def _check(self, nodes: tuple[NodeSpec, ...]) -> tuple[bool, str | None]:
        for node in nodes:
            process = self.processes[node.name]
            code = process.process.poll()
            if code is None:
                continue
            if code == 0 and node.ends_run:
                return True, None
            tail = process.output()[-1500:]
            return False, f"node {node.name} ({node.executable}) exited with status {code}:\n{tail}"
        return False, None

    def _stop_all(self) -> None:
        # Reverse start order: policy, sim, then the recorder, which closes the bag last.
        for name in reversed(list(self.processes)):
            self.processes[name].stop(timeout_s=10.0)
