"""What the control plane keeps beside the array, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.control.faults import FaultTable
from emulator.control.journal import Journal
from emulator.model.array import Array


@dataclass(frozen=True)
class ControlSettings:
    """Whether the control plane answers, and the token it asks for.

    Args:
        enabled: False turns the control plane off: ``/_emulator/`` is unknown.
        token: when set, every control request must carry it, from any address;
            when None, only loopback clients reach the control plane.
    """

    enabled: bool = True
    token: str | None = None


class ControlPlane:
    """What the control plane keeps beside the array: fault rules and the journal."""

    def __init__(self, array: Array, settings: ControlSettings) -> None:
        self.array = array
        self.settings = settings
        self.faults = FaultTable()
        self.holder_sessions: set[int] = set()
        self.journal = Journal(
            lambda: int(array.profile.section("control")["journal_size"])
        )

    def reset(self) -> None:
        """The profile's initial state, the real clock, no faults, an empty journal."""
        self.array.reset()
        self.array.clock.reset()
        self.faults.reset()
        self.journal.clear()
        self.holder_sessions.clear()
