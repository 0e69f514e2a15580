"""memaug_recorder: record stack topics to a rosbag2 bag (MCAP storage, metadata format 9).

Raw (serialized) subscriptions: messages go to disk exactly as they came off the wire,
with no deserialization cost. A topic's channel is created when its first message arrives,
with the QoS profiles and type hash its publishers offer (as ``ros2 bag record`` does);
topics that never published are listed at the end with rosbag2's default profile. Log
times are the system clock, or /clock with log_clock:=sim (lockstep runs), so a bag has one
clock. SIGINT and SIGTERM, at any moment, end the recording with a closed bag. Thin node:
parameters, subscriptions, diagnostics; the bag format is memaug_bringup.bag.
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
import time
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.experimental import EventsExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosgraph_msgs.msg import Clock

from memaug_bringup.bag import BagError, BagWriter
from memaug_bringup.topics import STACK_TOPICS, topic_by_name
from memaug_common.cdr import leading_time_ns
from memaug_common.params import ParameterError, ParamSpec
from memaug_common.ros_main import create_or_report
from memaug_common.ros_params import declare_parameters
from memaug_common.ros_qos import STREAM

RECORDER_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("output", "", "Bag folder to create (must not exist)."),
    ParamSpec("topics", [t.name for t in STACK_TOPICS], "Topics to record (names from the stack's topic contract)."),
    ParamSpec("queue_depth", 4000, "Subscription queue depth per topic.", min=10, max=100000),
    ParamSpec("diagnostics_period_s", 1.0, "Period of the recorder's /diagnostics status, s.", min=0.1, max=60.0),
    ParamSpec(
        "log_clock",
        "system",
        "Clock of the bag's log times: 'system' (wall clock) or 'sim' (the /clock topic of a lockstep sim, "
        "so log times and header stamps share one clock, as rosbag2 records with use_sim_time).",
        choices=("system", "sim"),
    ),
)


def message_class(type_name: str) -> Any:
    """'sensor_msgs/msg/JointState' -> the rclpy message class."""
    package, _, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


class RecorderNode(Node):
    def __init__(self) -> None:
        super().__init__("memaug_recorder")
        p = declare_parameters(self, RECORDER_PARAMETERS)
        if not p["output"]:
            raise ParameterError("parameter output: the bag folder must be given")
        specs = [topic_by_name(name) for name in p["topics"]]
        self.bag = BagWriter.create(p["output"])
        self.failed: str | None = None
        # In sim time there is no time before the first /clock: what arrives before it waits
        # here and takes the first sim time (a latched mode published at start-up).
        self._before_clock: list[tuple[str, bytes]] = []
        self._sim_ns = 0
        if p["log_clock"] == "sim":
            # Raw, parsed by hand (two fields): rclpy's TimeSource costs a Python clock update per
            # /clock message, and at the lockstep sim's rate the recorder then fell behind.
            self.create_subscription(Clock, "/clock", self._on_clock, STREAM, raw=True)
            self._now = lambda: self._sim_ns
        else:
            self._now = time.time_ns
        self.specs = specs
        for spec in specs:
            qos = QoSProfile(
                depth=p["queue_depth"],
                history=HistoryPolicy.KEEP_LAST,
                reliability=ReliabilityPolicy.RELIABLE,
                durability=DurabilityPolicy.TRANSIENT_LOCAL if spec.latched else DurabilityPolicy.VOLATILE,
            )
            self.create_subscription(message_class(spec.type), spec.name, self._writer_for(spec.name), qos, raw=True)
        self.pub_diag = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self.create_timer(p["diagnostics_period_s"], self._publish_status)
        self.get_logger().info(f"recording {len(specs)} topics to {self.bag.folder}")

    def _on_clock(self, data: bytes) -> None:
        self._sim_ns = leading_time_ns(data)

    def _writer_for(self, topic: str) -> Any:
        msg_type = topic_by_name(topic).type

        def write(data: bytes) -> None:
            if self.failed:
                return
            if not self.bag.has_topic(topic):
                self._add_topic(topic, msg_type)
            now = self._now()
            if now == 0:
                self._before_clock.append((topic, data))
                return
            try:
                while self._before_clock:
                    self.bag.write(*self._before_clock.pop(0), now)
                self.bag.write(topic, data, now)
            except BagError as exc:
                self.failed = str(exc)
                self.get_logger().error(f"recording stopped: {exc}")

        return write

    def _add_topic(self, topic: str, msg_type: str) -> None:
        """The topic's channel, with what its publishers offer now."""
        publishers = self.get_publishers_info_by_topic(topic)
        hashes = {str(p.topic_type_hash) for p in publishers}
        self.bag.add_topic(
            topic,
            msg_type,
            [_bag_qos(p.qos_profile) for p in publishers],
            hashes.pop() if len(hashes) == 1 else "",
        )

    def flush_before_clock(self) -> None:
        """Messages still waiting for a first /clock (none came): written at time 0."""
        for topic, data in self._before_clock:
            self.bag.write(topic, data, 0)
        self._before_clock.clear()

    def add_silent_topics(self) -> None:
        """List the topics no message arrived on, as rosbag2 lists topics it subscribed to."""
        for spec in self.specs:
            if not self.bag.has_topic(spec.name):
                self.bag.add_topic(spec.name, spec.type)

    def _publish_status(self) -> None:
        level = DiagnosticStatus.ERROR if self.failed else DiagnosticStatus.OK
        values = [KeyValue(key=f"count {t}", value=str(c)) for t, c in self.bag.counts().items()]
        status = DiagnosticStatus(
            level=level,
            name="memaug_recorder: bag",
            message=self.failed or f"{self.bag.message_count} messages in {self.bag.folder}",
            values=values,
        )
        self.pub_diag.publish(DiagnosticArray(status=[status]))


