"""Why a Python 500 Hz loop misses its ticks, and what holds it: one process, no DDS.

    .venv/bin/python bench/bench_loop_timing.py [--seconds 10]

Runs the Go2 bridge's tick work (BridgeSafety.motor_command + fill_lowcmd with its
CRC, the code the bridge runs each tick) in a 2 ms loop under each way of waiting, and prints
|interval - 2 ms| p50/p99/max of the tick start times, with and without a second thread that
takes the GIL the way the bridge's rclpy executor does (a callback of ~0.3 ms every 2 ms):

- sleep:   time.sleep() to each absolute deadline (the bridge before this bench);
- hybrid:  sleep to SPIN_MARGIN before the deadline, then spin on perf_counter;
- + GIL switch 0.2 ms: sys.setswitchinterval, so the loop waits less for the executor's GIL;
- + gc frozen: gc.freeze() after start-up, so start-up objects are never scanned again;
- + SCHED_FIFO: the loop thread at real-time priority (where permitted: root or CAP_SYS_NICE).

The first row (sleep, no load) is the baseline of the same run. Last, the machine's floor
without Python: bench/loop_floor.c (clock_nanosleep to absolute deadlines), compiled with the
system's C compiler where there is one, at normal priority and under SCHED_FIFO. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from memaug_hardware.protocol import MotorCommand, RobotState, fill_lowcmd, new_lowcmd
from memaug_hardware.safety import BridgeSafety, SafetyLimits

from memaug_common.description import load_robot_description
from memaug_common.realtime import try_realtime_priority

PERIOD_S = 0.002
SPIN_MARGIN_S = 0.0003  # hybrid wait: sleep to this long before the deadline, spin the rest
SWITCH_INTERVAL_S = 0.0002  # GIL switch interval tried against CPython's default 5 ms


def sleep_until(deadline: float) -> None:
    """time.sleep() to ``deadline`` (perf_counter), as the bridge's loop waits."""
    remaining = deadline - time.perf_counter()
    if remaining > 0:
        time.sleep(remaining)


def wait_until(deadline: float) -> None:
    """Sleep to SPIN_MARGIN_S before ``deadline`` (perf_counter), then spin; sleep(0) lets other
    threads take the GIL meanwhile."""
    remaining = deadline - time.perf_counter()
    if remaining > SPIN_MARGIN_S:
        time.sleep(remaining - SPIN_MARGIN_S)
    while time.perf_counter() < deadline:
        time.sleep(0)


GO2 = load_robot_description("go2")
LOWCMD = new_lowcmd()  # reused each tick, as the bridge does


def tick_work(safety: BridgeSafety) -> None:
    now = time.monotonic()
    safety.motor_command(now)
    fill_lowcmd(LOWCMD, MotorCommand.damping(GO2.num_joints, GO2.passive_kd))


def gil_load(stop: threading.Event) -> None:
    """Python work in bursts, as an rclpy executor thread turning callbacks (holds the GIL)."""
    while not stop.is_set():
        end = time.perf_counter() + 0.0003
        x = 0
        while time.perf_counter() < end:
            x += 1
        time.sleep(0.0017)


def run(seconds: float, hybrid: bool, load: bool, switch: bool, freeze: bool, fifo: bool) -> str:
    safety = BridgeSafety(GO2, SafetyLimits())
    n = GO2.num_joints
    upright = RobotState(
        GO2.default_pose.copy(), np.zeros(n), np.zeros(n), np.array([1.0, 0, 0, 0]), *np.zeros((2, 3)), 0
    )
    safety.on_state(upright, True, time.monotonic())
    stop = threading.Event()
    loader = threading.Thread(target=gil_load, args=(stop,), daemon=True)
    if load:
        loader.start()
    default_switch = sys.getswitchinterval()
    if switch:
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    if freeze:
        gc.collect()
        gc.freeze()
    result: dict[str, object] = {}

    def loop() -> None:
        if fifo:
            result["fifo"] = try_realtime_priority(80)
        wait = wait_until if hybrid else sleep_until
        starts = np.empty(int(seconds / PERIOD_S))
        next_tick = time.perf_counter()
        for i in range(len(starts)):
            starts[i] = time.perf_counter()
            tick_work(safety)
            next_tick += PERIOD_S
            wait(next_tick)
        result["starts"] = starts

    thread = threading.Thread(target=loop)
    thread.start()
    thread.join()
    stop.set()
    sys.setswitchinterval(default_switch)
    if freeze:
        gc.unfreeze()
    error = np.abs(np.diff(result["starts"]) - PERIOD_S) * 1e3  # type: ignore[arg-type]
    rate = (len(error)) / (result["starts"][-1] - result["starts"][0])  # type: ignore[index]
    note = "" if not fifo else ("" if result.get("fifo") else "  (SCHED_FIFO refused: ran at normal priority)")
    return (
        f"{rate:6.1f} Hz  |interval - 2 ms| p50 {np.percentile(error, 50):.3f} ms  "
        f"p99 {np.percentile(error, 99):.3f} ms  max {error.max():.3f} ms{note}"
    )


def compiled_floor(seconds: float, priority: int) -> str:
    """|interval - 2 ms| of bench/loop_floor.c, compiled here (or why not)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return "no C compiler"
    binary = Path(tempfile.mkdtemp(prefix="loop-floor-")) / "loop_floor"
    subprocess.run([compiler, "-O2", "-o", str(binary), str(Path(__file__).with_name("loop_floor.c"))], check=True)
    out = subprocess.run([str(binary), str(seconds), str(priority)], capture_output=True, text=True, check=True)
    if out.stdout.strip() == "refused":
        return "SCHED_FIFO refused"
    p50, p99, worst = (float(v) for v in out.stdout.split())
    return f"         |interval - 2 ms| p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"2 ms loop with the bridge's tick work, {args.seconds:.0f} s per row, {os.cpu_count()} CPUs")
    cases = [
        ("sleep (baseline)", False, False, False, False),
        ("hybrid", True, False, False, False),
        ("hybrid + GIL switch 0.2 ms", True, True, False, False),
        ("hybrid + switch + gc frozen", True, True, True, False),
        ("hybrid + switch + gc + SCHED_FIFO", True, True, True, True),
    ]
    for load in (False, True):
        print("with a GIL-holding executor thread" if load else "loop thread alone")
        for name, hybrid, switch, freeze, fifo in cases:
            print(f"  {name:34s} {run(args.seconds, hybrid, load, switch, freeze, fifo)}", flush=True)
    print("the machine's floor: a compiled C loop, no Python")
    for name, priority in (("clock_nanosleep", 0), ("clock_nanosleep + SCHED_FIFO", 80)):
        print(f"  {name:34s} {compiled_floor(args.seconds, priority)}", flush=True)


if __name__ == "__main__":
    main()
