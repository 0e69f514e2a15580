"""Network interfaces by name: is the one a user typed there, and up? ROS-free, Linux.

Users type eth0 where the machine has enp3s0; Cyclone DDS then fails with an unspecific
error. This check names the problem and the interfaces that do exist, before DDS starts.
"""

from __future__ import annotations

import socket
from pathlib import Path

#: IFF_UP in /sys/class/net/IF/flags: the interface is administratively up.
_IFF_UP = 0x1


def interface_names() -> list[str]:
    return sorted(name for _, name in socket.if_nameindex())


def interface_problem(name: str) -> str | None:
    """Why ``name`` cannot carry DDS here (absent, or down), naming the ones there are; or None."""
    names = interface_names()
    if name not in names:
        return f"network interface {name!r} does not exist on this machine (it has: {', '.join(names)})"
    flags = Path("/sys/class/net") / name / "flags"
    if flags.exists() and not int(flags.read_text().strip(), 16) & _IFF_UP:
        up = [n for n in names if n != name and _is_up(n)]
        return f"network interface {name!r} is down (bring it up: ip link set {name} up; up now: {', '.join(up)})"
    return None


def _is_up(name: str) -> bool:
    flags = Path("/sys/class/net") / name / "flags"
    return not flags.exists() or bool(int(flags.read_text().strip(), 16) & _IFF_UP)


def check_interface(name: str) -> None:
    """ValueError naming the problem (memaug's one-line start-up error) when ``name`` is unusable."""
    problem = interface_problem(name)
    if problem is not None:
        raise ValueError(problem)