def stop_on_signals() -> threading.Event:
    """SIGINT and SIGTERM only set the returned event: nothing may interrupt the bag's close
    (launch forwards a second SIGINT, docker sends SIGTERM), or metadata.yaml would be lost."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _duration(d: Any) -> QosTime:
    """An rclpy Duration as rosbag2 writes it (infinite: the largest rmw_time_t)."""
    sec, nsec = divmod(d.nanoseconds, 1_000_000_000)
    return QosTime(sec, nsec)


def _bag_qos(profile: QoSProfile) -> Qos:
    """A publisher's QoS profile as the bag records it."""
    return Qos(
        QosHistory(int(profile.history)),
        profile.depth,
        QosReliability(int(profile.reliability)),
        QosDurability(int(profile.durability)),
        _duration(profile.deadline),
        _duration(profile.lifespan),
        QosLiveliness(int(profile.liveliness)),
        _duration(profile.liveliness_lease_duration),
        profile.avoid_ros_namespace_conventions,
    )


def main(args: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """Record until ``stop`` is set (by SIGINT or SIGTERM; memaug_bringup.recorder_main sets
    the handlers before this module's imports, so a signal during start-up is one too)."""
    if stop is None:
        stop = stop_on_signals()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = create_or_report("memaug_recorder", RecorderNode)
    if node is None:
        rclpy.try_shutdown()
        return 2
    code = 0
    # The events executor dispatches callbacks without rebuilding a wait set per message:
    # several times the throughput of the default executor, which a recorder needs.
    executor = EventsExecutor()
    executor.add_node(node)
    try:
        while rclpy.ok() and not node.failed and not stop.is_set():
            executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        if node.failed:
            print(f"memaug_recorder: {node.failed}", file=sys.stderr)
            code = 1
        executor.shutdown()
        node.flush_before_clock()
        node.add_silent_topics()
        node.bag.close()
        print(
            f"memaug_recorder: {node.bag.message_count} messages in {node.bag.folder}: "
            + ", ".join(f"{t} {c}" for t, c in node.bag.counts().items())
        )
        node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
