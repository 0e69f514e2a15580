"""Write rosbag2 bags (storage "mcap", metadata format 9) as ``ros2 bag record`` does.

The MCAP container is written by the ``mcap`` library (Foxglove); message definitions (ROS 2
text, ``ros2msg``) and type description hashes (RIHS01) come from the ``rosbags`` type store
of the ROS distribution in use, QoS profiles are serialized by rosbags' rosbag2 metadata
module. Like rosbag2's MCAP storage, each channel carries ``offered_qos_profiles`` (the
publishers' real profiles, so latched topics replay latched) and ``topic_type_hash``, and
the file ends with a ``rosbag2`` metadata record holding the serialized bag metadata.

A bag is a folder holding ``<name>_0.mcap`` and, after a clean close, ``metadata.yaml``.
Chunks are flushed as they fill, so a recorder killed with SIGKILL leaves a file readable
up to its last complete chunk, which ``memaug bag repair`` (memaug_bringup.bag_repair)
turns back into a complete bag.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import yaml
from mcap.writer import CompressionType, Writer
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2.metadata import dump_qos_v9
from rosbags.typesys import Stores, get_typestore

#: Major version of rclpy -> the ROS 2 distribution it belongs to, for installs (PyPI wheels)
#: that do not set ROS_DISTRO; a sourced ROS install always does.
RCLPY_DISTROS = {7: "jazzy", 9: "kilted", 10: "rolling"}
TYPESTORES = {"jazzy": Stores.ROS2_JAZZY, "kilted": Stores.ROS2_KILTED}
METADATA_VERSION = 9


def ros_distro() -> str:
    """The ROS 2 distribution in use: $ROS_DISTRO, else the one of the installed rclpy."""
    distro = os.environ.get("ROS_DISTRO", "")
    if distro:
        return distro
    try:
        from importlib.metadata import version

        major = int(version("ros-rclpy").split(".")[0])
    except Exception:  # no rclpy wheel: a ROS install without ROS_DISTRO set
        return "unknown"
    return RCLPY_DISTROS.get(major, "unknown")


_TYPESTORE = get_typestore(TYPESTORES.get(ros_distro(), Stores.LATEST))

#: What rosbag2 records for a topic it saw no publisher of: reliable, volatile, keep last.
DEFAULT_QOS = Qos(
    QosHistory.KEEP_LAST,
    10,
    QosReliability.RELIABLE,
    QosDurability.VOLATILE,
    QosTime(0, 0),
    QosTime(0, 0),
    QosLiveliness.AUTOMATIC,
    QosTime(0, 0),
    False,
)


def qos_yaml(profiles: list[Qos]) -> str:
    """QoS profiles as rosbag2's format 9 writes them into an MCAP channel (a YAML list)."""
    return yaml.safe_dump(dump_qos_v9(profiles), sort_keys=False).strip()


class BagError(OSError):
    """The bag cannot be created or written; the message says where and why."""


@dataclass
class _Channel:
    id: int
    type: str
    qos: list[Qos]
    type_hash: str
    count: int = 0


