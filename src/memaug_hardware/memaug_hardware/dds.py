"""Cyclone DDS participants and the Go2 low-level channels (rt/lowstate, rt/lowcmd).

Message types and CRC come from Unitree's Python SDK (unitree_sdk2py: LowCmd_, LowState_);
transport is cyclonedds-python directly rather than the SDK's ChannelFactory singleton, so
one process can open a participant per domain and choose its interface (tests: loopback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cyclonedds._clayer import ddspy_write
from cyclonedds.core import DDSException
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.qos import Policy, Qos
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_

LOWSTATE_TOPIC = "rt/lowstate"
LOWCMD_TOPIC = "rt/lowcmd"

_CONFIG = """<?xml version="1.0" encoding="UTF-8" ?>
<CycloneDDS><Domain Id="any"><General><Interfaces>
  <NetworkInterface name="{interface}" priority="default" multicast="default"/>
</Interfaces></General></Domain></CycloneDDS>"""

#: Latest-value streams: a late sample is worthless, so best effort and depth 1, as the SDK does.
_STREAM_QOS = Qos(Policy.Reliability.BestEffort, Policy.History.KeepLast(1))
#: Readers keep what arrived since their last take (up to 64 frames): the bridge's safety
#: judges every rt/lowstate (an overspeed is 10 consecutive samples; a frame overwritten
#: before the loop's tick would go unseen), the preflight counts the true rate, and the
#: emulator executes the newest valid rt/lowcmd, as the robot does, while counting every frame
#: that reached it: the command rate on the wire (bench/bench_robot_loop.py).
_ARRIVALS_QOS = Qos(Policy.Reliability.BestEffort, Policy.History.KeepLast(64))

_domains: dict[int, Domain | None] = {}
#: The domain Unitree's SDK (its ChannelFactory, a per-process singleton) works on, if any.
_sdk_domain: int | None = None


def participant(domain_id: int, interface: str) -> DomainParticipant:
    """A participant on ``domain_id`` bound to the named network interface (e.g. "lo", "eth0").

    The first domain a process opens is opened through the SDK's ChannelFactory, so that the
    SDK's own RPC clients and servers (the motion switcher) share it; a process may open more
    domains (tests), which the SDK then does not see.
    """
    global _sdk_domain
    if domain_id not in _domains:
        from unitree_sdk2py.core.channel import ChannelFactory

        if _sdk_domain is None and ChannelFactory().Init(domain_id, interface):
            _sdk_domain, _domains[domain_id] = domain_id, None  # the SDK holds the Domain
        else:
            _domains[domain_id] = Domain(domain_id, _CONFIG.format(interface=interface))
    return DomainParticipant(domain_id)


def sdk_domain() -> int | None:
    """The domain the SDK's clients and servers talk on (None before participant())."""
    return _sdk_domain


@dataclass
class Go2Endpoints:
    """Reader and writer of one side: the robot side reads lowcmd and writes lowstate."""

    reader: DataReader
    writer: DataWriter | None  # None: a reader only (the preflight)

    def take_latest(self) -> Any | None:
        samples = self.reader.take(N=16)
        valid = [s for s in samples if isinstance(s, LowCmd_ | LowState_)]
        return valid[-1] if valid else None

    def take_all(self) -> list[Any]:
        return [s for s in self.reader.take(N=64) if isinstance(s, LowCmd_ | LowState_)]

    def wait(self, timeout_s: float) -> bool:
        """Block until a sample may be available or ``timeout_s`` elapses."""
        from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState, WaitSet

        condition = ReadCondition(self.reader, SampleState.Any | ViewState.Any | InstanceState.Any)
        dp = self.reader.participant
        assert dp is not None
        waitset = WaitSet(dp)
        waitset.attach(condition)
        try:
            return waitset.wait(duration(seconds=timeout_s)) > 0
        finally:
            waitset.detach(condition)


def controller_endpoints(dp: DomainParticipant, write: bool = True) -> Go2Endpoints:
    """The controller's side (our bridge): read rt/lowstate, write rt/lowcmd. ``write=False``
    (the preflight): no rt/lowcmd writer exists, so nothing can reach the motors."""
    return Go2Endpoints(
        DataReader(dp, Topic(dp, LOWSTATE_TOPIC, LowState_), qos=_ARRIVALS_QOS),
        DataWriter(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_), qos=_STREAM_QOS) if write else None,
    )


def robot_endpoints(dp: DomainParticipant) -> Go2Endpoints:
    """The robot's side (the emulator): read rt/lowcmd, write rt/lowstate."""
    return Go2Endpoints(
        DataReader(dp, Topic(dp, LOWCMD_TOPIC, LowCmd_), qos=_ARRIVALS_QOS),
        DataWriter(dp, Topic(dp, LOWSTATE_TOPIC, LowState_), qos=_STREAM_QOS),
    )


class RepeatingWriter:
    """A DataWriter for a frame that is often sent unchanged (rt/lowcmd between two policy
    commands: 9 ticks in 10). cyclonedds-python's write() serializes the sample in Python every
    call (~130 us for LowCmd_ on our 2-core VM); here an unchanged frame is resent as the
    bytes it serialized to last time, through the same C call write() makes (cyclonedds 0.10.2,
    pinned)."""

    def __init__(self, writer: DataWriter) -> None:
        self.writer = writer
        self._bytes: bytes | None = None

    def write(self, sample: Any, changed: bool) -> None:
        """Send ``sample``; ``changed=False`` promises it is the sample last sent, unmodified."""
        if changed or self._bytes is None:
            ser = sample.serialize(use_version_2=self.writer._use_version_2)
            self._bytes = ser.ljust((len(ser) + 3) & ~3, b"\0")  # 4-byte padding, as write() pads
        ret = ddspy_write(self.writer._ref, self._bytes)
        if ret < 0:
            raise DDSException(ret, f"Occurred while writing sample in {self.writer!r}")
