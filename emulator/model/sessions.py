"""Sessions and the principals that act through them.

A session is created with Basic credentials and used through its token. It ends when
it is discarded, or when it sits idle longer than its ``aliveTime`` on the emulator's
clock. A request authenticated by Basic credentials alone acts as a transient
principal without a session.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.profile import User


@dataclass
class Session:
    """One session of the array. ``token`` is a secret: never log or render it."""

    session_id: int
    token: str
    user: User
    ip_address: str
    created: float
    last_access: float
    alive_time: int
    authentication_timeout: int

    def expired(self, now: float, *, idle_expiry: bool) -> bool:
        """Whether the session has outlived its aliveTime at ``now``."""
        start = self.last_access if idle_expiry else self.created

        return now - start > self.alive_time

    def __repr__(self) -> str:
        # The token is left out on purpose: a repr ends up in logs and tracebacks.
        return f"Session(session_id={self.session_id}, user={self.user.name!r})"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a user, through a session or through Basic alone."""

    user: User
    session: Session | None = None

    @property
    def session_id(self) -> int | None:
        """The session's ID, or None for a Basic-only request."""
        return self.session.session_id if self.session else None
