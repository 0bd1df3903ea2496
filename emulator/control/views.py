"""The control plane's endpoints: JSON in and out, every change a POST.

Bad requests get the array's error object from the one error handler, like any
other request to the emulator. Only loopback clients get in, unless the emulator
was started with a control token, which every control request must then carry.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from emulator.api.common import array, integer, json_object, query_integer, reply
from emulator.control import conformance, state
from emulator.control.client import TOKEN_HEADER
from emulator.control.faults import RULE_FIELDS
from emulator.control.plane import ControlPlane
from emulator.errors import (
    ArrayError,
    ControlConflict,
    ControlRefused,
    InvalidValue,
    MissingParameter,
    NotFound,
)
from emulator.model.array import RequestInfo
from emulator.model.sessions import Principal, Session
from emulator.profile import Profile, ProfileError, User, load_profile, parse_profile

logger = logging.getLogger(__name__)

bp = Blueprint("control", __name__)

MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600
MAX_JOURNAL_LIMIT = 1_000_000
HOLDER_ADDRESS = "127.0.0.1"
ENDPOINTS = {
    "GET /_emulator": "this list, the profile, the clock",
    "POST /_emulator/reset": "the profile's initial state; faults and journal cleared",
    "GET /_emulator/state": "a snapshot of the array's state",
    "GET /_emulator/openapi.json": "the OpenAPI document of the emulated API",
    "POST /_emulator/state": "load a snapshot",
    "POST /_emulator/profile": '{"name": ...} or {"toml": ...}: switch the profile',
    "POST /_emulator/microcode": '{"version": ...}: report another microcode',
    "GET /_emulator/clock": "the emulator's clock",
    "POST /_emulator/clock/freeze": "stop the clock",
    "POST /_emulator/clock/advance": '{"seconds": N}: move the clock forward',
    "POST /_emulator/clock/resume": "let the clock run",
    "GET /_emulator/sessions": "every session, with its lock",
    "POST /_emulator/sessions/{id}/expire": "end a session as if it timed out",
    "POST /_emulator/lock/hold": "another session takes the lock",
    "POST /_emulator/lock/release": "the lock's holder lets go",
    "GET /_emulator/jobs/policy": "how new jobs progress",
    "POST /_emulator/jobs/policy": '{"progress", "polls", "seconds", "failSsb"}',
    "GET /_emulator/faults": "the fault rules",
    "POST /_emulator/faults": "add a fault rule",
    "POST /_emulator/faults/clear": '{"id": N} or {}: remove one rule or all',
    "GET /_emulator/journal": "?limit=N: the newest requests, secrets redacted",
    "POST /_emulator/journal/clear": "forget the journal",
    "GET /_emulator/conformance": "the client conformance report",
}


def plane() -> ControlPlane:
    """The control plane of the current app."""
    return cast(ControlPlane, current_app.extensions["control"])


@bp.before_request
def check_caller() -> None:
    """Let in loopback clients, or any client with the control token.

    Raises:
        ControlRefused: a client from elsewhere, or a missing or wrong token.
    """
    header = TOKEN_HEADER
    expected = plane().settings.token
    if expected is not None:
        given = request.headers.get(header, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ControlRefused(reason="missing or wrong control token", header=header)
        return

    if not _loopback(request.remote_addr or ""):
        raise ControlRefused(
            reason="the control plane answers loopback clients only", header=header
        )


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _changed(what: str, **values: object) -> None:
    logger.info(
        "emulator.control_changed",
        extra={
            "emulator.change": what,
            **{f"emulator.{k}": v for k, v in values.items()},
        },
    )


# -- state ----------------------------------------------------------------------


@bp.get("")
def index() -> Response:
    """The endpoints, the profile and the clock."""
    clock = array().clock

    return reply(
        {
            "profile": array().profile.name,
            "microcode": array().microcode,
            "clock": {"now": clock.now(), "frozen": clock.frozen},
            "endpoints": ENDPOINTS,
        }
    )


@bp.post("/reset")
def reset() -> Response:
    """Back to the profile's initial state, the real clock, no faults, no journal."""
    json_object(allowed=())
    plane().reset()
    _changed("reset")

    return reply({"profile": array().profile.name})


@bp.get("/state")
def get_state() -> Response:
    """A snapshot of the array's state (secrets only if the profile says so)."""
    return reply(state.dump(array()))


