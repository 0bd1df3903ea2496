"""The conformance report: a careless client trips each rule, a careful one none."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import requests

from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import (
    BACKUP,
    BACKUP_PASSWORD,
    OBJECTS,
    OCTET_STREAM,
    SERVICES,
    ArrayUser,
)

WAIT_HEADERS = {"Response-Job-Status": "Completed;", "Response-Max-Wait": "10"}
POLL_PAUSE_SECONDS = 0.3


def found_rules(emulator: ArrayEmulator) -> set[str]:
    """The rules the report says were broken."""
    return {f["rule"] for f in emulator.conformance()["findings"]}


class CarefulClient(ArrayUser):
    """A client that follows every rule: re-login on 401, Retry-After, discard."""

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request, logging in again on a 401 and waiting on a 503."""
        for _ in range(5):
            reply = self.call(method, path, **kwargs)
            if reply.status_code == 401 and self.token is not None:
                self.token = None
                self.relogin()
                continue
            if reply.status_code == 503:
                time.sleep(float(reply.headers.get("Retry-After", "1")))
                continue
            return reply

        raise AssertionError(f"{method} {path} kept failing")

    def relogin(self) -> None:
        """Generate a session, honouring Retry-After on a busy answer."""
        for _ in range(5):
            reply = self.login()
            if reply.status_code != 503:
                return
            time.sleep(float(reply.headers.get("Retry-After", "1")))

    def poll(self, job_id: int) -> dict[str, object]:
        """Read a job until it completes, pausing between reads."""
        while True:
            job: dict[str, object] = self.send("GET", f"{OBJECTS}/jobs/{job_id}").json()
            if job["status"] == "Completed":
                return job
            time.sleep(POLL_PAUSE_SECONDS)


def test_careful_client__no_finding(array_emulator: ArrayEmulator) -> None:
    """A careful client meets busy, expiry, a foreign lock and slow jobs: no finding."""
    control = array_emulator.control
    control.add_fault(
        method="POST", path="*/sessions", status=503, retry_after=1, times=1
    )
    client = CarefulClient(array_emulator)
    client.relogin()
    control.expire_session(client.session_id or 0)
    client.send("GET", f"{OBJECTS}/sessions/{client.session_id}")

    control.set_job_policy("polls", polls=2)
    job = client.send("POST", f"{SERVICES}/lock/invoke").json()
    client.poll(int(job["jobId"]))
    control.set_job_policy("seconds", seconds=0.2)
    unlock = client.send("POST", f"{SERVICES}/unlock/invoke", headers=WAIT_HEADERS)
    backup = client.send(
        "POST",
        BACKUP,
        json={"parameters": {"password": BACKUP_PASSWORD}},
        headers={"Accept": OCTET_STREAM},
    )
    client.send("DELETE", f"{OBJECTS}/sessions/{client.session_id}")

    report = array_emulator.conformance()
    assert unlock.json()["status"] == "Completed"
    assert backup.status_code == 200
    assert report["findings"] == []
    assert report["clients"][0]["requests"] >= 8


def test_rule__backup_accept(array_emulator: ArrayEmulator) -> None:
    """A backup asked for with Accept */* is flagged."""
    user = ArrayUser(array_emulator)
    user.login()
    user.backup(accept="*/*")
    user.logout()

    report = array_emulator.conformance()

    assert found_rules(array_emulator) == {"backup-accept"}
    assert report["findings"][0]["evidence"][0]["accept"] == "*/*"
    assert "application/octet-stream" in report["findings"][0]["fix"]


def test_rule__discard_sessions(array_emulator: ArrayEmulator) -> None:
    """A session left open is flagged, naming its ID."""
    user = ArrayUser(array_emulator)
    user.login()
    user.call("GET", f"{OBJECTS}/storages")

    finding = array_emulator.conformance()["findings"][0]

    assert finding["rule"] == "discard-sessions"
    assert str(user.session_id) in finding["detail"]


def test_rule__session_count(array_emulator: ArrayEmulator) -> None:
    """Three sessions open at once are flagged even when all are discarded later."""
    users = [ArrayUser(array_emulator) for _ in range(3)]
    for user in users:
        user.login()
    for user in users:
        user.logout()

    assert found_rules(array_emulator) == {"session-count"}


def test_rule__relogin_after_401__looping(array_emulator: ArrayEmulator) -> None:
    """A client that keeps sending a dead token is flagged."""
    user = ArrayUser(array_emulator)
    user.login()
    array_emulator.control.expire_session(user.session_id or 0)
    for _ in range(4):
        user.call("GET", f"{OBJECTS}/sessions")

    findings = array_emulator.conformance()["findings"]

    assert [f["rule"] for f in findings] == ["relogin-after-401"]
    assert "more request(s)" in findings[0]["detail"]


