"""memaug_recorder: record stack topics to a rosbag2-compatible MCAP bag.

Raw (serialized) subscriptions: messages go to disk exactly as they came off the wire,
with no deserialization cost. Thin node: parameters, subscriptions, diagnostics; the bag
format is memaug_bringup.bag.
"""

from __future__ import annotations

import importlib
import signal
import sys
import time
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.experimental import EventsExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from memaug_bringup.bag import BagError, BagWriter
from memaug_bringup.topics import STACK_TOPICS, topic_by_name
from memaug_common.params import ParameterError, ParamSpec
from memaug_common.ros_main import create_or_report
from memaug_common.ros_params import declare_parameters

RECORDER_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("output", "", "Bag folder to create (must not exist)."),
    ParamSpec("topics", [t.name for t in STACK_TOPICS], "Topics to record (names from the stack's topic contract)."),
    ParamSpec("queue_depth", 4000, "Subscription queue depth per topic.", min=10, max=100000),
    ParamSpec("diagnostics_period_s", 1.0, "Period of the recorder's /diagnostics status, s.", min=0.1, max=60.0),
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
        for spec in specs:
            self.bag.add_topic(spec.name, spec.type)
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

    def _writer_for(self, topic: str) -> Any:
        def write(data: bytes) -> None:
            if self.failed:
                return
            try:
                self.bag.write(topic, data, time.time_ns())
            except BagError as exc:
                self.failed = str(exc)
                self.get_logger().error(f"recording stopped: {exc}")

        return write

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


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    node = create_or_report("memaug_recorder", RecorderNode)
    if node is None:
        return 2
    code = 0
    # The events executor dispatches callbacks without rebuilding a wait set per message:
    # several times the throughput of the default executor, which a recorder needs.
    executor = EventsExecutor()
    executor.add_node(node)
    try:
        while rclpy.ok() and not node.failed:
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node.failed:
            print(f"memaug_recorder: {node.failed}", file=sys.stderr)
            code = 1
        executor.shutdown()
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
