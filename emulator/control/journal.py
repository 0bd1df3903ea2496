"""The request journal: what clients asked of the emulated array, secrets removed.

``JournalRecorder`` is WSGI middleware around the emulator's app. For each request
outside the control plane it records who asked (the user behind the credentials or
the session, never the credentials themselves), what was asked (method, path,
redacted query and body, Accept), and how the array answered (status, messageId,
Retry-After, the session or job the answer names). The journal keeps the newest
``[control] journal_size`` requests, oldest first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypedDict

from emulator.control.redact import redact_body, redact_query
from emulator.model.array import Array

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CONTROL_PREFIX = "/_emulator"
FAULT_KEY = "emulator.fault"
TOKEN_REF_CHARS = 12
READABLE_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "")
MAX_PARSED_REPLY_BYTES = 65536


class JournalEntry(TypedDict):
    """One request and its answer, as the journal shows it."""

    seq: int
    time: float
    clock: float
    address: str
    client: str
    method: str
    path: str
    query: str
    auth: str
    user: str | None
    sessionId: int | None
    tokenRef: str | None
    accept: str | None
    contentType: str | None
    userAgent: str | None
    body: str
    bodyBytes: int
    secretInUrl: bool
    status: int | None
    messageId: str | None
    solutionType: str | None
    retryAfter: str | None
    createdSessionId: int | None
    jobId: int | None
    jobStatus: str | None
    jobState: str | None
    fault: int | None
    durationMs: float


class Journal:
    """A bounded, thread-safe list of journal entries, oldest first."""

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self._entries: list[JournalEntry] = []
        self._seq = 0
        self._token_owners: dict[str, tuple[str, int]] = {}
        self._token_key = secrets.token_bytes(32)
        self._guard = threading.Lock()

    def token_ref(self, token: str) -> str:
        """A short reference that tells tokens apart and cannot be turned back."""
        digest = hmac.new(self._token_key, token.encode(), hashlib.sha256)

        return digest.hexdigest()[:TOKEN_REF_CHARS]

    def remember_token(self, token_ref: str, user: str, session_id: int) -> None:
        """Note whose token this is, to name it once the token is dead."""
        with self._guard:
            self._token_owners[token_ref] = (user, session_id)

    def token_owner(self, token_ref: str) -> tuple[str | None, int | None]:
        """The user and session a token was last seen for."""
        with self._guard:
            return self._token_owners.get(token_ref, (None, None))

    def next_seq(self) -> int:
        """A new sequence number."""
        with self._guard:
            self._seq += 1

            return self._seq

    def append(self, entry: JournalEntry) -> None:
        """Add an entry, dropping the oldest past the journal's size."""
        with self._guard:
            self._entries.append(entry)
            excess = len(self._entries) - max(1, self._size())
            if excess > 0:
                del self._entries[:excess]

    def entries(self, limit: int | None = None) -> list[JournalEntry]:
        """The newest ``limit`` entries (all without a limit), oldest first."""
        with self._guard:
            chosen = self._entries if limit is None else self._entries[-limit:]

            return [entry.copy() for entry in chosen] if limit != 0 else []

    def clear(self) -> None:
        """Forget every entry."""
        with self._guard:
            self._entries.clear()
            self._token_owners.clear()


