"""Counters the sim bridge reports on /diagnostics and at exit."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class BridgeStats:
    mode: str = "passive"
    sim_time_s: float = 0.0
    wall_time_s: float = 0.0
    commands_accepted: int = 0
    commands_rejected: int = 0
    last_rejection: str = ""
    watchdog_trips: int = 0
    joint_states_published: int = 0
    gate_timeouts: int = 0

    def reject(self, reason: str) -> None:
        self.commands_rejected += 1
        self.last_rejection = reason

    @property
    def realtime_factor(self) -> float:
        return self.sim_time_s / self.wall_time_s if self.wall_time_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "realtime_factor": round(self.realtime_factor, 3)}

    def summary(self) -> str:
        return (
            f"real-time factor {self.realtime_factor:.2f}, commands accepted {self.commands_accepted}, "
            f"rejected {self.commands_rejected}, watchdog trips {self.watchdog_trips}, "
            f"joint_states published {self.joint_states_published}, mode {self.mode}"
        )
