"""The emulator's clock: real time that a test can freeze and move forward.

Session expiry and job progress read this clock, never ``time.time`` directly, so a
test can expire a session or finish a job without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Wall-clock seconds, shifted by an offset, optionally frozen."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._guard = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the emulated array sees them."""
        with self._guard:
            if self._frozen_at is not None:
                return self._frozen_at

            return self._source() + self._offset

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop the clock at the current time."""
        current = self.now()
        with self._guard:
            self._frozen_at = current

    def resume(self) -> None:
        """Let the clock run again from where it stands."""
        with self._guard:
            if self._frozen_at is None:
                return

            self._offset = self._frozen_at - self._source()
            self._frozen_at = None

    def advance(self, seconds: float) -> None:
        """Move the clock forward, frozen or not."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")

        with self._guard:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def set(self, now: float, *, frozen: bool) -> None:
        """Put the clock at ``now``, running from there or frozen (to load a state)."""
        with self._guard:
            self._frozen_at = now if frozen else None
            self._offset = now - self._source()

    def reset(self) -> None:
        """Back to real time, running."""
        with self._guard:
            self._frozen_at = None
            self._offset = 0.0


def iso_time(epoch: float) -> str:
    """Format epoch seconds as the array does: ``YYYY-MM-DDThh:mm:ssZ``, UTC."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_time(text: str) -> float:
    """Parse an ISO 8601 time; a time without a zone is taken as UTC.

    Raises:
        ValueError: the text is not an ISO 8601 time.
    """
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)

    return parsed.timestamp()
