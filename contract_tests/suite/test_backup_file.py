"""The backup file: its headers and body on any target; on an emulator, that it
opens with its password only, and restores."""

from __future__ import annotations

import pytest

from contract_tests import failures as f
from contract_tests.checks import (
    backup_body,
    check_backup_file,
    check_status,
    send_backup,
)
from contract_tests.client import RESTORE, ArrayClient, Reply, Session
from contract_tests.report import BACKUP_PASSWORD_VARIABLE
from contract_tests.target import EMBEDDED, Target

pytestmark = pytest.mark.sensitive

WRONG_PASSWORD = "Wrong-password-1"
OPEN_RULE = "a backup file opens with its password and with no other"


def make_backup(target: Target, client: ArrayClient) -> tuple[Reply, str]:
    """Back up with the kit's backup password; the reply and that password."""
    if not target.backup_supported:
        pytest.skip("the support matrix says this target cannot back up")
    session = client.open_session()
    password = target.backup_password.reveal()
    reply = send_backup(client, auth=session.auth, body=backup_body(password))
    check_status(
        reply,
        [200],
        rule="the documented backup request succeeds where the matrix supports it",
        violation=f.MicrocodeSupportMismatch if reply.status == 412 else None,
    )

    return reply, password


def test_backup_file__headers_and_body(
    array_target: Target, array_client: ArrayClient
) -> None:
    """The file comes as an attachment, its length declared, without the password."""
    reply, password = make_backup(array_target, array_client)

    check_backup_file(reply, password)


def test_backup_file__opens_with_its_password_only(
    array_target: Target, array_client: ArrayClient
) -> None:
    """The embedded emulator's file opens with its password and not with another."""
    if array_target.kind != EMBEDDED:
        pytest.skip("the file format is known only for the embedded emulator")
    from contract_tests import embedded

    reply, password = make_backup(array_target, array_client)

    assert embedded.open_backup_file(reply.body, password) > 0
    if embedded.opens_with(reply.body, WRONG_PASSWORD):
        raise f.BackupFileUnusable(
            rule=OPEN_RULE,
            expected="the wrong password is refused",
            actual="the file opened with another password",
        )


def restore(client: ArrayClient, session: Session, data: bytes, password: str) -> Reply:
    """Send a backup file to the restore service."""
    shown_password = (
        BACKUP_PASSWORD_VARIABLE if password != WRONG_PASSWORD else WRONG_PASSWORD
    )
    files = {
        "file": ("keys.ekf", data, "application/octet-stream"),
        "password": (None, password),
    }

    return client.send(
        "POST",
        RESTORE,
        probe="restore",
        auth=session.auth,
        headers={"Response-Job-Status": "Completed"},
        files=files,
        shown_body=f"multipart: file=<{len(data)} bytes>, password={shown_password}",
    )


@pytest.mark.destructive
def test_backup_file__restores(array_target: Target, array_client: ArrayClient) -> None:
    """The file restores with its password; the wrong password gets 400."""
    reply, password = make_backup(array_target, array_client)
    session = array_client.open_session()

    refused = restore(array_client, session, reply.body, WRONG_PASSWORD)
    restored = restore(array_client, session, reply.body, password)

    check_status(refused, [400], rule=OPEN_RULE, violation=f.BackupFileUnusable)
    check_status(restored, [202], rule=OPEN_RULE, violation=f.BackupFileUnusable)
    if not array_client.job_succeeded(restored, session):
        raise f.BackupFileUnusable(
            rule=OPEN_RULE,
            expected="the restore job succeeds",
            actual=f"job {restored.json}",
            curl=restored.curl,
        )