@dataclass
class BagWriter:
    """Open with ``BagWriter.create(folder)``; ``write`` CDR bytes; ``close`` writes the index."""

    folder: Path
    chunk_size: int = 256 * 1024
    _file: BinaryIO | None = None
    _writer: Writer | None = None
    _channels: dict[str, _Channel] = field(default_factory=dict)
    _schemas: dict[str, int] = field(default_factory=dict)
    _first_ns: int | None = None
    _last_ns: int = 0

    @classmethod
    def create(cls, folder: str | os.PathLike[str], chunk_size: int = 256 * 1024) -> BagWriter:
        """Create the bag folder; it must not exist yet and its parent must be writable."""
        path = Path(folder)
        if path.exists():
            raise BagError(errno.EEXIST, f"bag folder already exists (choose another --record path): {path}")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise BagError(errno.ENOENT, f"bag parent folder does not exist: {parent}")
        if not os.access(parent, os.W_OK):
            raise BagError(errno.EACCES, f"bag parent folder is not writable: {parent}")
        bag = cls(folder=path, chunk_size=chunk_size)
        try:
            path.mkdir()
            bag._file = open(bag.mcap_path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise BagError(exc.errno, f"cannot create bag {path}: {exc.strerror}") from exc
        bag._writer = Writer(bag._file, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        bag._writer.start(profile="ros2", library=f"memaug_recorder (rosbag2 format {METADATA_VERSION})")
        return bag

    @property
    def mcap_path(self) -> Path:
        return self.folder / f"{self.folder.name}_0.mcap"

    def add_topic(self, topic: str, msg_type: str, qos: list[Qos] | None = None, type_hash: str = "") -> None:
        """Register ``topic`` once: its ROS 2 message definition, the QoS profiles its
        publishers offer (rosbag2's default when none was seen) and its type hash (the
        publishers' when known, else the type store's)."""
        assert self._writer is not None
        if topic in self._channels:
            return
        if msg_type not in self._schemas:
            definition, _ = _TYPESTORE.generate_msgdef(msg_type, ros_version=2)
            self._schemas[msg_type] = self._writer.register_schema(
                name=msg_type, encoding="ros2msg", data=definition.encode()
            )
        profiles = qos or [DEFAULT_QOS]
        type_hash = type_hash or _TYPESTORE.hash_rihs01(msg_type)
        channel = self._writer.register_channel(
            topic=topic,
            message_encoding="cdr",
            schema_id=self._schemas[msg_type],
            metadata={"offered_qos_profiles": qos_yaml(profiles), "topic_type_hash": type_hash},
        )
        self._channels[topic] = _Channel(channel, msg_type, profiles, type_hash)

    def has_topic(self, topic: str) -> bool:
        return topic in self._channels

    def write(self, topic: str, cdr: bytes, log_time_ns: int, publish_time_ns: int | None = None) -> None:
        """Append one serialized message. Raises BagError (e.g. disk full) naming the bag."""
        assert self._writer is not None
        channel = self._channels[topic]
        try:
            self._writer.add_message(
                channel_id=channel.id,
                log_time=log_time_ns,
                data=cdr,
                publish_time=publish_time_ns if publish_time_ns is not None else log_time_ns,
                sequence=channel.count,
            )
        except OSError as exc:
            raise BagError(
                exc.errno, f"writing bag {self.mcap_path} failed after {self.message_count} messages: {exc.strerror}"
            ) from exc
        channel.count += 1
        self._first_ns = log_time_ns if self._first_ns is None else min(self._first_ns, log_time_ns)
        self._last_ns = max(self._last_ns, log_time_ns)

    @property
    def message_count(self) -> int:
        return sum(c.count for c in self._channels.values())

    def counts(self) -> dict[str, int]:
        return {topic: c.count for topic, c in self._channels.items()}

    def close(self) -> None:
        """Write the rosbag2 metadata record, the MCAP summary and index, then metadata.yaml."""
        if self._writer is None or self._file is None:
            return
        information = self.metadata()
        serialized = yaml.safe_dump(information, sort_keys=False)
        self._writer.add_metadata("rosbag2", {"serialized_metadata": serialized, "ROS_DISTRO": ros_distro()})
        self._writer.finish()
        self._file.close()
        self._writer = self._file = None
        text = yaml.safe_dump({"rosbag2_bagfile_information": information}, sort_keys=False)
        tmp = self.folder / "metadata.yaml.tmp"
        tmp.write_text(text)
        tmp.replace(self.folder / "metadata.yaml")  # never a half-written metadata.yaml

    def metadata(self) -> dict:
        """rosbag2_bagfile_information, format 9, for what has been written so far."""
        start = self._first_ns or 0
        duration = {"nanoseconds": self._last_ns - start}
        return {
            "version": METADATA_VERSION,
            "storage_identifier": "mcap",
            "duration": duration,
            "starting_time": {"nanoseconds_since_epoch": start},
            "message_count": self.message_count,
            "topics_with_message_count": [
                {
                    "topic_metadata": {
                        "name": topic,
                        "type": c.type,
                        "serialization_format": "cdr",
                        "offered_qos_profiles": dump_qos_v9(c.qos),
                        "type_description_hash": c.type_hash,
                    },
                    "message_count": c.count,
                }
                for topic, c in self._channels.items()
            ],
            "compression_format": "",
            "compression_mode": "",
            "relative_file_paths": [self.mcap_path.name],
            "files": [
                {
                    "path": self.mcap_path.name,
                    "starting_time": {"nanoseconds_since_epoch": start},
                    "duration": duration,
                    "message_count": self.message_count,
                }
            ],
            "custom_data": {},
            "ros_distro": ros_distro(),
        }