@bp.post("/state")
def load_state() -> Response:
    """Put the array in a snapshot's state."""
    snapshot = json_object(allowed=_snapshot_fields())
    state.load(array(), snapshot)
    _changed("state_loaded")

    return reply(state.dump(array()))


def _snapshot_fields() -> tuple[str, ...]:
    # The fields a snapshot has are those dump writes; any other is refused.
    return (
        "format",
        "version",
        "profile",
        "clock",
        "microcode",
        "nextSessionId",
        "nextJobId",
        "lockHolder",
        "jobPolicy",
        "sessions",
        "jobs",
        "keys",
        "backupsMade",
        "includesKeyMaterial",
        "includesTokens",
    )


@bp.post("/profile")
def switch_profile() -> Response:
    """Emulate another array: a bundled profile by name, or a profile's TOML."""
    body = json_object(allowed=("name", "toml"), empty_ok=False)
    if ("name" in body) == ("toml" in body):
        raise MissingParameter(parameter="name or toml (one of them)")

    array().load(_profile(body))
    _changed("profile", profile=array().profile.name)

    return reply({"profile": array().profile.name, "microcode": array().microcode})


def _profile(body: dict[str, Any]) -> Profile:
    value = body.get("name", body.get("toml"))
    if not isinstance(value, str) or not value:
        raise InvalidValue(parameter="name", reason="must be a non-empty string")

    try:
        if "toml" in body:
            return parse_profile(value, source="toml")
        if "/" in value or value.endswith(".toml"):
            raise ProfileError("a bundled profile's name, not a path")
        return load_profile(value)
    except ProfileError as exc:
        raise InvalidValue(parameter="profile", reason=str(exc)) from None


@bp.post("/microcode")
def switch_microcode() -> Response:
    """Report another microcode version; the support matrix then decides 412."""
    body = json_object(allowed=("version",), empty_ok=False)
    version = body.get("version")
    if not isinstance(version, str) or not version.strip():
        raise InvalidValue(parameter="version", reason="must be a non-empty string")

    array().set_microcode(version.strip())
    _changed("microcode", microcode=version)

    return reply({"microcode": array().microcode})


# -- clock ----------------------------------------------------------------------


def _clock_body() -> dict[str, Any]:
    clock = array().clock

    return {"now": clock.now(), "frozen": clock.frozen}


@bp.get("/clock")
def get_clock() -> Response:
    """The emulator's clock: epoch seconds and whether it stands still."""
    return reply(_clock_body())


@bp.post("/clock/freeze")
def freeze_clock() -> Response:
    """Stop the clock."""
    json_object(allowed=())
    array().clock.freeze()

    return reply(_clock_body())


