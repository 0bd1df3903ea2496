"""Requests with several faults at once.

Against the emulator the status is the first failing check's, in the order DESIGN.md
gives (401, 406, 415, 403, 400, 412, 409); against anything else it is the status
of one of the faults present.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contract_tests.checks import backup_body, case_auth, check_against, send_backup
from contract_tests.client import JSON, OCTET_STREAM, ArrayClient, Reply
from contract_tests.contract import BackupCase, TokenKind, expect
from contract_tests.secret import Secret
from contract_tests.target import Target

pytestmark = pytest.mark.sensitive

TOO_SHORT = backup_body("abc")
# A microcode no model of the support matrix accepts.
UNSUPPORTED_MICROCODE = "80-01-01/00"


@dataclass(frozen=True)
class Combination:
    """Faults to put into one backup request."""

    token: TokenKind = "valid"
    accept: str | None = OCTET_STREAM
    content_type: str | None = JSON
    body: bytes | None = None
    viewer: bool = False
    locked: bool = False
    old_microcode: bool = False


COMBINATIONS = {
    "no token, JSON Accept": Combination(token="absent", accept=JSON),
    "no token, bad body, text": Combination(
        token="absent", content_type="text/plain", body=TOO_SHORT
    ),
    "JSON Accept, text body": Combination(accept=JSON, content_type="text/plain"),
    "text body, short password": Combination(content_type="text/plain", body=TOO_SHORT),
    "no role, short password": Combination(viewer=True, body=TOO_SHORT),
    "short password, lock held": Combination(body=TOO_SHORT, locked=True),
    "old microcode, lock held": Combination(locked=True, old_microcode=True),
}


@pytest.mark.parametrize("combination", COMBINATIONS.values(), ids=COMBINATIONS)
def test_combined_faults__status(
    combination: Combination,
    array_target: Target,
    array_client: ArrayClient,
    tokens: dict[TokenKind, Secret],
) -> None:
    """A request with several faults gets the status the contract allows."""
    if combination.viewer and array_target.viewer is None:
        pytest.skip("the kit knows no user without the backup role on this target")
    if combination.old_microcode and array_target.control is None:
        pytest.skip("edge case: needs a control plane at /_emulator/")

    client = array_target.client(array_target.viewer) if combination.viewer else None
    try:
        reply, case = _send(combination, array_target, array_client, client, tokens)
    finally:
        if client is not None:
            client.close()

    expectation = expect(
        case,
        supported=array_target.backup_supported and not combination.old_microcode,
        role=not combination.viewer,
        locked=combination.locked,
    )
    check_against(reply, expectation, ordered=array_target.is_emulator)


def _send(
    combination: Combination,
    target: Target,
    client: ArrayClient,
    viewer_client: ArrayClient | None,
    tokens: dict[TokenKind, Secret],
) -> tuple[Reply, BackupCase]:
    body = combination.body or backup_body(target.backup_password.reveal())
    case = BackupCase(
        combination.token, combination.accept, combination.content_type, body
    )
    auth = case_auth(case, tokens)
    if viewer_client is not None:
        auth = viewer_client.open_session().auth
    if combination.locked:
        client.lock(client.open_session())
    if combination.old_microcode:
        assert target.control is not None
        previous = target.control.microcode()
        target.control.set_microcode(UNSUPPORTED_MICROCODE)
    try:
        reply = send_backup(
            client,
            auth=auth,
            body=body,
            accept=case.accept,
            content_type=case.content_type,
            probe="backup.combined faults",
        )
    finally:
        if combination.old_microcode:
            assert target.control is not None
            target.control.set_microcode(previous)

    return reply, case