def test_rule__relogin_after_401__giving_up(array_emulator: ArrayEmulator) -> None:
    """A client that stops after a 401 without a new session is flagged."""
    user = ArrayUser(array_emulator)
    user.login()
    array_emulator.control.expire_session(user.session_id or 0)
    user.call("GET", f"{OBJECTS}/sessions")

    findings = array_emulator.conformance()["findings"]

    assert [f["rule"] for f in findings] == ["relogin-after-401"]
    assert "gave up" in findings[0]["detail"]


def test_rule__retry_after(array_emulator: ArrayEmulator) -> None:
    """A login sent again at once after a 503 with Retry-After is flagged."""
    array_emulator.control.add_fault(
        method="POST", path="*/sessions", status=503, retry_after=2, times=1
    )
    user = ArrayUser(array_emulator)
    user.login()
    user.login()
    user.logout()

    assert found_rules(array_emulator) == {"retry-after"}


def test_rule__repeat_4xx(array_emulator: ArrayEmulator) -> None:
    """The same request repeated after a 404 is flagged; a RETRY 409 is not."""
    user = ArrayUser(array_emulator)
    user.login()
    array_emulator.control.hold_lock(user="maintenance")
    user.backup()
    user.backup()
    user.call("GET", f"{OBJECTS}/jobs/999")
    user.call("GET", f"{OBJECTS}/jobs/999")
    user.logout()

    findings = [
        f
        for f in array_emulator.conformance()["findings"]
        if f["client"].startswith("secadmin")
    ]

    assert [f["rule"] for f in findings] == ["repeat-4xx"]
    assert findings[0]["evidence"][0]["path"].endswith("/jobs/999")


def test_rule__backup_under_lock(array_emulator: ArrayEmulator) -> None:
    """A backup sent while the client holds the lock is flagged."""
    user = ArrayUser(array_emulator)
    user.login()
    user.lock()
    user.backup()
    user.unlock()
    user.backup()
    user.logout()

    findings = array_emulator.conformance()["findings"]

    assert [f["rule"] for f in findings] == ["backup-under-lock"]
    assert len(findings[0]["evidence"]) == 1


def test_rule__job_polling(array_emulator: ArrayEmulator) -> None:
    """A job read again and again without a pause is flagged."""
    array_emulator.control.set_job_policy("polls", polls=6)
    user = ArrayUser(array_emulator)
    user.login()
    job_id = user.lock().json()["jobId"]
    for _ in range(6):
        user.job(job_id)
    user.unlock()
    user.logout()

    assert found_rules(array_emulator) == {"job-polling"}


def test_rule__password_in_url(array_emulator: ArrayEmulator) -> None:
    """A password in a query string is flagged, and the evidence is redacted."""
    user = ArrayUser(array_emulator)
    user.call("GET", f"{OBJECTS}/storages?user=secadmin&password=secadmin-pass")

    finding = array_emulator.conformance()["findings"][0]

    assert finding["rule"] == "password-in-url"
    assert finding["evidence"][0]["query"] == "user=secadmin&password=***"


def test_clients__told_apart_by_credentials(array_emulator: ArrayEmulator) -> None:
    """A careless viewer and a careful security administrator are judged apart."""
    careless = ArrayUser(array_emulator, user="viewer")
    careless.login()
    careful = ArrayUser(array_emulator)
    careful.login()
    careful.logout()

    report = array_emulator.conformance()

    assert {f["client"] for f in report["findings"]} == {"viewer@127.0.0.1"}
    assert {c["client"] for c in report["clients"]} == {
        "viewer@127.0.0.1",
        "secadmin@127.0.0.1",
    }


def conformance_cli(array_emulator: ArrayEmulator) -> subprocess.CompletedProcess[str]:
    """Run ``array-emulator conformance`` against the fixture's emulator."""
    command = [sys.executable, "-m", "emulator", "conformance"]
    command += ["--url", array_emulator.url, "--cacert", str(array_emulator.ca_file)]

    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli__prints_text_report(array_emulator: ArrayEmulator) -> None:
    """`array-emulator conformance --url` prints each finding and exits 3."""
    ArrayUser(array_emulator).login()

    result = conformance_cli(array_emulator)

    assert result.returncode == 3
    assert "[discard-sessions] Discards the sessions it creates" in result.stdout
    assert "fix: Discard each session" in result.stdout


def test_cli__clean_report_exits_0(array_emulator: ArrayEmulator) -> None:
    """A journal without findings prints a summary and exits 0."""
    result = conformance_cli(array_emulator)

    assert result.returncode == 0
    assert result.stdout.startswith("0 client(s), 0 finding(s)")
