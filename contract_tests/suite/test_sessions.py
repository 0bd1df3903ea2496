"""Sessions: generate, read, discard, and what a discarded token gets."""

from __future__ import annotations

import pytest

from contract_tests import failures as f
from contract_tests.checks import (
    check_status,
    refused_after_discard,
    token_refused,
)
from contract_tests.client import SESSIONS, ArrayClient, Basic, Reply, Session
from contract_tests.secret import Secret
from contract_tests.target import Target

pytestmark = pytest.mark.reversible

WRONG_PASSWORD = Secret("not-the-password-0")


def test_session__generate_read_discard(array_client: ArrayClient) -> None:
    """A session can be read with its token, then discarded with it."""
    session = array_client.open_session()
    path = f"{SESSIONS}/{session.session_id}"
    read = array_client.send("GET", path, probe="session.read", auth=session.auth)
    check_status(read, [200], rule="a live session reads itself")

    discarded = array_client.discard(session)

    check_status(discarded, [200], rule="a session discards itself: 200")


def test_session__discarded_token_refused(array_client: ArrayClient) -> None:
    """A token is refused with 401 once its session is discarded."""
    session = array_client.open_session()
    array_client.discard(session)

    refused_after_discard(array_client, session)


def test_session__wrong_password_refused(
    array_client: ArrayClient, array_target: Target
) -> None:
    """Generating a session with a wrong password is 401 with a Basic challenge."""
    auth = Basic(array_target.user.user, WRONG_PASSWORD)
    reply = array_client.send(
        "POST", SESSIONS, probe="session.wrong password", auth=auth
    )

    check_status(
        reply,
        [401],
        rule="wrong user or password at session creation: 401",
        violation=f.SessionRuleBroken,
    )
    challenge = reply.headers.get("WWW-Authenticate", "")
    assert challenge.lower().startswith("basic"), challenge


@pytest.mark.edge_case
def test_session__expired_token_refused(
    array_client: ArrayClient, array_target: Target
) -> None:
    """A token is refused with 401 once its session expired."""
    assert array_target.control is not None
    session = array_client.open_session()
    array_target.control.expire_session(session.session_id)
    array_client.forget(session)

    token_refused(array_client, session, "expired", f.ExpiredTokenAccepted)


SESSION_CAP = 64


@pytest.mark.edge_case
def test_session__cap_holds(array_target: Target) -> None:
    """Past the documented 64 sessions the array answers 503 with Retry-After."""
    client = array_target.client()
    try:
        replies = [
            client.send("POST", SESSIONS, probe="session.cap", auth=client.credentials)
            for _ in range(SESSION_CAP + 1)
        ]
        _discard_all(client, replies)
    finally:
        client.close()

    refused = [r for r in replies if r.status == 503]
    if not refused:
        raise f.SessionCapNotEnforced(
            rule="at most 64 sessions per storage system; past that 503",
            expected=f"a 503 within {SESSION_CAP + 1} new sessions",
            actual="every session was opened",
        )
    check_status(refused[0], [503], rule="past the cap: 503")
    assert refused[0].headers.get("Retry-After"), "a 503 past the cap says when"


def _discard_all(client: ArrayClient, replies: list[Reply]) -> None:
    for reply in replies:
        if reply.status == 200:
            body = reply.json
            session = Session(int(body["sessionId"]), Secret(str(body["token"])))
            client.discard(session, probe="session.cap discard")
