"""The shared start-up and shutdown of memaug's node executables.

Bad start-up input (a config, parameter or model error: all ValueErrors, or an OSError
such as an unusable bag path) ends the program with status 2 and one line naming it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

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


def spin_main(program: str, factory: Callable[[], Node], args: list[str] | None = None) -> int:
    """init, construct, spin until Ctrl-C or shutdown, clean up: a node's whole main()."""
    rclpy.init(args=args)
    node = create_or_report(program, factory)
    if node is None:
        return 2
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
