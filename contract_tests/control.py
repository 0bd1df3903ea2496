"""Edge cases on demand: the target's control plane, when it has one.

A real array has none, so the tests that need one (an expired session, another
microcode, a fault) are skipped against it with a reason. An emulator offers its
control plane over HTTP under ``/_emulator/`` (docs/control-plane.md); the kit
talks to it over HTTP like to everything else, the embedded emulator included.
"""

from __future__ import annotations

import json
from typing import Any

import requests

CONTROL_ROOT = "/_emulator"
STATE_PATH = f"{CONTROL_ROOT}/state"
TIMEOUT_SECONDS = 10.0


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

    def _call(self, method: str, path: str, body: object = None) -> Any:
        response = requests.request(
            method,
            self.base_url + CONTROL_ROOT + path,
            data=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json"},
            verify=self.verify,
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()

        return response.json() if response.content else None

    def expire_session(self, session_id: int) -> None:
        """End a session as if its aliveTime had run out."""
        self._call("POST", f"/sessions/{session_id}/expire")

    def set_microcode(self, version: str) -> None:
        """Make the array report and apply another microcode."""
        self._call("POST", "/microcode", {"version": version})

    def microcode(self) -> str:
        """The microcode the array runs now."""
        state = self._call("GET", "/state")

        return str(state["microcode"])

    def advance_clock(self, seconds: float) -> None:
        """Move the array's clock forward: sessions expire, jobs progress."""
        self._call("POST", "/clock/advance", {"seconds": seconds})

    def add_fault(self, rule: dict[str, object]) -> int:
        """Add a fault rule; its ID."""
        added = self._call("POST", "/faults", rule)

        return int(added["id"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("POST", "/faults/clear", {})


def probe_control(base_url: str, verify: str | bool) -> HttpControl | None:
    """The target's control plane, or None when ``/_emulator/state`` answers no JSON."""
    try:
        response = requests.get(
            base_url + STATE_PATH, verify=verify, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException:
        return None

    content_type = response.headers.get("Content-Type", "")
    if response.status_code != 200 or "json" not in content_type:
        return None

    return HttpControl(base_url, verify)
