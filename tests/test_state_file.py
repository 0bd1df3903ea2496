"""`array-emulator serve --state FILE`: a reproduced case survives a restart."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from emulator.control.client import ControlClient

STARTED = re.compile(r" at (http://\S+)")
SESSIONS = "/ConfigurationManager/v1/objects/sessions"


@contextmanager
def serve(state_file: Path, *extra: str) -> Iterator[str]:
    """Run `array-emulator serve` on a free port; yields its URL, stops with SIGTERM."""
    command = [sys.executable, "-m", "emulator", "serve", "--http", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--state", str(state_file), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = STARTED.search(process.stdout.readline())
        assert found is not None, "the emulator did not announce its URL"
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_state_file__lock_survives_restart(tmp_path: Path) -> None:
    """A lock held elsewhere and a frozen clock come back after a restart."""
    state_file = tmp_path / "state.json"
    with serve(state_file) as url:
        control = ControlClient(url)
        holder = control.hold_lock()
        frozen_at = control.freeze_clock()["now"]

    saved = json.loads(state_file.read_text())
    with serve(state_file) as url:
        control = ControlClient(url)
        sessions = control.sessions()
        clock = control.clock()

    assert saved["lockHolder"] == holder
    assert [(s["sessionId"], s["holdsLock"]) for s in sessions] == [(holder, True)]
    assert clock == {"now": frozen_at, "frozen": True}


def test_state_file__holds_no_secrets(tmp_path: Path) -> None:
    """The file written at shutdown holds neither tokens nor key material."""
    state_file = tmp_path / "state.json"
    with serve(state_file) as url:
        reply = requests.post(
            f"{url}{SESSIONS}", auth=("secadmin", "secadmin-pass"), timeout=10
        )
        token = reply.json()["token"]

    text = state_file.read_text()

    assert token not in text
    assert '"material"' not in text
    assert json.loads(text)["includesTokens"] is False


def test_state_file__bad_file_fails_clearly(tmp_path: Path) -> None:
    """A state file that is not a snapshot stops the start with a message."""
    state_file = tmp_path / "state.json"
    state_file.write_text('{"format": "something else"}')

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--http",
            "--port",
            "0",
            "--state",
            str(state_file),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 1
    assert "format" in result.stderr


def test_no_control_flag__control_plane_unknown(tmp_path: Path) -> None:
    """`serve --no-control` answers 404 under /_emulator/."""
    with serve(tmp_path / "state.json", "--no-control") as url:
        reply = requests.post(f"{url}/_emulator/reset", timeout=10)

    assert reply.status_code == 404
    assert reply.json()["messageId"] == "KART30013-E"


def test_control_token_flag__token_required(tmp_path: Path) -> None:
    """`serve --control-token` refuses control requests without the token."""
    with serve(tmp_path / "state.json", "--control-token", "tok-123456") as url:
        refused = requests.get(f"{url}/_emulator/clock", timeout=10)
        allowed = ControlClient(url, token="tok-123456").clock()

    assert refused.status_code == 403
    assert allowed["frozen"] is False
