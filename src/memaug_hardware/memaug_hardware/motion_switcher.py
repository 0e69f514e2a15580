"""Unitree's motion switcher: which high-level controller owns the Go2, through the SDK.

A Go2 boots with its sport-mode controller running; it fights low-level commands. The
bridge asks the motion switcher service (rt/api/motion_switcher, Unitree's RPC) with the
SDK's MotionSwitcherClient: CheckMode answers the active mode's name ("" when none), and
ReleaseMode, only behind the bridge's explicit motion_switcher:=release, switches it off.
The emulator serves the same service (MotionSwitcherServer) so that both answers are tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from unitree_sdk2py.comm.motion_switcher.motion_switcher_api import (
    MOTION_SWITCHER_API_ID_CHECK_MODE,
    MOTION_SWITCHER_API_ID_RELEASE_MODE,
    MOTION_SWITCHER_API_VERSION,
    MOTION_SWITCHER_SERVICE_NAME,
)
from unitree_sdk2py.comm.motion_switcher.motion_switcher_client import MotionSwitcherClient
from unitree_sdk2py.rpc.server import Server

HELP = (
    "turn it off first: in the Unitree app (Device > Service status > sport_mode off), or let the bridge "
    "release it (motion_switcher:=release, with the robot lying down or held), then configure again"
)


@dataclass(frozen=True)
class ModeAnswer:
    mode: str | None  # the active controller ("" none); None when the service did not answer
    detail: str


def check_mode(timeout_s: float) -> ModeAnswer:
    """Ask the motion switcher which controller is active (the process's SDK domain)."""
    client = _client(timeout_s)
    code, data = client.CheckMode()
    if code != 0 or data is None:
        return ModeAnswer(None, f"no answer from the motion switcher (rt/api/motion_switcher, code {code})")
    return ModeAnswer(str(data.get("name", "")), json.dumps(data))


def release_mode(timeout_s: float) -> ModeAnswer:
    """Switch the active high-level controller off, then ask again."""
    code, _ = _client(timeout_s).ReleaseMode()
    if code != 0:
        return ModeAnswer(None, f"the motion switcher refused ReleaseMode (code {code})")
    return check_mode(timeout_s)


def _client(timeout_s: float) -> MotionSwitcherClient:
    client = MotionSwitcherClient()
    client.SetTimeout(timeout_s)
    client.Init()
    return client


class MotionSwitcherServer(Server):
    """The emulator's motion switcher: CheckMode and ReleaseMode on a mode held in memory."""

    def __init__(self, mode: str) -> None:
        super().__init__(MOTION_SWITCHER_SERVICE_NAME)
        self.mode = mode

    def Init(self) -> None:  # noqa: N802 - the SDK's name
        self._SetApiVersion(MOTION_SWITCHER_API_VERSION)
        self._RegistHandler(MOTION_SWITCHER_API_ID_CHECK_MODE, self._check, False)
        self._RegistHandler(MOTION_SWITCHER_API_ID_RELEASE_MODE, self._release, False)

    def _check(self, _parameter: str) -> tuple[int, str]:
        return 0, json.dumps({"form": "0", "name": self.mode})

    def _release(self, _parameter: str) -> tuple[int, str]:
        self.mode = ""
        return 0, "{}"
