"""Hostile requests over raw sockets: never a 5xx, always the error object, and the
array's state as it was."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from emulator.server import EmulatorServer, serve_in_thread
from tests.robustness.support import (
    BACKUP,
    ERROR_FIELDS,
    LOCK,
    OBJECTS,
    RESTORE,
    Client,
)

READ_TIMEOUT = 15.0
NESTING = 100_000
HUGE_BODY = 2 * 1024 * 1024
HUGE_UPLOAD = 9 * 1024 * 1024
SESSIONS = f"{OBJECTS}/sessions"
KEYS = f"{OBJECTS}/encryption-keys"
BASIC = "Basic " + base64.b64encode(b"secadmin:secadmin-pass").decode()


@dataclass(frozen=True)
class Reply:
    """A reply read off the wire: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass

    return b"".join(chunks)


def _parse(raw: bytes) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))

    return Reply(status, headers, body[:length])


def send_raw(port: int, data: bytes) -> Reply:
    """Send bytes as one request on a fresh connection and read the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as conn:
        # The server may answer and close before a huge body is all sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(data)
        raw = _read_all(conn)

    assert raw, "the server closed the connection without a reply"

    return _parse(raw)


def request(
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    length: bool = True,
) -> bytes:
    """Build a request by hand, headers in order and duplicates kept."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    if length and body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")

    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _json_post(target: str, body: bytes, auth: str) -> bytes:
    headers = [("Authorization", auth), ("Content-Type", "application/json")]

    return request("POST", target, headers=headers, body=body)


def catalogue(token: str) -> dict[str, bytes]:
    """Every hostile request, by name; ``token`` is a live session's."""
    auth = f"Session {token}"
    nested_list = b"[" * NESTING + b"]" * NESTING
    nested_object = b'{"parameters":' + b'{"a":' * NESTING + b"1" + b"}" * NESTING
    nested_object += b"}"

    return {
        "malformed_json_session": _json_post(SESSIONS, b'{"aliveTime": ', BASIC),
        "malformed_json_lock": _json_post(LOCK, b"{'waitTime': 1}", auth),
        "json_not_object": _json_post(LOCK, b'"lock"', auth),
        "deep_list": _json_post(LOCK, nested_list, auth),
        "deep_object": _json_post(BACKUP, nested_object, auth),
        "huge_json_body": _json_post(BACKUP, b" " * HUGE_BODY + b"{}", auth),
        "huge_upload": _json_post(RESTORE, b"x" * HUGE_UPLOAD, auth),
        "invalid_utf8_body": _json_post(
            BACKUP, b'{"parameters": {"password": "\xff\xfeabcdef"}}', auth
        ),
        "invalid_utf8_path": request(
            "GET",
            f"{KEYS}/\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
            headers=[("Authorization", auth)],
        ),
        "invalid_utf8_token": request(
            "GET",
            f"{KEYS}?keyType=DEK",
            headers=[("Authorization", "Session \xff\xfe")],
        ),
        "invalid_utf8_basic": _json_post(
            SESSIONS, b"{}", "Basic " + base64.b64encode(b"\xff:\xfe").decode()
        ),
        "huge_header": request(
            "GET", f"{KEYS}?keyType=DEK", headers=[("X-Filler", "a" * 70_000)]
        ),
        "many_headers": request(
            "GET",
            f"{KEYS}?keyType=DEK",
            headers=[(f"X-H{n}", "v") for n in range(2000)],
        ),
        "duplicate_authorization": request(
            "POST",
            LOCK,
            headers=[("Authorization", auth), ("Authorization", BASIC)],
        ),
        "duplicate_content_length": request(
            "POST",
            LOCK,
            headers=[
                ("Authorization", auth),
                ("Content-Length", "2"),
                ("Content-Length", "40"),
            ],
            body=b"{}",
            length=False,
        ),
        "negative_content_length": request(
            "POST", LOCK, headers=[("Authorization", auth), ("Content-Length", "-5")]
        ),
        "text_content_length": request(
            "POST", LOCK, headers=[("Authorization", auth), ("Content-Length", "ten")]
        ),
        "bad_chunk_size": request(
            "POST",
            BACKUP,
            headers=[("Authorization", auth), ("Transfer-Encoding", "chunked")],
            body=b"zz\r\n{}\r\n0\r\n\r\n",
            length=False,
        ),
        "unknown_transfer_coding": request(
            "POST", LOCK, headers=[("Transfer-Encoding", "gzip, chunked")]
        ),
        "header_without_colon": request(
            "GET", SESSIONS, headers=[("Broken", "")]
        ).replace(b"Broken: ", b"Broken"),
        "accept_absurd": request(
            "POST",
            BACKUP,
            headers=[("Authorization", auth), ("Accept", "*/*;q=" + "9" * 5000)],
        ),
        "content_type_absurd": _json_post(LOCK, b"{}", auth).replace(
            b"application/json", b"application/json" + b"x" * 5000 + b"; q=1" * 500
        ),
        "method_trace": request("TRACE", SESSIONS),
        "method_propfind": request("PROPFIND", KEYS),
        "method_made_up": request("FROBNICATE", KEYS),
        "method_lower_case": request("get", KEYS),
        "method_connect": request("CONNECT", "127.0.0.1:22"),
        "method_options": request("OPTIONS", "*"),
        "http_version_unknown": request("GET", SESSIONS).replace(
            b"HTTP/1.1", b"HTTP/7.3", 1
        ),
        "request_line_garbage": b"\x00\x01\x02 garbage\r\n\r\n",
        "traversal_key": request(
            "GET", f"{KEYS}/../../sessions", headers=[("Authorization", auth)]
        ),
        "traversal_key_encoded": request(
            "DELETE",
            f"{KEYS}/..%2F..%2Fsessions%2F1",
            headers=[("Authorization", auth)],
        ),
        "traversal_session": request(
            "DELETE", f"{SESSIONS}/1%2F..%2F2", headers=[("Authorization", auth)]
        ),
        "traversal_job": request(
            "GET",
            f"{OBJECTS}/jobs/..%2F..%2Fetc%2Fpasswd",
            headers=[("Authorization", auth)],
        ),
        "nul_in_key_id": request(
            "GET", f"{KEYS}/1%00", headers=[("Authorization", auth)]
        ),
        "oversized_count": request(
            "GET",
            f"{KEYS}?keyType=DEK&count=" + "9" * 4000,
            headers=[("Authorization", auth)],
        ),
        "oversized_key_type": request(
            "GET", f"{KEYS}?keyType=" + "D" * 60_000, headers=[("Authorization", auth)]
        ),
        "oversized_time": request(
            "GET",
            f"{KEYS}?keyType=DEK&startCreatedTime=" + "2" * 20_000,
            headers=[("Authorization", auth)],
        ),
        "request_line_too_long": request("GET", f"{KEYS}?keyType=" + "D" * 70_000),
        "negative_start_key": request(
            "GET",
            f"{KEYS}?keyType=DEK&startKeyId=-1",
            headers=[("Authorization", auth)],
        ),
        "unicode_digits_id": request(
            "GET", f"{KEYS}/%D9%A3", headers=[("Authorization", auth)]
        ),
        "huge_session_id": request(
            "PATCH", f"{SESSIONS}/" + "9" * 5000, headers=[("Authorization", auth)]
        ),
        "huge_key_count": _json_post(KEYS, b'{"count": 1e400}', auth),
        "password_huge_number": _json_post(
            BACKUP, b'{"parameters": {"password": 1' + b"0" * 5000 + b"}}", auth
        ),
        "nan_wait_time": _json_post(LOCK, b'{"parameters": {"waitTime": NaN}}', auth),
    }


