"""What many tests share: the emulator's paths, users, and a real HTTP client."""

from __future__ import annotations

import re
from typing import Any

import requests

from emulator.model.array import Array
from emulator.server import EmulatorServer

ROOT = "/ConfigurationManager"
OBJECTS = f"{ROOT}/v1/objects"
SERVICES = f"{ROOT}/v1/services"
BACKUP = f"{OBJECTS}/encryption-keys/file/actions/backup/invoke"
RESTORE = f"{OBJECTS}/encryption-keys/file/actions/restore/invoke"
LOCK = f"{SERVICES}/resource-group-service/actions/lock/invoke"
UNLOCK = f"{SERVICES}/resource-group-service/actions/unlock/invoke"
SECADMIN = ("secadmin", "secadmin-pass")
VIEWER = ("viewer", "viewer-pass")
ADMIN = ("maintenance", "maintenance-pass")
BACKUP_PASSWORD = "backuppassword"
OCTET = "application/octet-stream"


class ArrayClient:
    """A real HTTP client of one emulator, with the steps tests repeat."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.http = requests.Session()
        assert server.tls is not None
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a
        # session-level verify setting.
        self.ca = str(server.tls.ca_cert)

    @property
    def array(self) -> Array:
        """The emulated array, for checks the API does not show."""
        return self.server.array

    def url(self, path: str) -> str:
        """The full URL of a path on the emulator."""
        return f"{self.server.url}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request."""
        kwargs.setdefault("verify", self.ca)

        return self.http.request(method, self.url(path), timeout=30, **kwargs)

    def login(self, user: tuple[str, str] = SECADMIN, **body: Any) -> dict[str, Any]:
        """Generate a session; returns the reply's token and sessionId."""
        reply = self.request(
            "POST", f"{OBJECTS}/sessions", auth=user, json=body or None
        )
        assert reply.status_code == 200, reply.text

        return dict(reply.json())

    def auth(self, session: dict[str, Any]) -> dict[str, str]:
        """The Authorization header of a session."""
        return {"Authorization": f"Session {session['token']}"}

    def backup(
        self,
        session: dict[str, Any],
        password: object = BACKUP_PASSWORD,
        *,
        method: str = "POST",
        path: str = BACKUP,
        accept: str | None = OCTET,
    ) -> requests.Response:
        """Ask for a backup file."""
        headers = self.auth(session)
        if accept is not None:
            headers["Accept"] = accept

        return self.request(
            method, path, headers=headers, json={"parameters": {"password": password}}
        )

    def lock(self, session: dict[str, Any], wait_time: int = 0) -> requests.Response:
        """Take the resource lock with a session."""
        body = {"parameters": {"waitTime": wait_time}}

        return self.request("POST", LOCK, headers=self.auth(session), json=body)

    def unlock(self, session: dict[str, Any]) -> requests.Response:
        """Release the resource lock."""
        return self.request("POST", UNLOCK, headers=self.auth(session))


ERROR_FIELDS = {"errorSource", "messageId", "message", "cause", "solution"}
JSON_REPLY = "application/json;charset=UTF-8"
LOCK_FAMILY = {"KART40050-E", "KART40051-E", "KART40052-E"}


def assert_error(
    reply: requests.Response, status: int, message_id: str | None = None
) -> dict[str, Any]:
    """Check a reply is the array's error object with this status (and ID)."""
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == JSON_REPLY
    body = reply.json()
    assert body.keys() >= ERROR_FIELDS
    assert body["errorSource"].startswith("/")
    assert re.fullmatch(r"KART\d{5}-[EWI]", body["messageId"])
    if message_id is not None:
        assert body["messageId"] == message_id

    return body
