"""The request journal over real HTTP: what it records, its bound, its redaction."""

from __future__ import annotations

import json

import requests

from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import BACKUP_PASSWORD, OBJECTS, RESTORE, ArrayUser

SMALL_JOURNAL_PROFILE = """
name = "small-journal"
seed = 5
[control]
journal_size = 3
[storage]
model = "VSP E990"
serial_number = 2
storage_device_id = "936000000002"
dkc_micro_version = "93-07-23/00"
ctl1_micro_version = "93-07-23/00"
ctl2_micro_version = "93-07-23/00"
svp_ip = ""
ctl1_ip = "auto"
ctl2_ip = "auto"
is_secure = true
target_ctl = "CTL1"
uses_svp = false
lan_connection_protocol = "IPv4"
[[users]]
name = "secadmin"
password = "secadmin-pass"
roles = ["Security Administrator (View & Modify)", "Storage Administrator (View Only)"]
"""


def test_journal__records_request_and_answer(array_emulator: ArrayEmulator) -> None:
    """An entry names the client, the request, the status and the created session."""
    user = ArrayUser(array_emulator)
    user.login()
    user.call("GET", f"{OBJECTS}/jobs/99")

    login, missing = array_emulator.control.journal()

    assert login["client"] == "secadmin@127.0.0.1"
    assert (login["method"], login["auth"], login["status"]) == ("POST", "basic", 200)
    assert login["createdSessionId"] == user.session_id
    assert missing["sessionId"] == user.session_id
    assert (missing["status"], missing["messageId"]) == (404, "KART30013-E")


def test_journal__newest_last_and_limit(array_emulator: ArrayEmulator) -> None:
    """Entries come oldest first; ?limit=N gives the newest N."""
    user = ArrayUser(array_emulator)
    for job_id in (1, 2, 3):
        user.call("GET", f"{OBJECTS}/jobs/{job_id}", auth=user.credentials)

    newest = array_emulator.control.journal(limit=2)

    assert [e["path"].rsplit("/", 1)[1] for e in newest] == ["2", "3"]
    assert newest[0]["seq"] < newest[1]["seq"]


def test_journal__bounded_by_profile(array_emulator: ArrayEmulator) -> None:
    """The journal keeps only journal_size entries, dropping the oldest."""
    array_emulator.control.set_profile_toml(SMALL_JOURNAL_PROFILE)
    user = ArrayUser(array_emulator)
    for job_id in range(1, 6):
        user.call("GET", f"{OBJECTS}/jobs/{job_id}", auth=user.credentials)

    paths = [e["path"] for e in array_emulator.control.journal()]

    assert paths == [f"{OBJECTS}/jobs/{n}" for n in (3, 4, 5)]


def test_journal__clear(array_emulator: ArrayEmulator) -> None:
    """Clearing the journal forgets every entry."""
    ArrayUser(array_emulator).login()

    array_emulator.control.clear_journal()

    assert array_emulator.control.journal() == []


def test_journal__control_requests_not_recorded(array_emulator: ArrayEmulator) -> None:
    """Calls to the control plane stay out of the journal."""
    array_emulator.control.clock()
    array_emulator.control.sessions()

    assert array_emulator.control.journal() == []


def test_journal__secrets_redacted(array_emulator: ArrayEmulator) -> None:
    """No password, token or key material appears anywhere in the journal."""
    user = ArrayUser(array_emulator)
    user.login()
    token = user.token or ""
    backup = user.backup()
    user.call(
        "POST",
        RESTORE,
        files={"file": ("keys.ekf", backup.content)},
        data={"password": BACKUP_PASSWORD},
    )
    user.call("GET", f"{OBJECTS}/storages?password=hunter2hunter2&x=1")
    user.call("GET", f"{OBJECTS}/storages?name=secadmin-pass")
    material = array_emulator.server.array.keys[0].material.hex()

    journal = array_emulator.control.journal()
    text = json.dumps(journal)

    for secret in (token, "secadmin-pass", BACKUP_PASSWORD, "hunter2hunter2", material):
        assert secret not in text
    assert "c2VjYWRtaW46" not in text  # base64 of "secadmin:"
    assert journal[1]["body"] == '{"parameters":{"password":"***"}}'
    assert "not recorded" in journal[2]["body"]
    assert journal[3]["query"] == "password=***&x=1"
    assert [e["secretInUrl"] for e in journal[3:]] == [True, True]


def test_journal__dead_token_keeps_its_user(array_emulator: ArrayEmulator) -> None:
    """A request with a discarded token is still told apart as the same client."""
    user = ArrayUser(array_emulator)
    user.login()
    token = user.token
    user.logout()
    user.token = token

    user.call("GET", f"{OBJECTS}/sessions")

    refused = array_emulator.control.journal()[-1]
    assert refused["status"] == 401
    assert refused["client"] == "secadmin@127.0.0.1"
    assert refused["sessionId"] == user.session_id


def test_journal__malformed_json_body_not_recorded(
    array_emulator: ArrayEmulator,
) -> None:
    """A body that is not JSON is described by its size, never copied."""
    user = ArrayUser(array_emulator)
    user.login()

    user.call(
        "POST",
        f"{OBJECTS}/encryption-keys",
        data=b'{"password": "secadmin-pass"',
        headers={"Content-Type": "application/json"},
    )

    entry = array_emulator.control.journal()[-1]
    assert entry["status"] == 400
    assert "secadmin-pass" not in entry["body"]
    assert entry["bodyBytes"] == 28


def test_journal__plain_requests_session(array_emulator: ArrayEmulator) -> None:
    """A request without credentials is recorded as an anonymous client."""
    requests.get(
        f"{array_emulator.url}/ConfigurationManager/configuration/version",
        verify=array_emulator.ca_file,
        timeout=10,
    )

    entry = array_emulator.control.journal()[-1]
    assert (entry["auth"], entry["client"]) == ("none", "-@127.0.0.1")