REQUESTS = tuple(catalogue("token"))


@dataclass
class Target:
    """The emulator under attack and a session that stays logged in."""

    server: EmulatorServer
    client: Client


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """One emulator for the whole catalogue, with a session logged in."""
    server = serve_in_thread("vsp-e990")
    own = Client(server.url)
    assert own.login().status_code == 200
    yield Target(server, own)
    server.stop()


def fingerprint(server: EmulatorServer) -> tuple[object, ...]:
    """The array's state that no refused request may change."""
    array = server.array
    with array.guarded():
        keys = {k: (v.key_type, v.num_of_backups) for k, v in array.keys.items()}

        return (
            sorted(array.sessions),
            array.lock_holder,
            keys,
            list(array.jobs),
            array.backups_made,
        )


def _is_error_object(reply: Reply) -> bool:
    if not reply.headers.get("content-type", "").startswith("application/json"):
        return False

    try:
        body = json.loads(reply.body)
    except ValueError:
        return False

    return isinstance(body, dict) and all(f in body for f in ERROR_FIELDS)


@pytest.mark.parametrize("name", REQUESTS)
def test_hostile__refused_cleanly(target: Target, name: str) -> None:
    """A hostile request gets a 4xx error object and leaves the array unchanged."""
    assert target.client.token is not None
    before = fingerprint(target.server)

    reply = send_raw(target.server.port, catalogue(target.client.token)[name])

    assert 400 <= reply.status < 500, reply.body[:300]
    assert _is_error_object(reply), reply.body[:300]
    assert fingerprint(target.server) == before


def test_hostile__server_still_serves(target: Target) -> None:
    """After the whole catalogue the session still works over a fresh connection."""
    response = target.client.call("GET", f"{KEYS}?keyType=DEK")

    assert response.status_code == 200
    assert len(response.json()["data"]) > 0
