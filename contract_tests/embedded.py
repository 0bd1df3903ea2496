"""The emulator the kit starts when no target URL is given.

This module is the kit's one tie to the emulator's code: it starts a server through
the public helper ``emulator.server.serve_in_thread`` (threaded, port 0, TLS with a
generated CA) and reads who may log in from the profile the server runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract_tests.client import Basic
from contract_tests.secret import Secret

PROFILE = "vsp-e990"
HOST = "127.0.0.1"
BACKUP_ROLE = "Security Administrator (View & Modify)"


@dataclass
class Embedded:
    """A running embedded emulator.

    Attributes:
        server: the ``EmulatorServer``.
        url: its base URL (https).
        ca_file: the CA certificate that signed its certificate.
        user: a user with the backup role (not an administrator).
        viewer: a user without it.
    """

    server: Any
    url: str
    ca_file: str
    user: Basic
    viewer: Basic | None

    def stop(self) -> None:
        """Stop the server."""
        self.server.stop()


def _credentials(user: Any) -> Basic:
    return Basic(str(user.name), Secret(str(user.password)))


def start(tls_dir: Path, profile: str = PROFILE) -> Embedded:
    """Start an emulator for ``profile`` over HTTPS on a free loopback port."""
    from emulator.server import serve_in_thread

    server = serve_in_thread(profile, tls_dir=tls_dir, host=HOST, port=0)
    assert server.tls is not None, "serve_in_thread serves TLS when given tls_dir"
    users = list(server.array.profile.users)
    backup_users = [u for u in users if BACKUP_ROLE in u.roles and not u.administrator]
    viewers = [u for u in users if BACKUP_ROLE not in u.roles]

    return Embedded(
        server=server,
        url=server.url,
        ca_file=str(server.tls.ca_cert),
        user=_credentials(backup_users[0]),
        viewer=_credentials(viewers[0]) if viewers else None,
    )


def open_backup_file(data: bytes, password: str) -> int:
    """Open a backup file the embedded emulator wrote; the number of keys in it.

    Raises:
        emulator.backup_file.BackupFileError: the file does not open.
    """
    from emulator.backup_file import open_backup

    return len(open_backup(data, password))


def opens_with(data: bytes, password: str) -> bool:
    """Whether a backup file the embedded emulator wrote opens with ``password``."""
    from emulator.backup_file import BackupFileError

    try:
        open_backup_file(data, password)
    except BackupFileError:
        return False

    return True
