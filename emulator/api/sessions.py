"""Sessions: generate with Basic credentials, list, get, keep alive, discard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from emulator.api.common import (
    array,
    client_address,
    integer,
    json_object,
    operation,
    reply,
)
from emulator.errors import InvalidValue, NotFound
from emulator.model.clock import iso_time
from emulator.model.sessions import Principal, Session

bp = Blueprint("sessions", __name__)

SESSION_ROLE = "Storage Administrator (View Only)"
ALIVE_TIME_RANGE = (1, 300)
AUTHENTICATION_TIMEOUT_RANGE = (1, 900)


def session_object(session: Session) -> dict[str, Any]:
    """A session as GET shows it; the token is never shown (the emulator's choice)."""
    return {
        "sessionId": session.session_id,
        "userId": session.user.name,
        "ipAddress": session.ip_address,
        "createdTime": iso_time(session.created),
        "lastAccessTime": iso_time(session.last_access),
    }


def _session_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFound(object=f"sessions/{text}")

    return int(text)


@bp.post("/sessions")
@operation(role=SESSION_ROLE, session_creation=True)
def create_session(principal: Principal) -> Response:
    """Generate a session; the body is empty, ``{}``, or holds the two timeouts."""
    body = json_object(allowed=("aliveTime", "authenticationTimeout"))
    alive = body.get("aliveTime")
    timeout = body.get("authenticationTimeout")
    if alive is not None:
        alive = integer(alive, "aliveTime", *ALIVE_TIME_RANGE)
    if timeout is not None:
        timeout = integer(
            timeout, "authenticationTimeout", *AUTHENTICATION_TIMEOUT_RANGE
        )

    session = array().create_session(
        principal.user,
        client_address(),
        alive_time=alive,
        authentication_timeout=timeout,
    )

    return reply({"token": session.token, "sessionId": session.session_id})


@bp.get("/sessions")
@operation()
def list_sessions(principal: Principal) -> Response:
    """The sessions the caller may see."""
    sessions = array().visible_sessions(principal)

    return reply({"data": [session_object(s) for s in sessions]})


@bp.get("/sessions/<session_id>")
@operation()
def get_session(principal: Principal, session_id: str) -> Response:
    """One session the caller may see."""
    session = array().find_session(principal, _session_id(session_id))

    return reply(session_object(session))


@bp.patch("/sessions/<session_id>")
@operation()
def keep_session_alive(principal: Principal, session_id: str) -> Response:
    """Refresh a session (a keep-alive public clients send; the reply is a choice)."""
    json_object(allowed=())
    session = array().keep_alive(principal, _session_id(session_id))

    return reply(session_object(session))


@bp.delete("/sessions/<session_id>")
@operation()
def discard_session(principal: Principal, session_id: str) -> Response:
    """Discard a session and release its lock; 200 with the session's ID."""
    body = json_object(allowed=("force",))
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise InvalidValue(parameter="force", reason="must be true or false")

    target = _session_id(session_id)
    array().discard_session(principal, target, force=force)

    return reply({"sessionId": target})
