"""Checks every part of the suite shares: error objects, backup files, statuses.

Each check raises the ``ContractViolation`` subclass named for the bug it finds,
with the rule, what was expected, what came back, and a curl line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from contract_tests import failures as f
from contract_tests.client import (
    BACKUP,
    JSON,
    OCTET_STREAM,
    ArrayClient,
    Auth,
    RawAuthorization,
    Reply,
    Session,
    Token,
)
from contract_tests.contract import (
    BODY_RULE,
    SUPPORT_RULE,
    BackupCase,
    Expectation,
    Fault,
    TokenKind,
    password_problem,
)
from contract_tests.report import BACKUP_PASSWORD_VARIABLE
from contract_tests.secret import Secret
from contract_tests.target import INSTANCE_PATH

ERROR_FIELDS = ("errorSource", "messageId", "message", "cause", "solution")
ERROR_RULE = (
    "every error reply is the array's error object (errorSource, messageId, "
    "message, cause, solution, solutionType) in application/json"
)
HEADERS_RULE = (
    "the backup file comes with Content-Type application/octet-stream and "
    "Content-Disposition attachment"
)
LENGTH_RULE = "Content-Length is the size of the backup data in bytes"
MALFORMED_TOKEN = "Session not-a-token"
MICROCODE_STATUS = 412


def mime(content_type: str | None) -> str:
    """The media type of a Content-Type value, without parameters, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_error_object(reply: Reply) -> None:
    """An error reply must be the array's error object.

    Raises:
        ErrorObjectMalformed: wrong content type or fields missing.
    """
    body = reply.json
    content_type = reply.headers.get("Content-Type")
    missing = [n for n in ERROR_FIELDS if not isinstance(body, dict) or n not in body]
    if mime(content_type) == JSON and not missing:
        return

    raise f.ErrorObjectMalformed(
        rule=ERROR_RULE,
        expected="an application/json error object with " + ", ".join(ERROR_FIELDS),
        actual=f"{reply.status}, Content-Type {content_type}, missing {missing}",
        curl=reply.curl,
    )


def check_status(
    reply: Reply,
    expected: Iterable[int],
    *,
    rule: str,
    violation: type[f.ContractViolation] | None = None,
) -> None:
    """The reply's status must be one of ``expected``; errors carry the error object.

    Raises:
        ContractViolation: ``violation`` on another status.
    """
    allowed = sorted(set(expected))
    if reply.status not in allowed:
        raise (violation or f.UnexpectedStatus)(
            rule=rule,
            expected=" or ".join(str(s) for s in allowed),
            actual=reply.describe(),
            curl=reply.curl,
        )

    if reply.status >= 400:
        check_error_object(reply)


def check_backup_file(reply: Reply, password: str) -> None:
    """The backup file's headers and body, on any target.

    Raises:
        BackupHeadersWrong, ContentLengthMismatch, EmptyBackupFile,
        PasswordInBackupFile: as their names say.
    """
    headers = reply.headers
    disposition = headers.get("Content-Disposition", "")
    if mime(
        headers.get("Content-Type")
    ) != OCTET_STREAM or not disposition.lower().startswith("attachment"):
        raise f.BackupHeadersWrong(
            rule=HEADERS_RULE,
            expected="application/octet-stream, attachment",
            actual=f"{headers.get('Content-Type')}, {disposition or 'none'}",
            curl=reply.curl,
        )

    length = headers.get("Content-Length")
    if length is None or not length.isdigit() or int(length) != len(reply.body):
        raise f.ContentLengthMismatch(
            rule=LENGTH_RULE,
            expected=f"Content-Length: {len(reply.body)}",
            actual=f"Content-Length: {length}",
            curl=reply.curl,
        )

    _check_body(reply, password)


def _check_body(reply: Reply, password: str) -> None:
    if not reply.body:
        raise f.EmptyBackupFile(
            rule="a backup file holds the keys",
            expected="a non-empty body",
            actual="0 bytes",
            curl=reply.curl,
        )

    header_text = "\n".join(f"{n}: {v}" for n, v in reply.headers.items())
    if password.encode() in reply.body or password in header_text:
        raise f.PasswordInBackupFile(
            rule="the backup password protects the file; it is never in it",
            expected="no trace of the backup password",
            actual="the password's bytes appear in the reply",
            curl=reply.curl,
        )


def backup_body(password: str) -> bytes:
    """The documented backup body."""
    return json.dumps({"parameters": {"password": password}}).encode()


