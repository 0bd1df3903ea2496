"""The vendor's curl example, run as written but for host, port and the CA file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from emulator import backup_file
from tests.support import OBJECTS, SECADMIN, ArrayClient

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def test_vendor_curl_example(client: ArrayClient, tmp_path: Path) -> None:
    """The documented command downloads a backup file that opens with its password."""
    token = client.login(SECADMIN)["token"]
    (tmp_path / "InputParameters.json").write_text(
        '{ "parameters": { "password": "backuppassword" } }'
    )
    base = client.server.url
    command = (
        f'curl -v --cacert {client.ca} -H "Accept:application/octet-stream" '
        '-H "Content-Type:application/json" '
        f'-H "Authorization:Session {token}" '
        "-X POST --data-binary @./InputParameters.json "
        f"{base}/ConfigurationManager/v1/objects/encryption-keys/file/actions/"
        'backup/invoke -o "backupfile.ekf"'
    )

    done = subprocess.run(
        command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert "< HTTP/1.1 200" in done.stderr
    assert "< Content-Disposition: attachment" in done.stderr
    data = (tmp_path / "backupfile.ekf").read_bytes()
    assert len(backup_file.open_backup(data, "backuppassword")) == len(
        client.array.keys
    )


def test_curl_session_then_put_with_basic(client: ArrayClient, tmp_path: Path) -> None:
    """A field runbook's form: PUT backup with ``curl -u`` on a storage-scoped URL."""
    device = client.array.profile.storage.storage_device_id
    url = (
        f"{client.server.url}{OBJECTS}/storages/{device}/encryption-keys/file/"
        "actions/backup/invoke"
    )
    body = json.dumps({"parameters": {"password": "backuppassword"}})

    done = subprocess.run(
        [
            "curl",
            "-s",
            "--cacert",
            client.ca,
            "-u",
            "secadmin:secadmin-pass",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "-H",
            "Accept: application/octet-stream",
            "--data",
            body,
            "-o",
            str(tmp_path / "f.ekf"),
            "-w",
            "%{http_code}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.stdout == "200"
    assert backup_file.read_header((tmp_path / "f.ekf").read_bytes()).key_count == 64
