"""Jobs: how the array reports an asynchronous operation.

An operation that changes the array answers with a job. The emulator applies the
change when it accepts the request; the job then reports it, moving from
``Initializing``/``Queued`` to ``Completed``/``Succeeded`` as its progress policy
says: at once, after a number of reads, or after some seconds of the emulator's
clock. A job told to fail ends ``Completed``/``Failed`` with SSB codes, and its
change is not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Progress = Literal["immediate", "polls", "seconds"]
PROGRESS_MODES: tuple[Progress, ...] = ("immediate", "polls", "seconds")


@dataclass(frozen=True)
class JobPolicy:
    """How the next jobs progress and whether they fail."""

    progress: Progress = "immediate"
    polls: int = 0
    seconds: float = 0.0
    fail_ssb: tuple[str, str] | None = None


@dataclass(frozen=True)
class JobStatus:
    """A job's status and state at one moment."""

    status: str
    state: str
    updated: float
    completed: float | None


@dataclass
class Job:
    """One job. ``resources`` are paths relative to the objects root."""

    job_id: int
    user_name: str
    created: float
    request_method: str
    request_url: str
    request_body: str
    policy: JobPolicy
    resources: list[str] = field(default_factory=list)
    reads: int = 0
    completed_at: float | None = None

    @property
    def fails(self) -> bool:
        """Whether the job ends in failure."""
        return self.policy.fail_ssb is not None

    def status_at(self, now: float) -> JobStatus:
        """The job as it stands at ``now``; completion, once reached, is kept."""
        if self.completed_at is None and self._done(now):
            self.completed_at = now

        if self.completed_at is None:
            return JobStatus("Initializing", "Queued", self.created, None)

        state = "Failed" if self.fails else "Succeeded"

        return JobStatus("Completed", state, self.completed_at, self.completed_at)

    def _done(self, now: float) -> bool:
        if self.policy.progress == "polls":
            return self.reads >= self.policy.polls

        if self.policy.progress == "seconds":
            return now - self.created >= self.policy.seconds

        return True


def policy_from_settings(settings: dict[str, object]) -> JobPolicy:
    """The default job policy of a profile's ``[jobs]`` table.

    Raises:
        ValueError: an unknown progress mode.
    """
    progress = str(settings.get("progress", "immediate"))
    if progress not in PROGRESS_MODES:
        raise ValueError(f"unknown job progress {progress!r}")

    return JobPolicy(
        progress=progress,
        polls=int(str(settings.get("polls", 0))),
        seconds=float(str(settings.get("seconds", 0.0))),
    )