def shown_backup_body(body: bytes | None) -> str | None:
    """The body as reports show it: a valid password becomes a shell variable.

    A password the contract refuses protects nothing and is shown as it is, so that
    the curl line reproduces the request exactly.
    """
    if body is None:
        return None

    try:
        value = json.loads(body.decode("utf-8"))
    except ValueError:
        return body.decode("utf-8", "backslashreplace")

    parameters = value.get("parameters") if isinstance(value, dict) else None
    if (
        isinstance(parameters, dict)
        and password_problem(parameters.get("password")) is None
    ):
        shown = {**value, "parameters": {**parameters, "password": "PASSWORD"}}
        text = json.dumps(shown)

        return text.replace('"PASSWORD"', f'"{BACKUP_PASSWORD_VARIABLE}"')

    return body.decode("utf-8")


def send_backup(
    client: ArrayClient,
    *,
    auth: Auth,
    body: bytes | None,
    accept: str | None = OCTET_STREAM,
    content_type: str | None = JSON,
    probe: str = "backup",
) -> Reply:
    """Send one backup request."""
    headers: dict[str, str] = {}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type

    return client.send(
        "POST",
        BACKUP,
        probe=probe,
        auth=auth,
        headers=headers,
        body=body,
        shown_body=shown_backup_body(body),
    )


def case_auth(case: BackupCase, tokens: Mapping[TokenKind, Secret]) -> Auth:
    """The Authorization a case's token kind stands for."""
    if case.token == "absent":
        return None

    if case.token == "malformed":
        return RawAuthorization(MALFORMED_TOKEN)

    state = "" if case.token == "valid" else case.token

    return Token(tokens[case.token], state)


def check_against(
    reply: Reply, expectation: Expectation, *, ordered: bool
) -> Fault | None:
    """Compare a reply with the contract's expectation.

    With ``ordered`` (an emulator) only the first failing check's status passes;
    otherwise the status of any one fault present does.

    Returns:
        The fault the reply answered, or None for a success.

    Raises:
        ContractViolation: the subclass named for the first fault the target
            let through, or ``ChecksOutOfOrder``.
    """
    allowed = {expectation.first} if ordered else set(expectation.acceptable)
    if reply.status in allowed:
        if reply.status >= 400:
            check_error_object(reply)
        return next((x for x in expectation.faults if x.status == reply.status), None)

    _raise_for(reply, expectation, ordered=ordered)

    return None


def _raise_for(reply: Reply, expectation: Expectation, *, ordered: bool) -> None:
    faults = expectation.faults
    if ordered and reply.status in expectation.acceptable and len(faults) > 1:
        raise f.ChecksOutOfOrder(
            rule="checks run in order: 401, 406/415, 403, 400, 412/409 (DESIGN.md)",
            expected=f"{expectation.first} for {faults[0].name}",
            actual=reply.describe(),
            curl=reply.curl,
        )

    if not faults and reply.status == MICROCODE_STATUS:
        raise f.MicrocodeSupportMismatch(
            rule=SUPPORT_RULE,
            expected=f"{expectation.success}: the support matrix lists this array",
            actual=reply.describe(),
            curl=reply.curl,
        )

    if not faults:
        raise f.ValidBackupRefused(
            rule=BODY_RULE,
            expected=str(expectation.success),
            actual=reply.describe(),
            curl=reply.curl,
        )

    missed = next((x for x in faults if x.status != reply.status), faults[0])
    names = "; ".join(f"{x.name} -> {x.status}" for x in faults)
    raise missed.violation(
        rule=missed.rule,
        expected=names if not ordered else f"{expectation.first} ({names})",
        actual=reply.describe(),
        curl=reply.curl,
    )


def token_refused(
    client: ArrayClient,
    session: Session,
    ended: str,
    violation: type[f.ContractViolation],
) -> None:
    """A session's token must be refused (401) once the session has ``ended``.

    Raises:
        ContractViolation: ``violation``, when the token still works.
    """
    reply = client.send("GET", INSTANCE_PATH, probe=f"{ended} token", auth=session.auth)
    check_status(
        reply,
        [401],
        rule=f"the token of a session that was {ended} gets 401",
        violation=violation,
    )


def refused_after_discard(client: ArrayClient, session: Session) -> None:
    """A discarded session's token must be refused before it can serve a test.

    Raises:
        DiscardedTokenAccepted: the token still works.
    """
    token_refused(client, session, "discarded", f.DiscardedTokenAccepted)
