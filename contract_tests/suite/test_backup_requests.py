"""The backup endpoint over its whole request space, each request against the
outcome the contract gives it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import failures as f
from contract_tests.checks import (
    backup_body,
    case_auth,
    check_against,
    check_backup_file,
    check_status,
    send_backup,
)
from contract_tests.client import JSON, OCTET_STREAM, ArrayClient, Session
from contract_tests.contract import (
    ACCEPT_VARIANTS,
    CONTENT_TYPE_VARIANTS,
    LOCK_RULE,
    ROLE_RULE,
    BackupCase,
    TokenKind,
    expect,
)
from contract_tests.secret import Secret
from contract_tests.strategies import backup_cases
from contract_tests.suite.conftest import token_kinds
from contract_tests.target import Target

pytestmark = pytest.mark.sensitive


def _password(case: BackupCase) -> str | None:
    try:
        value = json.loads(case.body or b"")
        return str(value["parameters"]["password"])
    except (ValueError, KeyError, TypeError):
        return None


@given(data=st.data())
def test_backup__request_space(
    data: st.DataObject,
    array_target: Target,
    module_client: ArrayClient,
    tokens: dict[TokenKind, Secret],
) -> None:
    """Every drawn backup request gets the outcome the contract derives for it."""
    case = data.draw(backup_cases(token_kinds(tokens)), label="case")
    expectation = expect(case, supported=array_target.backup_supported)

    reply = send_backup(
        module_client,
        auth=case_auth(case, tokens),
        body=case.body,
        accept=case.accept,
        content_type=case.content_type,
        probe="backup.request space",
    )

    check_against(reply, expectation, ordered=array_target.is_emulator)
    password = _password(case)
    if reply.status == 200 and password is not None:
        check_backup_file(reply, password)


# The documented boundaries, sent every run whatever Hypothesis draws.
BOUNDARY_PASSWORDS: dict[str, object] = {
    "empty": "",
    "5 characters": "Abc1!",
    "6 characters": "Abc12!",
    "255 characters": "a1~" * 85,
    "256 characters": "a1~" * 85 + "Z",
    "300 characters": "x" * 300,
    "space inside": "Abc 12!",
    "non-ASCII": "Abcdé12",
    "control character": "Abc\t12!",
    "DEL": "Abc\x7f12!",
    "JSON number": 123456,
    "JSON null": None,
    "JSON list": ["Abc12!"],
}


@pytest.mark.parametrize(
    "password", BOUNDARY_PASSWORDS.values(), ids=BOUNDARY_PASSWORDS
)
def test_backup__password_boundaries(
    password: object,
    array_target: Target,
    module_client: ArrayClient,
    live_session: Session,
) -> None:
    """Passwords at and past the documented limits get the contract's outcome."""
    body = json.dumps({"parameters": {"password": password}}).encode()
    case = BackupCase("valid", OCTET_STREAM, JSON, body)

    reply = send_backup(
        module_client, auth=live_session.auth, body=body, probe="backup.boundary"
    )

    check_against(
        reply,
        expect(case, supported=array_target.backup_supported),
        ordered=array_target.is_emulator,
    )


@pytest.mark.parametrize("accept", ACCEPT_VARIANTS, ids=str)
def test_backup__accept_variants(
    accept: str | None,
    array_target: Target,
    module_client: ArrayClient,
    live_session: Session,
) -> None:
    """Each listed Accept value gets 406 exactly when it refuses the backup file."""
    body = backup_body(array_target.backup_password.reveal())
    case = BackupCase("valid", accept, JSON, body)

    reply = send_backup(
        module_client,
        auth=live_session.auth,
        body=body,
        accept=accept,
        probe="backup.accept",
    )

    check_against(
        reply,
        expect(case, supported=array_target.backup_supported),
        ordered=array_target.is_emulator,
    )


