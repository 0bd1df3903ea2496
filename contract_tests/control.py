"""Edge cases on demand: the target's control plane, when it has one.

A real array has none, so the tests that need one (an expired session, another
microcode) are skipped against it with a reason. An emulator offers its control
plane over HTTP under ``/_emulator/``; the emulator the kit starts itself is also
reachable in-process, through the server object the kit already holds.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import requests

CONTROL_ROOT = "/_emulator"
STATE_PATH = f"{CONTROL_ROOT}/state"
PROBE_TIMEOUT_SECONDS = 10.0


class Control(Protocol):
    """What the kit asks of a control plane."""

    name: str

    def expire_session(self, session_id: int) -> None:
        """End a session as if its aliveTime had run out."""

    def set_microcode(self, version: str) -> None:
        """Make the array report and apply another microcode version."""

    def microcode(self) -> str:
        """The microcode the array runs now."""


class InProcessControl:
    """The control plane of the emulator the kit started, reached in-process.

    Args:
        array: the emulated array behind the embedded server (``server.array``).
    """

    name = "in-process"

    def __init__(self, array: Any) -> None:
        self._array = array

    def expire_session(self, session_id: int) -> None:
        """End a session as if its aliveTime had run out."""
        self._array.expire_session(session_id)

    def set_microcode(self, version: str) -> None:
        """Switch the emulated microcode."""
        self._array.set_microcode(version)

    def microcode(self) -> str:
        """The emulated microcode."""
        return str(self._array.microcode)


class HttpControl:
    """An emulator's control plane over HTTP.

    Args:
        base_url: the target's base URL.
        verify: TLS verification as ``requests`` takes it.
    """

    name = "http"

    def __init__(self, base_url: str, verify: str | bool) -> None:
        self.base_url = base_url
        self.verify = verify

    def _post(self, path: str, body: dict[str, object]) -> dict[str, Any]:
        response = requests.post(
            self.base_url + CONTROL_ROOT + path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
            verify=self.verify,
            timeout=PROBE_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        result = response.json() if response.content else {}

        return result if isinstance(result, dict) else {}

    def expire_session(self, session_id: int) -> None:
        """End a session as if its aliveTime had run out."""
        self._post(f"/sessions/{session_id}/expire", {})

    def set_microcode(self, version: str) -> None:
        """Switch the emulated microcode."""
        self._post("/microcode", {"version": version})

    def microcode(self) -> str:
        """The emulated microcode, from the control plane's state."""
        response = requests.get(
            self.base_url + STATE_PATH,
            verify=self.verify,
            timeout=PROBE_TIMEOUT_SECONDS,
        )
        state = response.json()

        return str(state.get("microcode", ""))


def probe_control(base_url: str, verify: str | bool) -> HttpControl | None:
    """The target's HTTP control plane, or None when it answers no state."""
    try:
        response = requests.get(
            base_url + STATE_PATH, verify=verify, timeout=PROBE_TIMEOUT_SECONDS
        )
    except requests.RequestException:
        return None

    content_type = response.headers.get("Content-Type", "")
    if response.status_code != 200 or "json" not in content_type:
        return None

    return HttpControl(base_url, verify)
