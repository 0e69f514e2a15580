"""The bounded wait for subscribers: matched, timed out, or stopped."""

from __future__ import annotations

from std_msgs.msg import String

from memaug_common.ros_wait import wait_for_subscribers


def test_it_returns_once_matched_and_gives_up_on_timeout_or_stop(ros) -> None:
    publisher = ros.node.create_publisher(String, "wait_probe", 10)
    assert wait_for_subscribers(publisher, 0, 0.1)
    assert not wait_for_subscribers(publisher, 1, 0.2)  # nobody listens
    assert not wait_for_subscribers(publisher, 1, 30.0, stopped=lambda: True)
    ros.subscribe(String, "wait_probe")
    assert wait_for_subscribers(publisher, 1, 20.0)
