"""Helpers for tests and benchmarks that run memaug nodes as real processes over DDS.

DDS stays on this machine: every process gets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and
the caller's own ROS_DOMAIN_ID, so concurrent tests never see each other's topics.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def local_dds_env(domain_id: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a process that must talk DDS on loopback only, in ``domain_id``."""
    env = dict(os.environ if base is None else base)
    env.update(
        ROS_DOMAIN_ID=str(domain_id),
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        RMW_IMPLEMENTATION=env.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp"),
        PYTHONUNBUFFERED="1",
    )
    return env


def resolve_executable(name: str) -> str:
    """Find a console script next to this interpreter first (a venv used without activation)."""
    if os.sep in name:
        return name
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        raise FileNotFoundError(f"command {name!r} not found next to {sys.executable} or on PATH")
    return found


class NodeProcess:
    """A node (or any command) started as its own process, logging to a file.

    ``stop()`` sends SIGINT, waits, then SIGKILLs, so no process outlives its test.
    """

    def __init__(self, command: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.command = [resolve_executable(command[0]), *command[1:]]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout_s: float) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"{self.command[0]} did not exit within {timeout_s} s; output:\n{self.output()[-2000:]}"
            ) from None

    def stop(self, timeout_s: float = 5.0) -> int:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout_s)
        self._log.close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=5.0)


def wait_until(
    condition: Callable[[], Any], timeout_s: float, what: str, poll: Callable[[], None] | None = None
) -> Any:
    """Call ``poll`` (e.g. spin an executor) until ``condition()`` is truthy; return its value.

    Raises TimeoutError saying what was waited for.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        if poll is not None:
            poll()
        else:
            time.sleep(0.01)


def bench_domain(slot: int) -> int:
    """A ROS domain for benchmark ``slot`` (0..9): 201-230, above the 1-100 that tests use,
    so a benchmark never shares its topics with a test running at the same time."""
    return 201 + (os.getpid() % 3) * 10 + slot
