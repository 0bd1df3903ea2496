"""A small client of the emulated API for the control-plane tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from emulator.pytest_plugin import ArrayEmulator

OBJECTS = "/ConfigurationManager/v1/objects"
SERVICES = "/ConfigurationManager/v1/services/resource-group-service/actions"
BACKUP = f"{OBJECTS}/encryption-keys/file/actions/backup/invoke"
RESTORE = f"{OBJECTS}/encryption-keys/file/actions/restore/invoke"
OCTET_STREAM = "application/octet-stream"
BACKUP_PASSWORD = "backup-Pass1"


class ArrayUser:
    """One client of the array: a user, its HTTP connection and its session."""

    def __init__(self, emulator: ArrayEmulator, user: str = "secadmin") -> None:
        self.emulator = emulator
        self.credentials = emulator.users[user]
        self.http = requests.Session()
        self.token: str | None = None
        self.session_id: int | None = None

    def url(self, path: str) -> str:
        """The full URL of an API path."""
        return f"{self.emulator.url}{path}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request with the session's token, when there is one."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None and "auth" not in kwargs:
            headers.setdefault("Authorization", f"Session {self.token}")

        # verify goes with each request: a Session's own verify loses to the
        # REQUESTS_CA_BUNDLE environment variable.
        return self.http.request(
            method,
            self.url(path),
            headers=headers,
            timeout=30,
            verify=str(self.emulator.ca_file),
            **kwargs,
        )

    def login(self) -> requests.Response:
        """Generate a session with Basic credentials and keep its token."""
        reply = self.call("POST", f"{OBJECTS}/sessions", auth=self.credentials)
        if reply.status_code == 200:
            self.token = reply.json()["token"]
            self.session_id = reply.json()["sessionId"]

        return reply

    def logout(self) -> requests.Response:
        """Discard the session."""
        reply = self.call("DELETE", f"{OBJECTS}/sessions/{self.session_id}")
        self.token = None

        return reply

    def lock(self, wait_time: int = 0) -> requests.Response:
        """Take the resource lock."""
        body = {"parameters": {"waitTime": wait_time}}

        return self.call("POST", f"{SERVICES}/lock/invoke", json=body)

    def unlock(self) -> requests.Response:
        """Release the resource lock."""
        return self.call("POST", f"{SERVICES}/unlock/invoke")

    def backup(
        self, password: str = BACKUP_PASSWORD, accept: str = OCTET_STREAM
    ) -> requests.Response:
        """Ask for the backup file."""
        body = {"parameters": {"password": password}}

        return self.call("POST", BACKUP, json=body, headers={"Accept": accept})

    def job(self, job_id: int) -> requests.Response:
        """Read a job."""
        return self.call("GET", f"{OBJECTS}/jobs/{job_id}")


# A client project has none of this project's other pytest plugins; leaving them
# out also keeps each run short.
CLIENT_PROJECT_PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:schemathesis",
    "-p",
    "no:hypothesispytest",
]


def run_client_project(folder: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest in a client project's folder, as that project would."""
    return subprocess.run(
        [*CLIENT_PROJECT_PYTEST, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        check=False,
    )