@bp.post("/clock/advance")
def advance_clock() -> Response:
    """Move the clock forward; sessions expire and jobs progress as it says."""
    body = json_object(allowed=("seconds",), empty_ok=False)
    if "seconds" not in body:
        raise MissingParameter(parameter="seconds")
    seconds = body["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidValue(parameter="seconds", reason="must be a number")
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise InvalidValue(
            parameter="seconds", reason=f"must be 0 to {MAX_ADVANCE_SECONDS}"
        )

    array().clock.advance(float(seconds))
    _changed("clock_advanced", seconds=seconds)

    return reply(_clock_body())


@bp.post("/clock/resume")
def resume_clock() -> Response:
    """Let the clock run again from where it stands."""
    json_object(allowed=())
    array().clock.resume()

    return reply(_clock_body())


# -- sessions and the lock ------------------------------------------------------


def _session_body(session: Session) -> dict[str, Any]:
    return {
        "sessionId": session.session_id,
        "user": session.user.name,
        "ipAddress": session.ip_address,
        "created": session.created,
        "lastAccess": session.last_access,
        "aliveTime": session.alive_time,
        "holdsLock": array().lock_holder == session.session_id,
    }


@bp.get("/sessions")
def list_sessions() -> Response:
    """Every live session of every user (tokens never shown)."""
    with array().guarded():
        now = array().clock.now()
        idle = bool(array().profile.section("sessions")["idle_expiry"])
        live = [
            s for s in array().sessions.values() if not s.expired(now, idle_expiry=idle)
        ]
        body = [_session_body(s) for s in live]

    return reply({"data": body, "lockHolder": array().lock_holder})


@bp.post("/sessions/<session_id>/expire")
def expire_session(session_id: str) -> Response:
    """End a session as if its aliveTime ran out; its token gets 401 from now on."""
    json_object(allowed=())
    if not session_id.isdigit() or len(session_id) > 18:
        raise NotFound(object=f"sessions/{session_id}")

    array().expire_session(int(session_id))
    _changed("session_expired", session_id=session_id)

    return reply({"sessionId": int(session_id), "expired": True})


@bp.post("/lock/hold")
def hold_lock() -> Response:
    """Open a session as another client and take the lock with it.

    Raises:
        InvalidValue: no such user.
        LockBusy: a session holds the lock already (after no wait).
    """
    body = json_object(allowed=("user",))
    user = _holder_user(body.get("user"))
    session = array().create_session(user, HOLDER_ADDRESS)
    principal = Principal(user, session)
    info = RequestInfo(method="POST", url=request.path)
    try:
        array().lock(principal, 0, info)
    except ArrayError:
        array().expire_session(session.session_id)
        raise

    plane().holder_sessions.add(session.session_id)
    _changed("lock_held", session_id=session.session_id)

    return reply({"sessionId": session.session_id, "user": user.name})


def _holder_user(name: object) -> User:
    users = array().profile.users
    if name is None:
        name = (
            str(array().profile.section("control")["lock_holder_user"]) or users[0].name
        )
    for user in users:
        if user.name == name:
            return user

    raise InvalidValue(parameter="user", reason="no such user in the profile")


@bp.post("/lock/release")
def release_lock() -> Response:
    """Release the lock, whoever holds it.

    A session the control plane opened to hold the lock is discarded with it; a
    client's session keeps living without the lock.

    Raises:
        ControlConflict: no session holds the lock.
    """
    json_object(allowed=())
    with array().guarded():
        holder = array().lock_holder
        session = array().sessions.get(holder) if holder is not None else None
        if session is None:
            raise ControlConflict(reason="no session holds the lock")

        principal = Principal(session.user, session)
        array().unlock(principal, RequestInfo(method="POST", url=request.path))
        if session.session_id in plane().holder_sessions:
            plane().holder_sessions.discard(session.session_id)
            array().expire_session(session.session_id)

    _changed("lock_released", session_id=session.session_id)

    return reply({"sessionId": session.session_id})


# -- jobs -----------------------------------------------------------------------


@bp.get("/jobs/policy")
def get_job_policy() -> Response:
    """How jobs accepted from now on progress."""
    return reply(state.policy_body(array().job_policy))


@bp.post("/jobs/policy")
def set_job_policy() -> Response:
    """Make new jobs complete at once, after N polls or T clock seconds, or fail."""
    body = json_object(allowed=("progress", "polls", "seconds", "failSsb"))
    policy = state.parse_policy(body, "policy")
    array().set_job_policy(policy)
    _changed("job_policy", progress=policy.progress)

    return reply(state.policy_body(policy))


# -- faults ---------------------------------------------------------------------


@bp.get("/faults")
def list_faults() -> Response:
    """Every fault rule, with how often it fired."""
    return reply({"data": plane().faults.rules()})


@bp.post("/faults")
def add_fault() -> Response:
    """Add a fault rule; 201 with the rule and its ID."""
    body = json_object(allowed=RULE_FIELDS, empty_ok=False)
    cap = float(array().profile.section("control")["max_fault_delay_seconds"])
    rule = plane().faults.add(body, cap)
    _changed("fault_added", rule=rule.rule_id)

    return reply(rule.body(), status=201)


@bp.post("/faults/clear")
def clear_faults() -> Response:
    """Remove one rule (``{"id": N}``) or every rule (``{}``)."""
    body = json_object(allowed=("id",))
    rule_id = None
    if "id" in body:
        rule_id = integer(body["id"], "id", 1, 2**31)
    removed = plane().faults.clear(rule_id)
    if rule_id is not None and not removed:
        raise NotFound(object=f"_emulator/faults/{rule_id}")

    return reply({"removed": removed})


# -- journal and conformance ----------------------------------------------------


@bp.get("/journal")
def get_journal() -> Response:
    """The newest requests, oldest first, secrets redacted."""
    limit = query_integer("limit", MAX_JOURNAL_LIMIT, 0, MAX_JOURNAL_LIMIT)

    return reply({"data": plane().journal.entries(limit)})


@bp.post("/journal/clear")
def clear_journal() -> Response:
    """Forget every request recorded so far."""
    json_object(allowed=())
    plane().journal.clear()

    return reply({"cleared": True})


@bp.get("/conformance")
def get_conformance() -> Response:
    """How each client in the journal fares against the rules of a careful client."""
    return reply(conformance.report(plane().journal.entries()))
