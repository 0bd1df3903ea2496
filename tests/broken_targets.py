"""Deliberately broken arrays: WSGI middlewares in front of the emulator.

Each breaks one rule of the contract, the way a faulty array or a faulty emulator
might. The contract kit must catch every one and name the rule it broke.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]

BACKUP_SUFFIX = "/encryption-keys/file/actions/backup/invoke"
LOCK_SUFFIX = "/resource-group-service/actions/lock/invoke"
SESSIONS_MARK = "/sessions/"
OCTET_STREAM = "application/octet-stream"


def _is(environ: Environ, method: str, suffix: str) -> bool:
    path = str(environ.get("PATH_INFO", "")).rstrip("/")

    return environ.get("REQUEST_METHOD") == method and path.endswith(suffix)


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)

    return environ["wsgi.input"].read(length) if length else b""


def _set_body(environ: Environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _json_reply(
    start_response: StartResponse, status: str, body: object
) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json;charset=UTF-8"),
            ("Content-Length", str(len(data))),
        ],
    )

    return [data]


class Middleware:
    """Base: pass everything through to the emulator."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        return self.app(environ, start_response)


class AcceptsFiveLetterPassword(Middleware):
    """Takes a five-character backup password (pads it before the emulator sees it)."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if _is(environ, "POST", BACKUP_SUFFIX):
            body = _read_body(environ)
            try:
                value = json.loads(body)
                password = value["parameters"]["password"]
                if isinstance(password, str) and len(password) == 5:
                    value["parameters"]["password"] = password + "5"
                    body = json.dumps(value).encode()
            except (ValueError, KeyError, TypeError):
                pass
            _set_body(environ, body)

        return self.app(environ, start_response)


class DropsContentDisposition(Middleware):
    """Sends the backup file without its Content-Disposition header."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        def start(status: str, headers: Headers, *args: Any) -> Any:
            kept = [(n, v) for n, v in headers if n.lower() != "content-disposition"]
            return start_response(status, kept, *args)

        return self.app(environ, start)


class ServesJsonOnlyAccept(Middleware):
    """Answers a backup whatever its Accept says (200 to a JSON-only Accept)."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if _is(environ, "POST", BACKUP_SUFFIX):
            environ["HTTP_ACCEPT"] = OCTET_STREAM

        return self.app(environ, start_response)


class KeepsDiscardedToken(Middleware):
    """Answers a session's discard with 200 but leaves the session alive."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") == "DELETE" and SESSIONS_MARK in path:
            session_id = path.rstrip("/").rsplit("/", 1)[-1]
            return _json_reply(start_response, "200 OK", {"sessionId": int(session_id)})

        return self.app(environ, start_response)


class IgnoresLock(Middleware):
    """Answers the lock service with a succeeded job but never takes the lock."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if _is(environ, "POST", LOCK_SUFFIX):
            job = {"jobId": 1, "status": "Completed", "state": "Succeeded"}
            return _json_reply(start_response, "202 Accepted", job)

        return self.app(environ, start_response)


class LeaksPassword(Middleware):
    """Appends the backup password to the backup file."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not _is(environ, "POST", BACKUP_SUFFIX):
            return self.app(environ, start_response)

        body = _read_body(environ)
        _set_body(environ, body)
        try:
            password = str(json.loads(body)["parameters"]["password"]).encode()
        except (ValueError, KeyError, TypeError):
            password = b""
        captured: dict[str, Any] = {}

        def start(status: str, headers: Headers, *args: Any) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        data = b"".join(self.app(environ, start))
        if captured["status"].startswith("200"):
            data += password
        headers = [
            (n, v) for n, v in captured["headers"] if n.lower() != "content-length"
        ]
        start_response(
            captured["status"], [*headers, ("Content-Length", str(len(data)))]
        )

        return [data]


class HtmlErrors(Middleware):
    """Renders every error as an HTML page instead of the array's error object."""

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: Headers, *args: Any) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        data = b"".join(self.app(environ, start))
        status, headers = captured["status"], captured["headers"]
        if int(status.split()[0]) >= 400:
            data = f"<html><body><h1>{status}</h1></body></html>".encode()
            headers = [
                (n, v)
                for n, v in headers
                if n.lower() not in ("content-type", "content-length")
            ]
            headers += [
                ("Content-Type", "text/html"),
                ("Content-Length", str(len(data))),
            ]
        start_response(status, headers)

        return [data]


class ReportsNewerMicrocode(Middleware):
    """Claims a microcode the support matrix accepts, on an array that refuses (412)."""

    claimed = "88-08-00/00"

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO", "")).endswith("/storages/instance"):
            return self.app(environ, start_response)

        captured: dict[str, Any] = {}

        def start(status: str, headers: Headers, *args: Any) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        data = b"".join(self.app(environ, start))
        if captured["status"].startswith("200"):
            detail = json.loads(data)
            detail["dkcMicroVersion"] = self.claimed
            data = json.dumps(detail).encode()
        headers = [
            (n, v) for n, v in captured["headers"] if n.lower() != "content-length"
        ]
        start_response(
            captured["status"], [*headers, ("Content-Length", str(len(data)))]
        )

        return [data]