@pytest.mark.parametrize("content_type", CONTENT_TYPE_VARIANTS, ids=str)
def test_backup__content_type_variants(
    content_type: str | None,
    array_target: Target,
    module_client: ArrayClient,
    live_session: Session,
) -> None:
    """Each listed Content-Type gets 415 exactly when it is not JSON."""
    body = backup_body(array_target.backup_password.reveal())
    case = BackupCase("valid", OCTET_STREAM, content_type, body)

    reply = send_backup(
        module_client,
        auth=live_session.auth,
        body=body,
        content_type=content_type,
        probe="backup.content type",
    )

    check_against(
        reply,
        expect(case, supported=array_target.backup_supported),
        ordered=array_target.is_emulator,
    )


def test_backup__valid_request(array_target: Target, array_client: ArrayClient) -> None:
    """The documented request backs up, or gets 412 where the matrix says so."""
    session = array_client.open_session()
    password = array_target.backup_password.reveal()

    reply = send_backup(array_client, auth=session.auth, body=backup_body(password))

    check_status(
        reply,
        [array_target.expected_backup_status],
        rule="the documented request succeeds where the matrix supports it",
        violation=f.MicrocodeSupportMismatch,
    )


def _refused_while_locked(
    client: ArrayClient, target: Target, caller: Session, rule: str
) -> None:
    body = backup_body(target.backup_password.reveal())
    reply = send_backup(client, auth=caller.auth, body=body, probe="backup.locked")
    expected = [409] if target.backup_supported else [409, 412]
    if target.is_emulator and not target.backup_supported:
        expected = [412]

    check_status(reply, expected, rule=rule, violation=f.LockNotHonoured)


def test_backup__refused_while_own_lock_held(
    array_target: Target, array_client: ArrayClient
) -> None:
    """A backup by the lock's holder is refused with 409."""
    holder = array_client.open_session()
    array_client.lock(holder)

    _refused_while_locked(array_client, array_target, holder, LOCK_RULE)


def test_backup__refused_while_other_lock_held(
    array_target: Target, array_client: ArrayClient, live_session: Session
) -> None:
    """A backup while another session holds the lock is refused with 409."""
    holder = array_client.open_session()
    array_client.lock(holder)

    _refused_while_locked(array_client, array_target, live_session, LOCK_RULE)


def test_backup__role_required(array_target: Target) -> None:
    """A user without Security Administrator (View & Modify) gets 403."""
    if array_target.viewer is None:
        pytest.skip("the kit knows no user without the backup role on this target")
    client = array_target.client(array_target.viewer)
    try:
        session = client.open_session()
        body = backup_body(array_target.backup_password.reveal())
        reply = send_backup(client, auth=session.auth, body=body, probe="backup.role")
    finally:
        client.close()

    check_status(reply, [403], rule=ROLE_RULE, violation=f.RoleNotEnforced)


def test_backup__counts_in_num_of_backups(
    array_target: Target, array_client: ArrayClient
) -> None:
    """A successful backup adds one to every key's numOfBackups."""
    if not array_target.backup_supported:
        pytest.skip("the support matrix says this target cannot back up")
    session = array_client.open_session()
    before = key_backups(array_client, session)
    body = backup_body(array_target.backup_password.reveal())
    send_backup(array_client, auth=session.auth, body=body, probe="backup.count")

    after = key_backups(array_client, session)

    wrong = {
        k: (before[k], after.get(k)) for k in before if after.get(k) != before[k] + 1
    }
    if wrong:
        raise f.BackupCountWrong(
            rule="each successful backup adds one to every key's numOfBackups",
            expected="numOfBackups + 1 on every key",
            actual=f"(before, after) by keyId: {dict(list(wrong.items())[:5])}",
        )


def key_backups(client: ArrayClient, session: Session) -> dict[str, int]:
    """numOfBackups of every DEK and FREE key, by keyId."""
    from contract_tests.client import OBJECTS

    reply = client.send(
        "GET",
        f"{OBJECTS}/encryption-keys?keyType=DEKANDFREE",
        probe="keys",
        auth=session.auth,
    )
    check_status(reply, [200], rule="the key list answers a security administrator")

    return {str(k["keyId"]): int(k["numOfBackups"]) for k in reply.json["data"]}
