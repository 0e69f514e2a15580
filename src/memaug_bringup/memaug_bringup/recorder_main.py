"""memaug_recorder's entry point: signal handlers first, then the heavy imports.

Importing rclpy, the bag writer and the message type store takes about a second; a SIGINT in
that time would otherwise end the recorder with a traceback and no bag. Here a signal only
asks the recorder to stop: it still creates its bag and closes it, complete and empty.
"""

from __future__ import annotations

import signal
import sys
import threading


def main(args: list[str] | None = None) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from memaug_bringup.recorder_node import main as record

    return record(args, stop)


if __name__ == "__main__":
    sys.exit(main())
