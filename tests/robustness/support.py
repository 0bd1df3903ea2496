"""Helpers of the robustness tests: URLs, a client with its own session, checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

OBJECTS = "/ConfigurationManager/v1/objects"
SERVICES = "/ConfigurationManager/v1/services/resource-group-service/actions"
BACKUP = f"{OBJECTS}/encryption-keys/file/actions/backup/invoke"
RESTORE = f"{OBJECTS}/encryption-keys/file/actions/restore/invoke"
LOCK = f"{SERVICES}/lock/invoke"
KEY_COUNTS = f"{OBJECTS}/encryption-key-counts/instance"
UNLOCK = f"{SERVICES}/unlock/invoke"
USER = ("secadmin", "secadmin-pass")
BACKUP_PASSWORD = "Backup-pass-1"
ERROR_FIELDS = ("errorSource", "messageId", "message", "cause", "solution")
TIMEOUT = 30


@dataclass
class Client:
    """One client of the emulator with its own connection pool and session.

    Attributes:
        base: the emulator's URL.
        http: the connection pool (keep-alive).
        token: the session's token once ``login`` succeeded.
        session_id: the session's ID once ``login`` succeeded.
    """

    base: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str | None = None
    session_id: int | None = None

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request with the session's token, when there is one."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Session {self.token}")
        kwargs.setdefault("timeout", TIMEOUT)

        return self.http.request(method, self.base + path, headers=headers, **kwargs)

    def login(self, user: tuple[str, str] = USER) -> requests.Response:
        """Create a session; keep its token when the array grants one."""
        response = self.http.post(
            self.base + f"{OBJECTS}/sessions", auth=user, json={}, timeout=TIMEOUT
        )
        if response.status_code == 200:
            self.token = response.json()["token"]
            self.session_id = int(response.json()["sessionId"])

        return response

    def logout(self) -> requests.Response:
        """Discard the session."""
        response = self.call("DELETE", f"{OBJECTS}/sessions/{self.session_id}")
        self.token = None
        self.session_id = None

        return response

    def backup(self, password: str = BACKUP_PASSWORD) -> requests.Response:
        """Download a backup file."""
        body = {"parameters": {"password": password}}

        return self.call("POST", BACKUP, json=body)


def is_error_object(response: requests.Response) -> bool:
    """Whether a reply is the array's JSON error object."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return False

    try:
        body = json.loads(response.content)
    except ValueError:
        return False

    return isinstance(body, dict) and all(name in body for name in ERROR_FIELDS)
