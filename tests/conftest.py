"""Shared fixtures: a unique ROS domain per test, an in-process rclpy peer, node processes."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Keep DDS on this machine for everything this test session starts, and its own processes.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")

# One torch thread: several test processes share 2 cores, and OpenMP spin-waits across
# oversubscribed threads can make a small update take minutes.
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is only needed by the training and export tests
    pass

_DOMAINS = itertools.count((os.getpid() % 40) * 2 + 1)


@pytest.fixture
def domain_id() -> int:
    """A ROS_DOMAIN_ID no other test in this session uses (1..100)."""
    return (next(_DOMAINS) - 1) % 100 + 1


@dataclass
class RosPeer:
    """The test's own rclpy node in its own context and domain."""

    context: Any
    node: Any
    executor: Any
    domain_id: int
    received: dict[str, list[Any]] = field(default_factory=dict)

    def spin(self, seconds: float = 0.01) -> None:
        self.executor.spin_once(timeout_sec=seconds)

    def subscribe(self, msg_type: Any, topic: str, qos: Any = 50) -> list[Any]:
        """Record every message on ``topic`` into the returned list."""
        inbox: list[Any] = self.received.setdefault(topic, [])
        self.node.create_subscription(msg_type, topic, inbox.append, qos)
        return inbox

    def wait_for(self, condition: Any, timeout_s: float, what: str) -> Any:
        from memaug_common.testing import wait_until

        return wait_until(condition, timeout_s, what, poll=self.spin)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.spin(0.005)


@pytest.fixture
def ros(domain_id: int) -> Iterator[RosPeer]:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    node = rclpy.create_node("memaug_test_peer", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        yield RosPeer(context=context, node=node, executor=executor, domain_id=domain_id)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)


@pytest.fixture
def start_node(domain_id: int, tmp_path: Path) -> Iterator[Any]:
    """Start commands as processes in the test's domain; all are stopped at teardown."""
    from memaug_common.testing import NodeProcess, local_dds_env

    started: list[NodeProcess] = []

    def start(*command: str) -> NodeProcess:
        log = tmp_path / f"{Path(command[0]).name}-{len(started)}.log"
        process = NodeProcess(command, local_dds_env(domain_id), log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


# --- small exported policies (the real exporter, fixed seeds): tests never need a walker ----
ExportFn = Callable[..., tuple[Path, Any]]


@pytest.fixture(scope="session")
def export_policy(tmp_path_factory: pytest.TempPathFactory) -> ExportFn:
    """export_policy(cell="gru", hidden=32, seed=0, metadata_overrides=None, estimator_hidden=0)
    -> (path, torch model)."""
    import torch

    from memaug_common.description import load_robot_description
    from memaug_policy.observation import ObservationLayout
    from memaug_train.export import build_metadata, export_onnx
    from memaug_train.networks import ActorCritic, NetConfig
    from memaug_train.tasks import CommandRanges

    description = load_robot_description("go2")
    layout = ObservationLayout.for_joints(description.num_joints)
    folder = tmp_path_factory.mktemp("policies")

    def export(
        cell: str = "gru",
        hidden: int = 32,
        seed: int = 0,
        metadata_overrides: dict[str, str] | None = None,
        estimator_hidden: int = 0,
    ) -> tuple[Path, Any]:
        torch.manual_seed(seed)
        net = NetConfig(
            cell=cell,  # type: ignore[arg-type]
            hidden=hidden,
            head=(64,),
            velocity_estimator=estimator_hidden > 0,
            estimator_hidden=estimator_hidden,
        )
        model = ActorCritic(layout.dim, description.num_joints, net)
        metadata = build_metadata(description, layout, model, 0.25, CommandRanges(), {"method": "test", "seed": seed})
        metadata.update(metadata_overrides or {})
        path = folder / f"{cell}_{hidden}_{estimator_hidden}_{seed}_{len(list(folder.iterdir()))}.onnx"
        export_onnx(model, path, metadata)
        return path, model.eval()

    return export


@pytest.fixture(scope="session")
def gru_policy(export_policy: ExportFn) -> Path:
    return export_policy("gru")[0]


@pytest.fixture
def recorded_summary(start_node, tmp_path: Path) -> Callable[[], dict[str, Any]]:
    """Starts memaug_recorder on the test's domain now; the returned function stops it (SIGINT,
    as Ctrl-C) and gives the run summary of its bag, as `memaug` prints it after a run."""
    from memaug_bringup.bag_reader import read_run
    from memaug_bringup.summary import summarize

    bag = tmp_path / "recorded"
    recorder = start_node("memaug_recorder", "--ros-args", "-p", f"output:={bag}")

    def stop_and_summarize() -> dict[str, Any]:
        # What the test just saw may still be on its way into the recorder (another process,
        # a loaded machine): give it a moment before the stop.
        time.sleep(1.0)
        assert recorder.stop() == 0, recorder.output()
        return summarize(read_run(bag))

    return stop_and_summarize
