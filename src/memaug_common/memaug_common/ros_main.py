"""The shared start-up and shutdown of memaug's node executables.

Bad start-up input (a config, parameter or model error: all ValueErrors, or an OSError
such as an unusable bag path) ends the program with status 2 and one line naming it.

SIGINT and SIGTERM only ask a node to stop (``stop_on_signals``): rclpy's own handlers
would shut the context down under the node while a callback or a thread still publishes
("publisher's context is invalid", "Unable to convert call argument" out of rclpy.spin),
and a second signal (launch forwards one) would interrupt the clean-up. The node stops its
threads, is destroyed, and only then is rclpy shut down: exit 0, no traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import rclpy
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

NodeT = TypeVar("NodeT", bound=Node)
STARTUP_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError)


def create_or_report(program: str, factory: Callable[[], NodeT]) -> NodeT | None:
    """Construct the node (rclpy already initialised); on bad input print why and shut rclpy down."""
    try:
        return factory()
    except STARTUP_ERRORS as exc:
        print(f"{program}: cannot start: {exc}", file=sys.stderr)
        rclpy.try_shutdown()
        return None


def stop_on_signals() -> threading.Event:
    """SIGINT and SIGTERM from now on set the returned event and do nothing else."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def spin_main(
    program: str,
    factory: Callable[[], NodeT],
    args: list[str] | None = None,
    *,
    finished: Callable[[NodeT], bool] = lambda _node: False,
    on_stop: Callable[[NodeT], None] = lambda _node: None,
    make_executor: Callable[[NodeT], Executor] = lambda _node: SingleThreadedExecutor(),
) -> int:
    """A node's whole main(): init, construct, spin until a signal, ``finished(node)`` or an
    external shutdown; then ``on_stop(node)`` (stop its threads), destroy it, shut rclpy down.
    ``make_executor(node)`` chooses the executor once the node (and its parameters) exist."""
    stop = stop_on_signals()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = create_or_report(program, factory)
    if node is None:
        return 2
    # One executor for the node's life (rclpy.spin_once(node) adds and removes the node on
    # every call).
    executor = make_executor(node)
    executor.add_node(node)
    try:
        while rclpy.ok() and not stop.is_set() and not finished(node):
            executor.spin_once(timeout_sec=0.05)
    except ExternalShutdownException:
        pass
    finally:
        on_stop(node)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
