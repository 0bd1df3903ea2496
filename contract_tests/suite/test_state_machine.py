"""Sessions, the lock, backups and discards in any order, against a model.

Invariants: a backup succeeds exactly when its session is live, the microcode
supports it and no lock is held (the kit's user has the role); the session cap
holds; numOfBackups counts the successful backups; every error carries the error
object. With a control plane, sessions also expire mid-sequence, the clock moves
past aliveTime, and an injected fault meets a backup.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contract_tests import failures as f
from contract_tests.checks import backup_body, check_status, send_backup
from contract_tests.client import SESSIONS, ArrayClient, Session
from contract_tests.contract import LOCK_RULE, SUPPORT_RULE, TOKEN_RULE
from contract_tests.suite.test_backup_requests import key_backups
from contract_tests.target import Target

pytestmark = pytest.mark.sensitive

MOST_SESSIONS = 2
SESSION_CAP = 64
# Past the documented longest aliveTime (300 s): every idle session expires.
PAST_ALIVE_TIME_SECONDS = 301
BUSY_FAULT = {
    "path": "*/encryption-keys/file/actions/backup/invoke",
    "method": "POST",
    "situation": "server_busy",
    "retryAfter": 1,
    "times": 1,
}
MOST_EXAMPLES = 4
STEPS = 8


class SessionsLocksBackups(RuleBasedStateMachine):
    """The array as the contract describes it, step by step."""

    target: Target

    def __init__(self) -> None:
        super().__init__()
        self.client: ArrayClient = self.target.client()
        self.live: list[Session] = []
        self.ended: list[Session] = []
        self.holder: Session | None = None
        self.backups = 0
        self.baseline: dict[str, int] = {}

    @initialize()
    def read_baseline(self) -> None:
        """Open the first session and read every key's numOfBackups."""
        self.live.append(self.client.open_session(probe="machine.open"))
        self.baseline = key_backups(self.client, self.live[0])

    @precondition(lambda self: len(self.live) < MOST_SESSIONS)
    @rule()
    def open_session(self) -> None:
        """Open another session."""
        self.live.append(self.client.open_session(probe="machine.open"))

    @precondition(lambda self: len(self.live) > 1)
    @rule(data=st.data())
    def discard(self, data: st.DataObject) -> None:
        """Discard a session; its lock goes with it."""
        session = data.draw(st.sampled_from(self.live), label="session")
        reply = self.client.discard(session, probe="machine.discard")
        check_status(reply, [200], rule="a session discards itself: 200")
        self._end(session)

    @precondition(lambda self: len(self.live) > 1 and self.target.control is not None)
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        """Let a session expire (control plane)."""
        assert self.target.control is not None
        session = data.draw(st.sampled_from(self.live), label="session")
        self.target.control.expire_session(session.session_id)
        self.client.forget(session)
        self._end(session)

    @precondition(lambda self: self.target.control is not None)
    @rule()
    def let_time_pass(self) -> None:
        """Advance the array's clock past aliveTime: every session expires."""
        assert self.target.control is not None
        self.target.control.advance_clock(PAST_ALIVE_TIME_SECONDS)
        for session in list(self.live):
            self.client.forget(session)
            self._end(session)

    @precondition(lambda self: self.target.control is not None and bool(self.live))
    @rule()
    def backup_while_busy(self) -> None:
        """A backup met by an injected 503 counts nothing and says when to retry."""
        assert self.target.control is not None
        self.target.control.add_fault(BUSY_FAULT)
        body = backup_body(self.target.backup_password.reveal())
        reply = send_backup(
            self.client, auth=self.live[0].auth, body=body, probe="machine.busy"
        )
        check_status(reply, [503], rule="an injected fault answers as injected")
        assert reply.headers.get("Retry-After"), "a 503 says when to retry"

    def _end(self, session: Session) -> None:
        self.live.remove(session)
        self.ended.append(session)
        if self.holder is session:
            self.holder = None

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def lock(self, data: st.DataObject) -> None:
        """Ask for the lock with waitTime 0: granted exactly when nobody holds it."""
        session = data.draw(st.sampled_from(self.live), label="session")
        reply = self.client.lock(session, probe="machine.lock")
        if self.holder is None:
            check_status(reply, [202], rule="a free lock is granted")
            self.holder = session
            return

        check_status(
            reply, [409], rule="a held lock is refused", violation=f.LockStateWrong
        )

    @precondition(lambda self: self.holder is not None and bool(self.live))
    @rule(data=st.data())
    def unlock(self, data: st.DataObject) -> None:
        """Unlock: only the holder can."""
        session = data.draw(st.sampled_from(self.live), label="session")
        reply = self.client.unlock(session, probe="machine.unlock")
        if session is self.holder:
            check_status(reply, [202], rule="the holder unlocks")
            self.holder = None
            return

        check_status(
            reply, [409], rule="only the holder unlocks", violation=f.LockStateWrong
        )

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def backup(self, data: st.DataObject) -> None:
        """Back up: 200 exactly when supported and no lock is held."""
        session = data.draw(st.sampled_from(self.live), label="session")
        body = backup_body(self.target.backup_password.reveal())
        reply = send_backup(
            self.client, auth=session.auth, body=body, probe="machine.backup"
        )
        expected = self._expected_backup()
        violation = f.LockNotHonoured if self.holder else f.MicrocodeSupportMismatch
        check_status(
            reply, expected, rule=f"{SUPPORT_RULE}; {LOCK_RULE}", violation=violation
        )
        if reply.status == 200:
            self.backups += 1

    def _expected_backup(self) -> list[int]:
        refusals = [] if self.target.backup_supported else [412]
        if self.holder is not None:
            refusals.append(409)
        if self.target.is_emulator and refusals:
            return refusals[:1]

        return refusals or [200]

    @precondition(lambda self: bool(self.ended))
    @rule(data=st.data())
    def backup_with_ended_session(self, data: st.DataObject) -> None:
        """A backup with a discarded or expired session's token gets 401."""
        session = data.draw(st.sampled_from(self.ended), label="ended session")
        body = backup_body(self.target.backup_password.reveal())
        reply = send_backup(
            self.client, auth=session.auth, body=body, probe="machine.ended token"
        )
        check_status(reply, [401], rule=TOKEN_RULE, violation=f.DiscardedTokenAccepted)

    @invariant()
    def sessions_within_cap(self) -> None:
        """The sessions the user sees never pass the documented cap."""
        if not self.live:
            return

        reply = self.client.send(
            "GET", SESSIONS, probe="machine.sessions", auth=self.live[0].auth
        )
        check_status(reply, [200], rule="a live session lists sessions")
        count = len(reply.json["data"])
        if count > SESSION_CAP:
            raise f.SessionCapNotEnforced(
                rule="at most 64 sessions per storage system",
                expected=f"at most {SESSION_CAP}",
                actual=str(count),
            )

    def teardown(self) -> None:
        """numOfBackups counts the successful backups; then release everything."""
        try:
            if self.target.control is not None:
                self.target.control.clear_faults()
            if self.baseline:
                self._check_counts()
        finally:
            self.client.close()

    def _check_counts(self) -> None:
        if not self.live:
            self.live.append(self.client.open_session(probe="machine.open"))
        after = key_backups(self.client, self.live[0])
        wrong = {
            k: (n, after.get(k))
            for k, n in self.baseline.items()
            if after.get(k) != n + self.backups
        }
        if wrong:
            raise f.BackupCountWrong(
                rule="each successful backup adds one to every key's numOfBackups",
                expected=f"+{self.backups} on every key",
                actual=f"(before, after) by keyId: {dict(list(wrong.items())[:5])}",
            )


def test_state_machine__sessions_locks_backups(array_target: Target) -> None:
    """Any sequence of sessions, locks, backups and discards keeps the invariants."""
    machine = type("Machine", (SessionsLocksBackups,), {"target": array_target})
    current = settings()
    run_state_machine_as_test(
        machine,
        settings=settings(
            current,
            max_examples=min(current.max_examples, MOST_EXAMPLES),
            stateful_step_count=STEPS,
        ),
    )
