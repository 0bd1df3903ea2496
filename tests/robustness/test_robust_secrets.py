"""A full run with sentinel secrets, then every log line, reply, job, the control
plane's journal and conformance report, and a state file searched for them."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from emulator.control import state
from emulator.control.client import ControlClient
from emulator.server import EmulatorServer, serve_in_thread
from tests.robustness.support import BACKUP, LOCK, OBJECTS, RESTORE, UNLOCK, Client

USER_SENTINEL = "Sntl-user-Q7x2Kp"
WRONG_SENTINEL = "Sntl-wrong-Z9w4Lm"
BACKUP_SENTINEL = "Sntl-backup-R3v8Jn"
BAD_BACKUP_SENTINEL = "Sntl bad-backup T5y1"
SESSIONS = f"{OBJECTS}/sessions"


@dataclass
class Run:
    """Everything a full run produced that a secret could leak into."""

    server: EmulatorServer
    replies: list[requests.Response] = field(default_factory=list)
    backup_files: list[bytes] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    session_reply: bytes = b""
    records: bytes = b""


def _sentinel_profile(folder: Path) -> Path:
    base = Path(__file__).parents[2] / "fixtures" / "profiles" / "vsp-e990.toml"
    text = base.read_text()
    for user in ("secadmin", "viewer", "maintenance"):
        text = text.replace(f'"{user}-pass"', f'"{USER_SENTINEL}-{user}"')
    path = folder / "sentinel.toml"
    path.write_text(text)

    return path


def _log_in(run: Run, own: Client) -> None:
    user = ("secadmin", f"{USER_SENTINEL}-secadmin")
    wrong = own.http.post(run.server.url + SESSIONS, auth=("secadmin", WRONG_SENTINEL))
    run.replies.append(wrong)
    assert wrong.status_code == 401
    created = own.login(user)
    assert created.status_code == 200
    assert own.token is not None
    run.session_reply = created.content
    run.tokens.append(own.token)
    basic = own.http.get(run.server.url + SESSIONS, auth=user)
    run.replies.append(basic)


def _back_up_and_restore(run: Run, own: Client) -> None:
    refused = own.backup(BAD_BACKUP_SENTINEL)
    assert refused.status_code == 400
    cut_json = '{"parameters": {"password": "' + BACKUP_SENTINEL
    truncated = own.call(
        "POST", BACKUP, data=cut_json, headers={"Content-Type": "application/json"}
    )
    made = own.backup(BACKUP_SENTINEL)
    assert made.status_code == 200
    run.backup_files.append(made.content)
    file = {"file": ("keys.ekf", made.content, "application/octet-stream")}
    restored = own.call("POST", RESTORE, files=file, data={"password": BACKUP_SENTINEL})
    wrong = own.call("POST", RESTORE, files=file, data={"password": WRONG_SENTINEL})
    run.replies += [refused, truncated, restored, wrong]
    assert restored.status_code == 202
    assert wrong.status_code >= 400


def _lock_and_journal(run: Run, own: Client) -> None:
    locked = own.call("POST", LOCK, json={"parameters": {"waitTime": 0}})
    under_lock = own.backup(BACKUP_SENTINEL)
    unlocked = own.call("POST", UNLOCK, json={})
    run.replies += [locked, under_lock, unlocked]
    for job_id in list(run.server.array.jobs):
        run.replies.append(own.call("GET", f"{OBJECTS}/jobs/{job_id}"))
    run.replies.append(own.call("GET", SESSIONS))


def _records(run: Run, folder: Path) -> bytes:
    # The state file is written with the profile's defaults: no tokens, no key
    # material (a profile may ask for them; the state module's docstring says so).
    control = ControlClient(run.server.url)
    journal = json.dumps(control.journal()).encode()
    report = json.dumps(control.conformance()).encode()
    report_text = control.conformance_text().encode()
    state_file = folder / "state.json"
    state.write_file(run.server.array, state_file)

    return b"\n".join((journal, report, report_text, state_file.read_bytes()))


def _log_out(run: Run, own: Client) -> None:
    token = own.token
    run.replies.append(own.logout())
    own.token = token
    after = own.call("GET", SESSIONS)
    run.replies.append(after)
    assert after.status_code == 401


@pytest.fixture
def full_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Run]:
    """Every operation, refusals included, under sentinel passwords."""
    caplog.set_level(logging.DEBUG)
    server = serve_in_thread(str(_sentinel_profile(tmp_path)))
    run = Run(server)
    own = Client(server.url)
    _log_in(run, own)
    _lock_and_journal(run, own)
    _back_up_and_restore(run, own)
    _log_out(run, own)
    run.records = _records(run, tmp_path)
    yield run
    server.stop()


def _secrets(run: Run) -> list[bytes]:
    passwords = [USER_SENTINEL, WRONG_SENTINEL, BACKUP_SENTINEL, BAD_BACKUP_SENTINEL]
    found = [p.encode() for p in passwords] + [t.encode() for t in run.tokens]
    for key in run.server.array.keys.values():
        material = key.material
        found += [material, material.hex().encode(), base64.b64encode(material)]

    return found


def _log_text(caplog: pytest.LogCaptureFixture) -> bytes:
    # The run happens while the fixture is set up: its records belong to "setup".
    lines = []
    for record in caplog.get_records("setup"):
        lines.append(record.getMessage())
        lines.append(repr(vars(record)))

    return "\n".join(lines).encode("utf-8", "backslashreplace")


def _reply_text(run: Run) -> bytes:
    # The session-creation reply carries the token by design: it is left out.
    parts = []
    for reply in run.replies:
        parts.append(repr(dict(reply.headers)).encode())
        parts.append(reply.content)

    return b"\n".join(parts)


def test_secrets__not_in_logs(full_run: Run, caplog: pytest.LogCaptureFixture) -> None:
    """No password, token or key material appears in any log record."""
    text = _log_text(caplog)

    assert len(caplog.get_records("setup")) > 10
    assert [s for s in _secrets(full_run) if s in text] == []


def test_secrets__not_in_replies_or_journal(full_run: Run) -> None:
    """No reply, job or error object carries a password, token or key material."""
    text = _reply_text(full_run)

    assert b"jobId" in text
    assert [s for s in _secrets(full_run) if s in text] == []


def test_secrets__not_in_journal_report_or_state(full_run: Run) -> None:
    """The journal, the conformance report and the state file carry no secret."""
    assert BACKUP.encode() in full_run.records
    assert [s for s in _secrets(full_run) if s in full_run.records] == []


def test_secrets__not_in_backup_file(full_run: Run) -> None:
    """The backup file holds neither its password nor any key in the clear."""
    secrets = _secrets(full_run)

    assert full_run.backup_files
    for data in full_run.backup_files:
        assert [s for s in secrets if s in data] == []


def test_secrets__search_finds_what_is_there(full_run: Run) -> None:
    """The search itself works: it finds the token where the array must send it."""
    found = [s for s in _secrets(full_run) if s in full_run.session_reply]

    assert found == [full_run.tokens[0].encode()]
