"""The array_emulator fixture, as a client project sees it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import requests

from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import CLIENT_PROJECT_PYTEST as PYTEST
from tests.control_support import run_client_project

CLIENT_PROJECT_TESTS = """
import requests

SESSIONS = "/ConfigurationManager/v1/objects/sessions"


def test_a_leaves_a_mess(array_emulator):
    array_emulator.control.set_profile("vsp-g900-old")
    array_emulator.control.hold_lock()
    array_emulator.control.freeze_clock()


def test_b_starts_clean(array_emulator):
    assert array_emulator.control.request("GET", "")["profile"] == "vsp-e990"
    assert array_emulator.control.sessions() == []
    assert array_emulator.control.clock()["frozen"] is False
    reply = requests.post(
        array_emulator.url + SESSIONS,
        auth=array_emulator.credentials,
        verify=str(array_emulator.ca_file),
    )
    assert reply.status_code == 200
    findings = array_emulator.conformance()["findings"]
    assert [f["rule"] for f in findings] == ["discard-sessions"]
"""


def test_fixture__hands_out_url_ca_credentials(array_emulator: ArrayEmulator) -> None:
    """The fixture gives an HTTPS URL, a CA file that verifies it, and a user."""
    reply = requests.post(
        f"{array_emulator.url}/ConfigurationManager/v1/objects/sessions",
        auth=array_emulator.credentials,
        verify=str(array_emulator.ca_file),
        timeout=10,
    )

    assert array_emulator.url.startswith("https://127.0.0.1:")
    assert array_emulator.credentials.user == "secadmin"
    assert reply.status_code == 200
    assert array_emulator.storage_device_id == "936000451139"


def test_fixture__in_a_client_project(tmp_path: Path) -> None:
    """A project that only installs the emulator gets a clean emulator per test."""
    (tmp_path / "test_client.py").write_text(CLIENT_PROJECT_TESTS)

    result = run_client_project(tmp_path)

    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 passed" in result.stdout


def test_fixture__profile_option(tmp_path: Path) -> None:
    """--array-emulator-profile picks the emulated array."""
    (tmp_path / "test_profile.py").write_text(
        "def test_profile(array_emulator):\n"
        "    assert array_emulator.storage_device_id == '886000410051'\n"
    )

    result = subprocess.run(
        [
            *PYTEST,
            "--array-emulator-profile",
            "vsp-g900-old",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-2000:]
