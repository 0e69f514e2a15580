"""Bounded waits on DDS matching, shared by the nodes that must not start before their listeners."""

from __future__ import annotations

import time
from collections.abc import Callable

from rclpy.publisher import Publisher


def wait_for_subscribers(
    publisher: Publisher, count: int, timeout_s: float, stopped: Callable[[], bool] = lambda: False
) -> bool:
    """Block until ``count`` subscriptions match ``publisher``, for at most ``timeout_s`` (wall);
    True when they did, False on the timeout or when ``stopped()`` turns true. Polls every
    10 ms: matching is done by DDS's own threads, so no executor needs to spin meanwhile."""
    deadline = time.monotonic() + timeout_s
    while publisher.get_subscription_count() < count:
        if stopped() or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
