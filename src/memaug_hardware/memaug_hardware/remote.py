"""The Go2's handheld remote, as rt/lowstate carries it (LowState_.wireless_remote, 40 bytes).

Layout (Unitree's xRockerBtnDataStruct, little-endian): 2 header bytes; a 16-bit key field,
bit 0 upward R1, L1, start, select, R2, L2, F1, F2, A, B, X, Y, up, right, down, left; five
float32 lx, rx, ry, L2 (trigger travel), ly, each stick axis in [-1, 1]; 16 idle bytes.

Key map (Unitree's deploy tools use the same style of chords):

| keys | action | where |
|---|---|---|
| L2 + B | damp, latched until the bridge is re-armed | the bridge itself: works with the ROS graph dead |
| L2 + A | stand (the policy's ~/start from idle or damp) | policy node, via /remote |
| R1 | run (the policy's ~/start from stand) | policy node, via /remote |
| left stick | vx (up), vy (left); right stick x: yaw rate | policy node, deadband, clamped to the model's ranges |

The chords and the stick law live in memaug_common.remote_map, shared with the policy node.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from memaug_common.remote_map import KEYS

_LAYOUT = struct.Struct("<2sH5f16s")
SIZE = _LAYOUT.size  # 40


@dataclass(frozen=True)
class RemoteState:
    keys: frozenset[str]
    lx: float = 0.0
    ly: float = 0.0
    rx: float = 0.0
    ry: float = 0.0

    @classmethod
    def parse(cls, raw: bytes | bytearray | list[int]) -> RemoteState:
        """The remote's state from its 40 raw bytes; ValueError if the size is wrong."""
        data = bytes(raw)
        if len(data) != SIZE:
            raise ValueError(f"wireless_remote has {len(data)} bytes, expected {SIZE}")
        _, bits, lx, rx, ry, _l2, ly, _ = _LAYOUT.unpack(data)
        return cls(frozenset(k for i, k in enumerate(KEYS) if bits >> i & 1), lx, ly, rx, ry)

    def pack(self) -> bytes:
        """The 40 bytes a remote in this state sends (the emulator plays remotes with it)."""
        bits = sum(1 << i for i, k in enumerate(KEYS) if k in self.keys)
        trigger = 1.0 if "L2" in self.keys else 0.0
        return _LAYOUT.pack(b"\x00\x00", bits, self.lx, self.rx, self.ry, trigger, self.ly, bytes(16))

    def pressed(self, chord: frozenset[str]) -> bool:
        return chord <= self.keys


def parse_script(text: str) -> list[tuple[float, RemoteState]]:
    """A scripted remote for the emulator: ``"T:KEY+KEY,T:ly=0.5,..."`` (T in seconds); each
    entry holds until the next. ``T:none`` releases everything. ValueError naming a bad entry."""
    events: list[tuple[float, RemoteState]] = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        try:
            at, what = entry.split(":", 1)
            keys: set[str] = set()
            axes: dict[str, float] = {}
            for part in filter(None, what.split("+")):
                if "=" in part:
                    axis, value = part.split("=")
                    if axis not in ("lx", "ly", "rx", "ry"):
                        raise ValueError(f"unknown axis {axis!r}")
                    axes[axis] = float(value)
                elif part != "none":
                    if part not in KEYS:
                        raise ValueError(f"unknown key {part!r}; keys: {list(KEYS)}")
                    keys.add(part)
            events.append((float(at), RemoteState(frozenset(keys), **axes)))
        except ValueError as exc:
            raise ValueError(f"remote script entry {entry!r}: {exc}") from None
    return sorted(events, key=lambda e: e[0])
