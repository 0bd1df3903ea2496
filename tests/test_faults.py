"""Fault rules over real HTTP: answers, Retry-After, delays, drops, counts, chance."""

from __future__ import annotations

import time

import pytest
import requests

from emulator.control.client import ControlError
from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import OBJECTS, ArrayUser

SESSIONS = f"{OBJECTS}/sessions"


def test_fault__catalogue_situation_with_retry_after(
    array_emulator: ArrayEmulator,
) -> None:
    """A busy rule answers 503 KART00003-E with Retry-After and the array's headers."""
    array_emulator.control.add_fault(
        method="POST", path="*/sessions", situation="server_busy", retry_after=7
    )

    reply = ArrayUser(array_emulator).login()

    assert reply.status_code == 503
    assert reply.json()["messageId"] == "KART00003-E"
    assert reply.json()["solutionType"] == "RETRY"
    assert reply.headers["Retry-After"] == "7"
    assert reply.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_fault__status_only_uses_mapped_situation(
    array_emulator: ArrayEmulator,
) -> None:
    """A rule with only a status answers with the situation the profile maps it to."""
    array_emulator.control.add_fault(path="*/sessions", status=500)

    reply = ArrayUser(array_emulator).login()

    assert reply.status_code == 500
    assert reply.json()["messageId"] == "KART00002-E"


def test_fault__catalogue_message_id_keeps_headers(
    array_emulator: ArrayEmulator,
) -> None:
    """A messageId from the catalogue answers with that entry, headers included."""
    array_emulator.control.add_fault(path=f"{OBJECTS}/*", message_id="KART40047-E")
    user = ArrayUser(array_emulator)

    reply = user.call("GET", f"{OBJECTS}/jobs/1")

    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Session realm="Block storage"'


def test_fault__given_status_and_message_id(array_emulator: ArrayEmulator) -> None:
    """A status and messageId outside the catalogue are answered as given."""
    array_emulator.control.add_fault(
        path="*/storages*", status=502, message_id="KART99999-E"
    )

    reply = ArrayUser(array_emulator).call("GET", f"{OBJECTS}/storages")

    assert reply.status_code == 502
    body = reply.json()
    assert body["messageId"] == "KART99999-E"
    assert set(body) >= {"errorSource", "message", "cause", "solution"}


def test_fault__retry_after_alone_is_busy(array_emulator: ArrayEmulator) -> None:
    """A rule with only Retry-After answers 503 busy."""
    array_emulator.control.add_fault(path="*", retry_after=3)

    reply = ArrayUser(array_emulator).call("GET", f"{OBJECTS}/storages")

    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "3"


def test_fault__times_limits_firing(array_emulator: ArrayEmulator) -> None:
    """A rule for two times answers twice, then lets requests through."""
    array_emulator.control.add_fault(path="*/sessions", status=503, times=2)
    user = ArrayUser(array_emulator)

    statuses = [user.login().status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert array_emulator.control.faults()[0]["fired"] == 2


def test_fault__method_filter(array_emulator: ArrayEmulator) -> None:
    """A rule for POST leaves GET on the same path alone."""
    array_emulator.control.add_fault(method="POST", path="*/sessions", status=503)
    user = ArrayUser(array_emulator)

    reply = user.call("GET", SESSIONS, auth=user.credentials)

    assert reply.status_code == 200


def test_fault__probability_is_reproducible_under_seed(
    array_emulator: ArrayEmulator,
) -> None:
    """Two rules with the same seed fire on the same requests, and not on all."""
    control = array_emulator.control
    user = ArrayUser(array_emulator)
    runs = []
    for _ in range(2):
        control.clear_faults()
        control.add_fault(path="*/storages", status=503, probability=0.5, seed=42)
        runs.append(
            [user.call("GET", f"{OBJECTS}/storages").status_code for _ in range(16)]
        )

    assert runs[0] == runs[1]
    assert {200, 503} == set(runs[0])


def test_fault__delay_then_pass_through(array_emulator: ArrayEmulator) -> None:
    """A delay-only rule answers normally, late."""
    array_emulator.control.add_fault(path="*/storages", delay_seconds=0.3)
    user = ArrayUser(array_emulator)

    started = time.monotonic()
    reply = user.call("GET", f"{OBJECTS}/storages")

    assert reply.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault__drop_closes_connection(array_emulator: ArrayEmulator) -> None:
    """A drop rule closes the connection without an answer, and the journal says so."""
    rule = array_emulator.control.add_fault(path="*/storages", drop=True, times=1)
    user = ArrayUser(array_emulator)

    with pytest.raises(requests.ConnectionError):
        user.call("GET", f"{OBJECTS}/storages")
    after = user.call("GET", f"{OBJECTS}/storages")

    dropped = array_emulator.control.journal()[0]
    assert after.status_code == 200
    assert dropped["status"] is None
    assert dropped["fault"] == rule["id"]


def test_fault__control_plane_never_faulted(array_emulator: ArrayEmulator) -> None:
    """A catch-all rule leaves the control plane answering."""
    array_emulator.control.add_fault(path="*", drop=True)

    assert array_emulator.control.clock()["frozen"] is False


def test_fault__clear_one_and_all(array_emulator: ArrayEmulator) -> None:
    """Rules are removed one by ID or all at once; an unknown ID is a 404."""
    control = array_emulator.control
    first = control.add_fault(path="/a", status=503)
    control.add_fault(path="/b", status=503)

    control.clear_faults(first["id"])
    remaining = [rule["path"] for rule in control.faults()]
    control.clear_faults()

    assert remaining == ["/b"]
    assert control.faults() == []
    with pytest.raises(ControlError) as caught:
        control.clear_faults(first["id"])
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("rule", "message_id"),
    [
        ({"path": "*", "status": 503, "colour": "red"}, "KART40038-E"),
        ({"path": "*"}, "KART40046-E"),
        ({"status": 503}, "KART40046-E"),
        ({"path": "*", "status": 200}, "KART40034-E"),
        ({"path": "*", "status": 503, "probability": 2}, "KART40034-E"),
        ({"path": "*", "situation": "no_such_thing"}, "KART40034-E"),
        ({"path": "*", "delaySeconds": 3600}, "KART40034-E"),
        ({"path": "*", "method": "BREW", "status": 503}, "KART40034-E"),
    ],
)
def test_fault__bad_rule_is_400(
    array_emulator: ArrayEmulator, rule: dict[str, object], message_id: str
) -> None:
    """A malformed rule gets a 400 error object saying what is wrong."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.request("POST", "/faults", rule)

    assert caught.value.status == 400
    assert caught.value.error["messageId"] == message_id
