"""Faults on the wire: dropped downloads, requests cut short, server restarts (over
the same array in memory, and through a state file with ``serve --state``)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from emulator.server import EmulatorServer, create_app, serve_in_thread
from tests.robustness.support import BACKUP, KEY_COUNTS, LOCK, OBJECTS, UNLOCK, Client
from tests.test_state_file import serve

CUT_SHORT = 20
BUSY_CLIENTS = 4
BUSY_SECONDS = 20.0
MIN_CALLS = 60
INITIAL_KEYS = 64
# Keys 0 to 63 exist from the start in the default profile; later IDs are created.
INITIAL_FREE_KEYS = 64
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


@dataclass
class Traffic:
    """What clients saw succeed while the server was stopped under them."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    backups: int = 0
    created: int = 0
    calls: int = 0


def _busy_client(url: str, traffic: Traffic, stop: threading.Event) -> None:
    own = Client(url)
    if own.login().status_code != 200:
        return

    while not stop.is_set():
        try:
            backup = own.backup()
            created = own.call("POST", f"{OBJECTS}/encryption-keys", json={"count": 1})
        except requests.RequestException:
            return
        with traffic.guard:
            traffic.calls += 2
            traffic.backups += backup.status_code == 200
            traffic.created += created.status_code == 202


def _keys(url: str) -> list[dict[str, object]]:
    own = Client(url)
    assert own.login().status_code == 200
    reply = own.call("GET", f"{OBJECTS}/encryption-keys?keyType=DEKANDFREE")
    assert reply.status_code == 200
    counts = own.call("GET", KEY_COUNTS).json()
    own.logout()
    data: list[dict[str, object]] = reply.json()["data"]

    return [*data, {"numOfKeys": counts["numOfKeys"]}]


def test_fault__restart_with_state_file_under_load(tmp_path: Path) -> None:
    """A server stopped while clients back up and create keys saves every change
    a client saw succeed, and none half-done, in its state file."""
    state_file = tmp_path / "state.json"
    traffic, stop = Traffic(), threading.Event()
    with serve(state_file) as url:
        clients = [
            threading.Thread(target=_busy_client, args=(url, traffic, stop))
            for _ in range(BUSY_CLIENTS)
        ]
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + BUSY_SECONDS
        while traffic.calls < MIN_CALLS and time.monotonic() < deadline:
            time.sleep(0.05)
    stop.set()
    for thread in clients:
        thread.join(timeout=30)

    with serve(state_file) as url:
        *keys, total = _keys(url)

    initial = [k for k in keys if int(str(k["keyId"])) < INITIAL_FREE_KEYS]
    backed_up = {int(str(k["numOfBackups"])) for k in initial}
    assert traffic.backups > 0 and traffic.created > 0
    assert len(backed_up) == 1
    assert traffic.backups <= backed_up.pop() <= traffic.backups + BUSY_CLIENTS
    created = int(str(total["numOfKeys"])) - INITIAL_KEYS
    assert traffic.created <= created <= traffic.created + BUSY_CLIENTS
