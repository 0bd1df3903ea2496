"""The ``array-emulator`` command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from emulator.cli import main
from tests.support import BACKUP_PASSWORD, ArrayClient

EMULATOR = [sys.executable, "-m", "emulator"]


def test_profiles__lists_bundled(capsys) -> None:
    """``profiles`` names every bundled profile and marks the default."""
    assert main(["profiles"]) == 0

    out = capsys.readouterr().out
    assert "vsp-e990 (default)" in out
    assert "vsp-g900-old" in out and "vsp-g1500" in out


def backup_to(client: ArrayClient, path: Path) -> Path:
    """Write a backup file of the client's array to ``path``."""
    path.write_bytes(client.backup(client.login()).content)

    return path


def test_inspect__lists_keys(
    client: ArrayClient, tmp_path: Path, capsys, monkeypatch
) -> None:
    """``backup-file inspect`` lists the keys without their material."""
    path = backup_to(client, tmp_path / "b.ekf")
    monkeypatch.setenv("EKF_PASSWORD", BACKUP_PASSWORD)

    status = main(
        ["backup-file", "inspect", str(path), "--password-env", "EKF_PASSWORD"]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "64 keys" in out and "HDD00-00" in out
    assert client.array.keys[0].material.hex() not in out


def test_inspect__material_on_request(client, tmp_path, capsys, monkeypatch) -> None:
    """``--show-material`` prints the key material."""
    path = backup_to(client, tmp_path / "b.ekf")
    monkeypatch.setenv("EKF_PASSWORD", BACKUP_PASSWORD)

    main(
        [
            "backup-file",
            "inspect",
            str(path),
            "--password-env",
            "EKF_PASSWORD",
            "--show-material",
        ]
    )

    assert client.array.keys[0].material.hex() in capsys.readouterr().out


def test_inspect__wrong_password(client, tmp_path, capsys, monkeypatch) -> None:
    """A wrong password exits non-zero with a clear message."""
    path = backup_to(client, tmp_path / "b.ekf")
    monkeypatch.setenv("EKF_PASSWORD", "not-the-password")

    status = main(
        ["backup-file", "inspect", str(path), "--password-env", "EKF_PASSWORD"]
    )

    assert status != 0
    assert "password does not open" in capsys.readouterr().err


def test_inspect__damaged(client, tmp_path, capsys, monkeypatch) -> None:
    """A truncated file exits non-zero and says it cannot be opened."""
    path = backup_to(client, tmp_path / "b.ekf")
    path.write_bytes(path.read_bytes()[:-10])
    monkeypatch.setenv("EKF_PASSWORD", BACKUP_PASSWORD)

    status = main(
        ["backup-file", "inspect", str(path), "--password-env", "EKF_PASSWORD"]
    )

    assert status != 0
    assert "cannot be opened" in capsys.readouterr().err


def test_serve__prints_and_answers(tmp_path: Path) -> None:
    """``serve --port 0`` prints its URL, users, CA file and a curl line, and serves."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [*EMULATOR, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = read_until(process, "Press Ctrl+C")
        text = "\n".join(lines)
        url = text.split(" at ", 1)[1].split()[0]
        ca = text.split("CA certificate: ", 1)[1].split()[0]

        reply = requests.get(
            f"{url}/ConfigurationManager/configuration/version", verify=ca, timeout=10
        )

        assert reply.status_code == 200
        assert "secadmin / secadmin-pass" in text
        assert "curl" in text
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()

    assert process.returncode == 0


def read_until(
    process: subprocess.Popen, marker: str, timeout: float = 30
) -> list[str]:
    """Lines a process prints, up to the one holding ``marker``."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if marker in line:
            return lines

    raise AssertionError(f"no {marker!r} in {lines}")


def test_serve__bad_profile(capsys) -> None:
    """An unknown profile exits non-zero naming the known ones."""
    assert main(["serve", "--profile", "vsp-unknown", "--http"]) != 0

    assert "vsp-e990" in capsys.readouterr().err
