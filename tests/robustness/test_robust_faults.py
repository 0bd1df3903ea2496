"""Faults on the wire: dropped downloads, requests cut short, a server restart.

State files (saving the array across processes) are not part of the emulator yet;
the restart here stops and starts the HTTP server over the same array, which is
what ``EmulatorServer`` offers today.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.server import EmulatorServer, create_app, serve_in_thread
from tests.robustness.support import BACKUP, KEY_COUNTS, LOCK, OBJECTS, UNLOCK, Client

CUT_SHORT = 20
ANSWER_WITHIN_SECONDS = 2.0
# 8 DEKs, 2 CEKs and 1 KEK come from the defaults; these fill the array to 4,096.
MANY_KEYS = "\n[keys]\nfree = 4085\n"


def _reset_on_close(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST: the client vanishes
    # without the orderly shutdown a careful client would do.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _backup_request(token: str) -> bytes:
    body = b'{"parameters": {"password": "Backup-pass-1"}}'
    head = (
        f"POST {BACKUP} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Session {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )

    return head.encode() + body


def _backup_counts(own: Client) -> set[int]:
    response = own.call("GET", f"{OBJECTS}/encryption-keys?keyType=DEKANDFREE")
    assert response.status_code == 200

    return {int(k["numOfBackups"]) for k in response.json()["data"]}


@pytest.fixture
def many_keys(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator whose 4,096 keys make a backup file of many segments."""
    profile = tmp_path / "many-keys.toml"
    base = Path(__file__).parents[2] / "fixtures" / "profiles" / "vsp-e990.toml"
    profile.write_text(base.read_text() + MANY_KEYS)
    server = serve_in_thread(str(profile))
    yield server
    server.stop()


def test_fault__download_dropped(many_keys: EmulatorServer) -> None:
    """A client that drops a backup download mid-way leaves a server that serves on,
    and the backup counted once."""
    own = Client(many_keys.url)
    assert own.login().status_code == 200
    assert own.token is not None
    conn = socket.create_connection(("127.0.0.1", many_keys.port))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.sendall(_backup_request(own.token))
    assert conn.recv(1024).startswith(b"HTTP/1.1 200")
    _reset_on_close(conn)

    again = own.backup()

    assert again.status_code == 200
    assert len(again.content) > 100_000
    assert _backup_counts(own) == {2}


def test_fault__requests_cut_short(emulator: EmulatorServer) -> None:
    """Requests whose body never arrives change nothing and do not block others."""
    own = Client(emulator.url)
    assert own.login().status_code == 200
    assert own.token is not None
    cut = []
    for _ in range(CUT_SHORT):
        conn = socket.create_connection(("127.0.0.1", emulator.port))
        conn.sendall(_backup_request(own.token)[:-10])
        cut.append(conn)

    started = time.monotonic()
    counts = own.call("GET", KEY_COUNTS)
    answered = time.monotonic() - started
    for conn in cut:
        _reset_on_close(conn)

    assert counts.status_code == 200
    assert answered < ANSWER_WITHIN_SECONDS
    assert _backup_counts(own) == {0}
    assert emulator.array.backups_made == 0


def test_fault__lock_request_cut_short(emulator: EmulatorServer) -> None:
    """A lock request cut off before its body ends takes no lock and makes no job."""
    own = Client(emulator.url)
    assert own.login().status_code == 200
    body = b'{"parameters": {"waitTime": 0}}'
    head = (
        f"POST {LOCK} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Session "
        f"{own.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    conn = socket.create_connection(("127.0.0.1", emulator.port))
    conn.sendall(head + body[:10])
    _reset_on_close(conn)

    locked = own.call("POST", LOCK, json={})

    assert locked.status_code == 202
    assert locked.json()["jobId"] == 1
    assert emulator.array.lock_holder == own.session_id


def test_fault__server_restart_keeps_array(tmp_path: Path) -> None:
    """Stopping and starting the server over the same array loses no session,
    lock or backup count, and a client's old connection simply reconnects."""
    app = create_app("vsp-e990")
    first = EmulatorServer(app).start()
    own = Client(first.url)
    assert own.login().status_code == 200
    assert own.call("POST", LOCK, json={}).status_code == 202
    assert own.call("POST", UNLOCK, json={}).status_code == 202
    assert own.call("POST", LOCK, json={}).status_code == 202
    port = first.port
    first.stop()

    second = EmulatorServer(app, port=port).start()
    try:
        sessions = own.call("GET", f"{OBJECTS}/sessions")
        held = app.extensions["array"].lock_holder
    finally:
        second.stop()

    assert sessions.status_code == 200
    assert [s["sessionId"] for s in sessions.json()["data"]] == [own.session_id]
    assert held == own.session_id
