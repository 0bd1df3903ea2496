"""The kit's HTTP client: every request it sends, paced, recorded and redacted.

The client keeps the promises the kit makes to a real array: at most two sessions
open at a time, requests spaced out, and every session it opened discarded and every
lock it took released when a test ends, whether the test passed, failed or was
interrupted (``close``).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from contract_tests.report import (
    BASIC,
    TOKEN_VARIABLE,
    Observations,
    ShortRequest,
    curl_line,
)
from contract_tests.secret import Secret

logger = logging.getLogger(__name__)

OBJECTS = "/ConfigurationManager/v1/objects"
SESSIONS = f"{OBJECTS}/sessions"
SERVICES = "/ConfigurationManager/v1/services"
LOCK = f"{SERVICES}/resource-group-service/actions/lock/invoke"
UNLOCK = f"{SERVICES}/resource-group-service/actions/unlock/invoke"
BACKUP = f"{OBJECTS}/encryption-keys/file/actions/backup/invoke"
RESTORE = f"{OBJECTS}/encryption-keys/file/actions/restore/invoke"
JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
REQUEST_TIMEOUT_SECONDS = 60.0
JOB_WAIT_SECONDS = 30.0
JOB_POLL_SECONDS = 0.5
JOB_DONE_STATES = frozenset({"Succeeded", "Failed"})
SHOWN_HEADERS = ("Accept", "Content-Type", "Response-Job-Status")


class KitLimitReached(RuntimeError):
    """The kit refused to break one of its own promises to the target."""


@dataclass(frozen=True)
class Token:
    """Authenticate with a session's token.

    Attributes:
        value: the token.
        state: how reports describe the session (``ended``, ``expired``), if not live.
    """

    value: Secret
    state: str = ""


@dataclass(frozen=True)
class Basic:
    """Authenticate with a user name and password."""

    user: str
    password: Secret


@dataclass(frozen=True)
class RawAuthorization:
    """Send this Authorization value as it is (a malformed token: no secret)."""

    value: str


Auth = Token | Basic | RawAuthorization | None


@dataclass(frozen=True)
class Reply:
    """A reply, with the request that produced it in short."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    request: ShortRequest
    curl: str

    @property
    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    @property
    def message_id(self) -> str | None:
        """The messageId of an error object, if the body is one."""
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("messageId"), str):
            return str(body["messageId"])

        return None

    def describe(self) -> str:
        """Status, messageId and message in one line, as failures show them."""
        body = self.json
        if isinstance(body, dict) and "message" in body:
            return f"{self.status} {self.message_id}: {body['message']}"

        content_type = self.headers.get("Content-Type", "no Content-Type")

        return f"{self.status} ({content_type}, {len(self.body)} bytes)"


@dataclass
class Session:
    """A session the kit opened."""

    session_id: int
    token: Secret
    holds_lock: bool = False
    open: bool = True

    @property
    def auth(self) -> Token:
        """How requests authenticate as this session."""
        return Token(self.token, "" if self.open else "ended")


@dataclass
class Pacer:
    """Spaces requests out: at least ``interval`` seconds between two sends."""

    interval: float
    _last: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait(self) -> None:
        """Block until the next request may go."""
        if self.interval <= 0:
            return

        with self._lock:
            delay = self._last + self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last = time.monotonic()


@dataclass
class Connection:
    """What every client of one target shares."""

    base_url: str
    verify: str | bool
    pacer: Pacer
    observations: Observations
    max_sessions: int | None
    http: requests.Session = field(default_factory=requests.Session)
    open_sessions: set[int] = field(default_factory=set)


