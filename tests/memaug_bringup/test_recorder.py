"""The recorder: a killed recorder leaves a readable bag; bad bag paths and full disks are errors."""

from __future__ import annotations

import random
import resource
import signal
import subprocess
import time
from pathlib import Path

import pytest
from mcap.exceptions import McapError
from mcap.records import Message
from mcap.stream_reader import StreamReader
from rosbags.rosbag2 import Reader

from memaug_bringup.bag import BagError, BagWriter
from memaug_common.testing import local_dds_env, resolve_executable


def messages_readable(mcap_path: Path) -> int:
    """Messages an MCAP stream reader gets from the file before it ends or breaks off."""
    count = 0
    with mcap_path.open("rb") as stream:
        try:
            for record in StreamReader(stream, skip_magic=False).records:
                count += isinstance(record, Message)
        except (McapError, EOFError, ValueError):
            pass
    return count


def test_recorder_killed_with_sigkill_leaves_a_readable_file(start_node, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    recorder = start_node("memaug_recorder", "--ros-args", "-p", f"output:={bag}")
    start_node("memaug_sim_node", "--ros-args", "-p", "mode:=realtime")
    time.sleep(6.0)
    recorder.kill()
    assert not (bag / "metadata.yaml").exists()  # no clean close
    readable = messages_readable(bag / "bag_0.mcap")
    assert readable > 500
    # memaug report repairs it first and says so; then seeking readers open it.
    report = start_node("memaug", "report", str(bag))
    assert report.wait(120) == 0, report.output()
    assert "was never closed" in report.output() and "repaired" in report.output()
    with Reader(bag) as reader:
        assert reader.message_count == readable
    assert (bag / "bag_0.mcap.unfinished").is_file()


def test_recorder_stops_cleanly_on_sigint_or_sigterm_at_any_moment(start_node, tmp_path: Path) -> None:
    """Signals during start-up, and two in a row (launch forwards a second SIGINT), still
    leave a closed bag with metadata.yaml and exit 0."""
    rng = random.Random(4)
    for trial in range(6):
        bag = tmp_path / f"bag{trial}"
        recorder = start_node("memaug_recorder", "--ros-args", "-p", f"output:={bag}")
        time.sleep(rng.uniform(0.0, 1.5))
        sig = signal.SIGINT if trial % 2 == 0 else signal.SIGTERM
        recorder.process.send_signal(sig)
        if trial % 3 == 0:
            time.sleep(0.01)
            recorder.process.send_signal(sig)
        assert recorder.wait(30) == 0, recorder.output()
        assert "Traceback" not in recorder.output()
        assert (bag / "metadata.yaml").is_file(), f"trial {trial}: {recorder.output()}"


def test_existing_folder_and_impossible_paths_are_named_errors(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(BagError, match="already exists"):
        BagWriter.create(tmp_path / "taken")
    with pytest.raises(BagError, match="parent folder does not exist"):
        BagWriter.create(tmp_path / "missing" / "bag")
    with pytest.raises(BagError, match="cannot create bag /proc/memaug"):
        BagWriter.create("/proc/memaug")


def test_recorder_with_a_full_disk_stops_with_an_error_naming_the_loss(domain_id: int, tmp_path: Path) -> None:
    """A file-size limit makes writes fail (EFBIG) like a full disk does (ENOSPC)."""

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    bag = tmp_path / "bag"
    env = local_dds_env(domain_id)
    sim = subprocess.Popen(
        [resolve_executable("memaug_sim_node"), "--ros-args", "-p", "mode:=realtime"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        recorder = subprocess.run(
            [resolve_executable("memaug_recorder"), "--ros-args", "-p", f"output:={bag}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_file_size,
        )
    finally:
        sim.send_signal(signal.SIGINT)
        sim.wait(10)
    assert recorder.returncode == 1
    assert "writing bag" in recorder.stderr and "failed after" in recorder.stderr
