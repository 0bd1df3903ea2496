"""A small client for the emulator's control plane, for tests of client projects.

It needs nothing beyond the standard library::

    from emulator.control.client import ControlClient

    control = ControlClient("https://127.0.0.1:8443", ca_file="ca.pem")
    control.add_fault(method="POST", path="*/sessions", status=503, retry_after=5)
    control.expire_session(3)
    print(control.conformance_text())

Every method sends one request to ``/_emulator/...`` and returns its JSON reply;
an error reply raises ``ControlError`` with the array's error object.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 30.0
TOKEN_HEADER = "X-Emulator-Control-Token"


class ControlError(Exception):
    """The control plane refused a request; ``error`` is its error object."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{status} {error.get('messageId')}: {error.get('message')}")
        self.status = status
        self.error = error


class ControlClient:
    """Calls the control plane of the emulator at ``base_url``.

    Args:
        base_url: the emulator's URL, for example ``https://127.0.0.1:8443``.
        ca_file: the emulator's CA certificate, to trust its TLS certificate.
        token: the control token, when the emulator was started with one.
        verify: False skips certificate checks (prefer ``ca_file``).
        timeout: seconds to wait for each reply.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ca_file: str | Path | None = None,
        token: str | None = None,
        verify: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._context = _tls_context(ca_file, verify)

    # -- transport ------------------------------------------------------------------

    def request(self, method: str, path: str, body: object = None) -> Any:
        """Send one control request; returns the decoded JSON reply.

        Raises:
            ControlError: the control plane answered with an error.
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers[TOKEN_HEADER] = self.token
        url = f"{self.base_url}/_emulator{path}"
        call = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(
                call, timeout=self.timeout, context=self._context
            ) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ControlError(exc.code, _error_body(exc.read())) from None

    def _post(self, path: str, body: object = None) -> Any:
        return self.request("POST", path, {} if body is None else body)

    # -- state ------------------------------------------------------------------------

    def reset(self) -> Any:
        """Back to the profile's initial state; faults and journal cleared."""
        return self._post("/reset")

    def snapshot(self) -> dict[str, Any]:
        """The array's state as a snapshot."""
        snapshot: dict[str, Any] = self.request("GET", "/state")

        return snapshot

    def load_state(self, snapshot: dict[str, Any]) -> Any:
        """Put the array in a snapshot's state."""
        return self._post("/state", snapshot)

    def set_profile(self, name: str) -> Any:
        """Emulate the bundled profile ``name`` (fresh state)."""
        return self._post("/profile", {"name": name})

    def set_profile_toml(self, text: str) -> Any:
        """Emulate the profile written in ``text`` (TOML, over the defaults)."""
        return self._post("/profile", {"toml": text})

    def set_microcode(self, version: str) -> Any:
        """Report another microcode version."""
        return self._post("/microcode", {"version": version})

    # -- clock ------------------------------------------------------------------------

    def clock(self) -> Any:
        """The emulator's clock."""
        return self.request("GET", "/clock")

    def freeze_clock(self) -> Any:
        """Stop the emulator's clock."""
        return self._post("/clock/freeze")

    def advance_clock(self, seconds: float) -> Any:
        """Move the emulator's clock forward."""
        return self._post("/clock/advance", {"seconds": seconds})

    def resume_clock(self) -> Any:
        """Let the emulator's clock run again."""
        return self._post("/clock/resume")

    # -- sessions, lock, jobs ---------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        """Every live session."""
        sessions: list[dict[str, Any]] = self.request("GET", "/sessions")["data"]

        return sessions

    def expire_session(self, session_id: int) -> Any:
        """End a session as if it timed out."""
        return self._post(f"/sessions/{session_id}/expire")

    def hold_lock(self, user: str | None = None) -> int:
        """Let another session take the lock; returns that session's ID."""
        body = {} if user is None else {"user": user}

        return int(self._post("/lock/hold", body)["sessionId"])

    def release_lock(self) -> Any:
        """Make the lock's holder let go."""
        return self._post("/lock/release")

    def set_job_policy(
        self,
        progress: str = "immediate",
        *,
        polls: int = 0,
        seconds: float = 0.0,
        fail_ssb: tuple[str, str] | None = None,
    ) -> Any:
        """How jobs accepted from now on progress, and whether they fail."""
        body = {
            "progress": progress,
            "polls": polls,
            "seconds": seconds,
            "failSsb": list(fail_ssb) if fail_ssb else None,
        }

        return self._post("/jobs/policy", body)

    # -- faults, journal, conformance -------------------------------------------------

    def add_fault(
        self,
        *,
        path: str,
        method: str = "*",
        status: int | None = None,
        message_id: str | None = None,
        situation: str | None = None,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Add a fault rule; returns it with its ID."""
        spec = {
            "method": method,
            "path": path,
            "status": status,
            "messageId": message_id,
            "situation": situation,
            "retryAfter": retry_after,
            "delaySeconds": delay_seconds,
            "drop": drop,
            "times": times,
            "probability": probability,
            "seed": seed,
        }
        rule: dict[str, Any] = self._post("/faults", spec)

        return rule

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force."""
        rules: list[dict[str, Any]] = self.request("GET", "/faults")["data"]

        return rules

    def clear_faults(self, rule_id: int | None = None) -> Any:
        """Remove one fault rule, or all of them."""
        return self._post("/faults/clear", {} if rule_id is None else {"id": rule_id})

    def journal(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest requests, oldest first."""
        query = "" if limit is None else f"?limit={limit}"
        entries: list[dict[str, Any]] = self.request("GET", f"/journal{query}")["data"]

        return entries

    def clear_journal(self) -> Any:
        """Forget the journal."""
        return self._post("/journal/clear")

    def conformance(self) -> dict[str, Any]:
        """The conformance report as JSON."""
        report: dict[str, Any] = self.request("GET", "/conformance")

        return report

    def conformance_text(self) -> str:
        """The conformance report as text."""
        from emulator.control.conformance import render_text

        return render_text(self.conformance())  # type: ignore[arg-type]


def _tls_context(ca_file: str | Path | None, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(Path(ca_file).expanduser()) if ca_file else None
    )
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    return context


def _error_body(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"message": raw[:200].decode("utf-8", "replace")}

    return parsed if isinstance(parsed, dict) else {"message": str(parsed)}