class ArrayClient:
    """Talks to one target over HTTP and cleans up after itself.

    Args:
        connection: the target's shared connection.
        credentials: the user sessions are opened as.
    """

    def __init__(self, connection: Connection, credentials: Basic) -> None:
        self.connection = connection
        self.credentials = credentials
        self.sessions: list[Session] = []

    @property
    def base_url(self) -> str:
        """The target's base URL."""
        return self.connection.base_url

    def send(
        self,
        method: str,
        path: str,
        *,
        probe: str,
        auth: Auth = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        shown_body: str | None = None,
        files: dict[str, Any] | None = None,
    ) -> Reply:
        """Send one request and record it.

        Args:
            probe: a name for the request in the observations.
            auth: how to authenticate, if at all.
            headers: headers to send besides Authorization.
            body: the raw body, if any.
            shown_body: the body as reports show it, secrets already replaced.
            files: a multipart upload (restore).
        """
        sent_headers = dict(headers or {})
        shown_auth = _apply_auth(auth, sent_headers)
        short = ShortRequest(
            method=method,
            path=path,
            auth=shown_auth,
            session_state=auth.state if isinstance(auth, Token) else "",
            headers=tuple(
                (n, v) for n, v in sent_headers.items() if n in SHOWN_HEADERS
            ),
            body=shown_body if shown_body is not None else _shown(body),
        )
        self.connection.pacer.wait()
        response = self.connection.http.request(
            method,
            self.base_url + path,
            headers=sent_headers,
            data=body,
            files=files,
            verify=self.connection.verify,
            timeout=REQUEST_TIMEOUT_SECONDS,
            allow_redirects=False,
        )

        return self._record(probe, short, response)

    def _record(
        self, probe: str, short: ShortRequest, response: requests.Response
    ) -> Reply:
        insecure = self.connection.verify is False
        reply = Reply(
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            request=short,
            curl=curl_line(self.base_url, short, insecure=insecure),
        )
        self.connection.observations.add(probe, short, reply.status, reply.message_id)

        return reply

    # -- sessions ----------------------------------------------------------------

    def open_session(self, *, probe: str = "session.open") -> Session:
        """Open a session as the kit's user.

        Raises:
            KitLimitReached: the kit already holds its most sessions.
            AssertionError: the target refused to open it.
        """
        limit = self.connection.max_sessions
        if limit is not None and len(self.connection.open_sessions) >= limit:
            raise KitLimitReached(f"the kit opens at most {limit} sessions at a time")

        reply = self.send("POST", SESSIONS, probe=probe, auth=self.credentials)
        body = reply.json
        if reply.status != 200 or not isinstance(body, dict) or "token" not in body:
            raise AssertionError(f"the target opened no session: {reply.describe()}")

        session = Session(int(body["sessionId"]), Secret(str(body["token"])))
        self.sessions.append(session)
        self.connection.open_sessions.add(session.session_id)

        return session

    def open_sessions(self) -> list[Session]:
        """The sessions this client opened and has not discarded."""
        return [s for s in self.sessions if s.open]

    def discard(self, session: Session, *, probe: str = "session.discard") -> Reply:
        """Discard a session (its lock goes with it)."""
        reply = self.send(
            "DELETE",
            f"{SESSIONS}/{session.session_id}",
            probe=probe,
            auth=session.auth,
        )
        if reply.status == 200:
            self.forget(session)

        return reply

    def forget(self, session: Session) -> None:
        """Stop tracking a session that ended (discarded or expired)."""
        session.open = False
        session.holds_lock = False
        self.connection.open_sessions.discard(session.session_id)

    # -- locks and jobs ------------------------------------------------------------

    def lock(
        self, session: Session, *, wait_time: int = 0, probe: str = "lock"
    ) -> Reply:
        """Ask for the resource lock; a finished, succeeded job means it is held."""
        body = json.dumps({"parameters": {"waitTime": wait_time}}).encode()
        reply = self._invoke(LOCK, session, body, probe)
        if self.job_succeeded(reply, session):
            session.holds_lock = True

        return reply

    def unlock(self, session: Session, *, probe: str = "unlock") -> Reply:
        """Release the resource lock."""
        reply = self._invoke(UNLOCK, session, None, probe)
        if self.job_succeeded(reply, session):
            session.holds_lock = False

        return reply

    def _invoke(
        self, path: str, session: Session, body: bytes | None, probe: str
    ) -> Reply:
        headers = {"Content-Type": JSON, "Response-Job-Status": "Completed"}

        return self.send(
            "POST", path, probe=probe, auth=session.auth, headers=headers, body=body
        )

    def job_succeeded(self, reply: Reply, session: Session) -> bool:
        """Whether a 202 reply's job finished and succeeded (polling if needed)."""
        job = reply.json
        if reply.status != 202 or not isinstance(job, dict):
            return False

        deadline = time.monotonic() + JOB_WAIT_SECONDS
        while job.get("state") not in JOB_DONE_STATES and time.monotonic() < deadline:
            time.sleep(JOB_POLL_SECONDS)
            polled = self.send(
                "GET", f"{OBJECTS}/jobs/{job['jobId']}", probe="job", auth=session.auth
            )
            job = polled.json if isinstance(polled.json, dict) else job

        return bool(job.get("state") == "Succeeded")

    # -- clean-up ------------------------------------------------------------------

    def close(self) -> None:
        """Release every lock and discard every session this client opened.

        Runs on failure and interrupt too; it never raises, so that one refused
        discard does not stop the others.
        """
        for session in self.open_sessions():
            try:
                if session.holds_lock:
                    self.unlock(session, probe="cleanup.unlock")
                self.discard(session, probe="cleanup.discard")
            except requests.RequestException as exc:
                logger.warning(
                    "contract.cleanup_failed",
                    extra={
                        "contract.session_id": session.session_id,
                        "contract.error": type(exc).__name__,
                    },
                )


def _apply_auth(auth: Auth, headers: dict[str, str]) -> str | None:
    if isinstance(auth, Token):
        headers["Authorization"] = f"Session {auth.value.reveal()}"
        return f"Session {TOKEN_VARIABLE}"

    if isinstance(auth, Basic):
        headers["Authorization"] = _basic_header(auth)
        return BASIC

    if isinstance(auth, RawAuthorization):
        headers["Authorization"] = auth.value
        return auth.value

    return None


def _basic_header(auth: Basic) -> str:
    pair = f"{auth.user}:{auth.password.reveal()}".encode()

    return "Basic " + base64.b64encode(pair).decode("ascii")


def _shown(body: bytes | None) -> str | None:
    if body is None:
        return None

    return body.decode("utf-8", "backslashreplace")
