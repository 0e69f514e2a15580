"""Write rosbag2-compatible MCAP bags: CDR messages with ros2msg schemas.

The MCAP container is written by the ``mcap`` library (Foxglove); the schema text of each
message type comes from the ``rosbags`` type store (ROS 2 Jazzy definitions). A bag is a
folder holding ``<name>_0.mcap`` and, after a clean close, rosbag2's ``metadata.yaml``.
Chunks are flushed as they fill, so a recorder killed with SIGKILL leaves a file readable
up to its last complete chunk.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import yaml
from mcap.writer import CompressionType, Writer
from rosbags.typesys import Stores, get_typestore

_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)


class BagError(OSError):
    """The bag cannot be created or written; the message says where and why."""


@dataclass
class _Channel:
    id: int
    type: str
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
        bag._writer.start(profile="ros2", library="memaug_recorder")
        return bag

    @property
    def mcap_path(self) -> Path:
        return self.folder / f"{self.folder.name}_0.mcap"

    def add_topic(self, topic: str, msg_type: str, qos_yaml: str = "") -> None:
        assert self._writer is not None
        if topic in self._channels:
            return
        if msg_type not in self._schemas:
            definition, _ = _TYPESTORE.generate_msgdef(msg_type)
            self._schemas[msg_type] = self._writer.register_schema(
                name=msg_type, encoding="ros2msg", data=definition.encode()
            )
        channel = self._writer.register_channel(
            topic=topic,
            message_encoding="cdr",
            schema_id=self._schemas[msg_type],
            metadata={"offered_qos_profiles": qos_yaml},
        )
        self._channels[topic] = _Channel(channel, msg_type)

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
        """Write the MCAP summary and index, then rosbag2's metadata.yaml."""
        if self._writer is None or self._file is None:
            return
        self._writer.finish()
        self._file.close()
        self._writer = self._file = None
        start = self._first_ns or 0
        metadata = {
            "rosbag2_bagfile_information": {
                "version": 9,
                "storage_identifier": "mcap",
                "relative_file_paths": [self.mcap_path.name],
                "duration": {"nanoseconds": self._last_ns - start},
                "starting_time": {"nanoseconds_since_epoch": start},
                "message_count": self.message_count,
                "topics_with_message_count": [
                    {
                        "topic_metadata": {
                            "name": topic,
                            "type": c.type,
                            "serialization_format": "cdr",
                            "offered_qos_profiles": "",
                            "type_description_hash": "",
                        },
                        "message_count": c.count,
                    }
                    for topic, c in self._channels.items()
                ],
                "compression_format": "",
                "compression_mode": "",
                "relative_file_paths_info": None,
                "files": [
                    {
                        "path": self.mcap_path.name,
                        "starting_time": {"nanoseconds_since_epoch": start},
                        "duration": {"nanoseconds": self._last_ns - start},
                        "message_count": self.message_count,
                    }
                ],
                "custom_data": {},
                "ros_distro": "jazzy",
            }
        }
        metadata["rosbag2_bagfile_information"].pop("relative_file_paths_info")
        (self.folder / "metadata.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False))
