"""The REST resource lock: one holder at a time, released by unlock or discard."""

from __future__ import annotations

import pytest

from contract_tests import failures as f
from contract_tests.checks import check_status
from contract_tests.client import OBJECTS, ArrayClient, Session

pytestmark = pytest.mark.reversible

GROUPS = f"{OBJECTS}/resource-groups"
LOCKED = "Locked"


def lock_holders(client: ArrayClient, session: Session) -> set[int]:
    """The session IDs resource-groups name as lock holders."""
    reply = client.send("GET", GROUPS, probe="resource-groups", auth=session.auth)
    check_status(reply, [200], rule="resource-groups answers a live session")
    groups = reply.json["data"]

    return {g["lockSessionId"] for g in groups if g.get("lockStatus") == LOCKED}


def require_held(client: ArrayClient, holder: Session, reader: Session) -> None:
    """The lock must be held by ``holder``, as resource-groups shows it."""
    holders = lock_holders(client, reader)
    if holders != {holder.session_id}:
        raise f.LockStateWrong(
            rule="after a succeeded lock job, resource-groups name the holder",
            expected=f"lockSessionId {holder.session_id}",
            actual=f"lock holders {sorted(holders)}",
        )


def test_lock__held_then_released(array_client: ArrayClient) -> None:
    """A lock shows in resource-groups until its session unlocks."""
    session = array_client.open_session()
    locked = array_client.lock(session)
    check_status(locked, [202], rule="the lock service answers 202 with a job")
    require_held(array_client, session, session)

    unlocked = array_client.unlock(session)

    check_status(unlocked, [202], rule="the unlock service answers 202 with a job")
    assert not lock_holders(array_client, session)


def test_lock__wait_time_zero_refused_while_held(array_client: ArrayClient) -> None:
    """A second session asking for a held lock with waitTime 0 gets 409."""
    holder, other = array_client.open_session(), array_client.open_session()
    array_client.lock(holder)

    reply = array_client.lock(other, wait_time=0)

    check_status(
        reply,
        [409],
        rule="a lock held by another session is refused with 409",
        violation=f.LockStateWrong,
    )


def test_unlock__by_another_session_refused(array_client: ArrayClient) -> None:
    """Only the holder can unlock: another session gets 409 and the lock stays."""
    holder, other = array_client.open_session(), array_client.open_session()
    array_client.lock(holder)

    reply = array_client.unlock(other)

    check_status(
        reply, [409], rule="only the holder unlocks", violation=f.LockStateWrong
    )
    require_held(array_client, holder, other)


def test_discard__releases_the_lock(array_client: ArrayClient) -> None:
    """Discarding the holder's session releases its lock."""
    holder, other = array_client.open_session(), array_client.open_session()
    array_client.lock(holder)

    array_client.discard(holder)

    holders = lock_holders(array_client, other)
    if holders:
        raise f.LockStateWrong(
            rule="discarding a session releases its lock",
            expected="no lock holder",
            actual=f"lock holders {sorted(holders)}",
        )
