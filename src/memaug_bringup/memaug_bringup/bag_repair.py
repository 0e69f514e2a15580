"""Repair a bag whose recorder died: rebuild its MCAP index and metadata.yaml.

A recorder killed without a chance to close (SIGKILL, power loss) leaves an MCAP file with
every chunk it flushed but no summary, no index and no metadata.yaml: stream readers get
the messages, seeking readers (rosbags, ``ros2 bag info``) do not. ``repair`` reads what the
mcap library's stream reader can, and writes it again through memaug's bag writer
(memaug_bringup.bag): same schemas, channels (QoS and type hashes), log times and bytes,
indexed and closed. The unfinished file stays beside it, renamed ``*.unfinished``: nothing
is lost.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from rosbags.rosbag2.metadata import parse_qos

from memaug_bringup.bag import BagError, BagWriter


@dataclass(frozen=True)
class Repair:
    messages: int  # recovered and written again
    topics: int
    stopped_at: str  # why the stream ended: "end of file" or the reader's error
    unfinished: Path  # the original file, kept


def needs_repair(folder: Path) -> bool:
    """A bag folder with an MCAP file but no metadata.yaml: its recorder never closed it."""
    return folder.is_dir() and not (folder / "metadata.yaml").exists() and any(folder.glob("*.mcap"))


def repair(folder: Path) -> Repair:
    """Rebuild ``folder``'s bag in place. Raises BagError naming the problem (no bag there,
    already complete, more than one file, nothing readable)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BagError(2, f"no bag folder at {folder}")
    if (folder / "metadata.yaml").exists():
        raise BagError(17, f"{folder} is complete (it has metadata.yaml); nothing to repair")
    files = sorted(folder.glob("*.mcap"))
    if len(files) != 1:
        raise BagError(2, f"{folder}: expected one .mcap file to repair, found {[f.name for f in files]}")
    original = files[0]
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        rebuilt = BagWriter.create(Path(scratch) / folder.name)
        messages, topics, stopped_at = _copy(original, rebuilt)
        rebuilt.close()
        if messages == 0:
            raise BagError(5, f"{original}: no message could be read ({stopped_at})")
        unfinished = original.with_name(original.name + ".unfinished")
        original.rename(unfinished)
        shutil.move(str(rebuilt.mcap_path), folder / rebuilt.mcap_path.name)
        shutil.move(str(rebuilt.folder / "metadata.yaml"), folder / "metadata.yaml")
    return Repair(messages, topics, stopped_at, unfinished)


def _copy(source: Path, bag: BagWriter) -> tuple[int, int, str]:
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    messages = 0
    stopped_at = "end of file"
    with source.open("rb") as stream:
        try:
            for record in StreamReader(stream, skip_magic=False).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    channels[record.id] = record
                elif isinstance(record, Message) and record.channel_id in channels:
                    channel = channels[record.channel_id]
                    if not bag.has_topic(channel.topic):
                        qos = channel.metadata.get("offered_qos_profiles", "")
                        bag.add_topic(
                            channel.topic,
                            schemas[channel.schema_id].name,
                            parse_qos(qos) if qos else None,
                            channel.metadata.get("topic_type_hash", ""),
                        )
                    bag.write(channel.topic, record.data, record.log_time, record.publish_time)
                    messages += 1
        except (McapError, EOFError, ValueError) as exc:  # the file breaks off mid-record
            stopped_at = f"{type(exc).__name__}: {exc}"
    return messages, len(channels), stopped_at
