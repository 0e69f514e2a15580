"""Bags as rosbag2 writes them, proven by readers other than our writer: mcap_ros2 decodes
every message, rosbags parses the format-9 metadata, the MCAP carries rosbag2's records."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mcap.reader import make_reader
from mcap_ros2.reader import read_ros2_messages
from rclpy.serialization import serialize_message
from rosbags.interfaces import QosDurability
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import JointState
from std_msgs.msg import String

from memaug_bringup.bag import BagError, BagWriter, ros_distro
from memaug_bringup.bag_repair import needs_repair, repair
from memaug_bringup.recorder_node import _bag_qos
from memaug_common.ros_qos import LATCHED, STREAM


def joint_state(i: int) -> bytes:
    msg = JointState(name=["a", "b"], position=[0.1 * i, 0.2], velocity=[0.0, 0.0], effort=[1.0, -1.0])
    msg.header.stamp.sec, msg.header.stamp.nanosec = i, 500
    return serialize_message(msg)


def write_bag(folder: Path, count: int, close: bool = True, chunk_size: int = 256 * 1024) -> BagWriter:
    bag = BagWriter.create(folder, chunk_size=chunk_size)
    bag.add_topic("/joint_states", "sensor_msgs/msg/JointState", [_bag_qos(STREAM)])
    bag.add_topic("/policy/mode", "std_msgs/msg/String", [_bag_qos(LATCHED)])
    for i in range(count):
        bag.write("/joint_states", joint_state(i), 1_000_000_000 + i * 2_000_000)
        if i % 50 == 0:
            bag.write("/policy/mode", serialize_message(String(data=f"mode {i}")), 1_000_000_000 + i * 2_000_000)
    if close:
        bag.close()
    return bag


def test_mcap_ros2_decodes_every_message_with_ros2_definitions(tmp_path: Path) -> None:
    write_bag(tmp_path / "bag", 200)
    decoded = list(read_ros2_messages(str(tmp_path / "bag" / "bag_0.mcap")))
    assert len(decoded) == 204
    states = [m.ros_msg for m in decoded if m.channel.topic == "/joint_states"]
    assert states[7].header.stamp.sec == 7 and list(states[7].name) == ["a", "b"]
    assert [m.ros_msg.data for m in decoded if m.channel.topic == "/policy/mode"][-1] == "mode 150"
    assert all(m.schema.encoding == "ros2msg" and "MSG: std_msgs/Header" in m.schema.data.decode() for m in decoded[:1])
    assert "builtin_interfaces/Time stamp" in decoded[0].schema.data.decode()  # ROS 2 text, not ROS 1's "time"


def test_metadata_is_format_9_with_qos_lists_and_type_hashes(tmp_path: Path, domain_id: int) -> None:
    write_bag(tmp_path / "bag", 10)
    info = yaml.safe_load((tmp_path / "bag" / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert info["version"] == 9 and info["storage_identifier"] == "mcap" and info["ros_distro"] == ros_distro()
    assert ros_distro() != "unknown"
    mode = next(
        t["topic_metadata"] for t in info["topics_with_message_count"] if t["topic_metadata"]["name"] == "/policy/mode"
    )
    assert (
        isinstance(mode["offered_qos_profiles"], list)
        and mode["offered_qos_profiles"][0]["durability"] == "transient_local"
    )
    assert mode["type_description_hash"] == probe_hash("std_msgs/msg/String", domain_id)
    # rosbags parses the metadata strictly (format version, every key) and reads the messages.
    with Reader(tmp_path / "bag") as reader:
        assert reader.message_count == 11  # 10 states, 1 mode
        connections = {c.topic: c for c in reader.connections}
        assert connections["/policy/mode"].ext.offered_qos_profiles[0].durability == QosDurability.TRANSIENT_LOCAL
        assert connections["/joint_states"].digest == probe_hash("sensor_msgs/msg/JointState", domain_id)


def probe_hash(msg_type: str, domain_id: int) -> str:
    """The type hash a live rclpy publisher of ``msg_type`` offers (no DDS traffic leaves
    the process: the graph query answers from the node's own publisher)."""
    import rclpy

    from memaug_bringup.recorder_node import message_class

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    try:
        node = rclpy.create_node("hash_probe", context=context)
        node.create_publisher(message_class(msg_type), "/probe", 1)
        return str(node.get_publishers_info_by_topic("/probe")[0].topic_type_hash)
    finally:
        rclpy.shutdown(context=context)


def test_the_mcap_carries_rosbag2_channel_metadata_and_its_metadata_record(tmp_path: Path) -> None:
    write_bag(tmp_path / "bag", 10)
    with (tmp_path / "bag" / "bag_0.mcap").open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None
        channel = next(c for c in summary.channels.values() if c.topic == "/policy/mode")
        assert channel.metadata["topic_type_hash"].startswith("RIHS01_")
        assert yaml.safe_load(channel.metadata["offered_qos_profiles"])[0]["durability"] == "transient_local"
        records = {m.name: m.metadata for m in reader.iter_metadata()}
    assert records["rosbag2"]["ROS_DISTRO"] == ros_distro()
    serialized = yaml.safe_load(records["rosbag2"]["serialized_metadata"])
    on_disk = yaml.safe_load((tmp_path / "bag" / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert serialized == on_disk


def test_an_unfinished_bag_is_repaired_so_seeking_readers_open_it(tmp_path: Path) -> None:
    folder = tmp_path / "bag"
    bag = write_bag(folder, 3000, close=False, chunk_size=4096)
    assert bag._file is not None
    bag._file.flush()  # what a SIGKILL leaves: flushed chunks, no summary, no metadata.yaml
    assert needs_repair(folder)
    with pytest.raises(Exception):  # noqa: B017 - rosbags refuses it, whatever its error type
        Reader(folder).open()
    result = repair(folder)
    assert 2800 < result.messages <= 3060 and result.unfinished.exists()
    with Reader(folder) as reader:
        assert reader.message_count == result.messages
        times = [t for _, t, _ in reader.messages()]
        assert times == sorted(times) and times[0] == 1_000_000_000
    assert len(list(read_ros2_messages(str(folder / "bag_0.mcap")))) == result.messages
    with pytest.raises(BagError, match="nothing to repair"):
        repair(folder)
    with pytest.raises(BagError, match="no bag folder"):
        repair(tmp_path / "missing")