class JournalRecorder:
    """WSGI middleware that records each request to the emulated API."""

    def __init__(self, app: WsgiApp, array: Array, journal: Journal) -> None:
        self.app = app
        self.array = array
        self.journal = journal

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)

        entry = self._begin(environ)
        started = time.monotonic()
        answer: dict[str, Any] = {}

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = headers
            return start_response(status, headers, exc_info)

        try:
            chunks = _collect(self.app(environ, recording_start_response))
        except ConnectionError:
            self._finish(entry, environ, answer, b"", started)
            raise

        self._finish(entry, environ, answer, b"".join(chunks), started)

        return chunks

    # -- the request ---------------------------------------------------------------

    def _begin(self, environ: dict[str, Any]) -> JournalEntry:
        passwords = [user.password for user in self.array.profile.users]
        query, secret_in_url = redact_query(environ.get("QUERY_STRING", ""), passwords)
        raw, size = _read_body(environ, self._body_limit())
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        settings = self.array.profile.section("control")
        auth, user, session_id, token_ref = self._who(environ)
        address = str(environ.get("REMOTE_ADDR", ""))

        return {
            "seq": self.journal.next_seq(),
            "time": time.time(),
            "clock": self.array.clock.now(),
            "address": address,
            "client": f"{user or '-'}@{address}",
            "method": str(environ.get("REQUEST_METHOD", "")),
            "path": str(environ.get("PATH_INFO", "")),
            "query": query,
            "auth": auth,
            "user": user,
            "sessionId": session_id,
            "tokenRef": token_ref,
            "accept": environ.get("HTTP_ACCEPT"),
            "contentType": environ.get("CONTENT_TYPE") or None,
            "userAgent": environ.get("HTTP_USER_AGENT"),
            "body": _body_text(raw, size, mimetype, passwords, settings),
            "bodyBytes": size,
            "secretInUrl": secret_in_url,
            "status": None,
            "messageId": None,
            "solutionType": None,
            "retryAfter": None,
            "createdSessionId": None,
            "jobId": None,
            "jobStatus": None,
            "jobState": None,
            "fault": None,
            "durationMs": 0.0,
        }

    def _body_limit(self) -> int:
        return int(self.array.profile.section("limits")["max_body_bytes"])

    def _who(
        self, environ: dict[str, Any]
    ) -> tuple[str, str | None, int | None, str | None]:
        """The scheme, user, session ID and token reference behind Authorization."""
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, credentials = header.strip().partition(" ")
        scheme = scheme.lower()
        if not header.strip():
            return "none", None, None, None

        if scheme == "basic":
            return "basic", _basic_user(credentials.strip()), None, None

        if scheme != "session":
            return "other", None, None, None

        token = credentials.strip()
        token_ref = self.journal.token_ref(token)
        session = self.array.session_for_token(token)
        if session is None:
            user, session_id = self.journal.token_owner(token_ref)
            return "session", user, session_id, token_ref

        self.journal.remember_token(token_ref, session.user.name, session.session_id)

        return "session", session.user.name, session.session_id, token_ref

    # -- the answer ----------------------------------------------------------------

    def _finish(
        self,
        entry: JournalEntry,
        environ: dict[str, Any],
        answer: dict[str, Any],
        body: bytes,
        started: float,
    ) -> None:
        fault = environ.get(FAULT_KEY)
        entry["fault"] = getattr(fault, "rule_id", None)
        entry["durationMs"] = round((time.monotonic() - started) * 1000, 3)
        if "status" not in answer:
            self.journal.append(entry)
            return

        entry["status"] = answer["status"]
        headers = {name.lower(): value for name, value in answer["headers"]}
        entry["retryAfter"] = headers.get("retry-after")
        if "json" in headers.get("content-type", ""):
            token = _note_reply(entry, body)
            if token is not None and entry["createdSessionId"] is not None:
                token_ref = self.journal.token_ref(token)
                user = entry["user"] or ""
                self.journal.remember_token(token_ref, user, entry["createdSessionId"])
        self.journal.append(entry)


def _collect(body: Iterable[bytes]) -> list[bytes]:
    # The emulator's replies are small and never streamed: reading them whole lets
    # the journal look at them before the client gets them.
    try:
        return list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _read_body(environ: dict[str, Any], limit: int) -> tuple[bytes, int]:
    """The request body when it is small and JSON or a form; its declared size."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if size <= 0 or size > limit or mimetype not in READABLE_BODY_TYPES:
        return b"", size

    raw = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(raw)

    return raw, size


def _body_text(
    raw: bytes,
    size: int,
    mimetype: str,
    passwords: list[str],
    settings: dict[str, Any],
) -> str:
    limit = int(settings["journal_body_chars"])
    if size and not raw:
        return f"<{size} bytes of {mimetype or 'unknown type'}, not recorded>"

    return redact_body(raw, mimetype, passwords, limit)


def _basic_user(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None

    name, colon, _ = decoded.partition(":")

    return name if colon else None


def _note_reply(entry: JournalEntry, body: bytes) -> str | None:
    """Copy the facts the conformance rules need out of a JSON reply.

    The reply itself is not kept: a session's reply holds its token, which is
    returned (for the journal to know it by reference), never recorded.
    """
    if len(body) > MAX_PARSED_REPLY_BYTES:
        return None

    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None

    status = entry["status"] or 0
    if status >= 400:
        entry["messageId"] = _text(parsed.get("messageId"))
        entry["solutionType"] = _text(parsed.get("solutionType"))
    if status == 200 and entry["method"] == "POST" and "token" in parsed:
        entry["createdSessionId"] = _number(parsed.get("sessionId"))
    if "jobId" in parsed:
        entry["jobId"] = _number(parsed.get("jobId"))
        entry["jobStatus"] = _text(parsed.get("status"))
        entry["jobState"] = _text(parsed.get("state"))

    return _text(parsed.get("token")) if entry["createdSessionId"] else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
