"""The kit's own parts: the contract oracle, curl lines, observations and secrets."""

from __future__ import annotations

import json
import subprocess

import pytest

from contract_tests.checks import shown_backup_body
from contract_tests.contract import BackupCase, expect, password_problem
from contract_tests.options import OptionError, parse_allow
from contract_tests.report import (
    BASIC,
    Observations,
    ShortRequest,
    curl_line,
    diff,
)
from contract_tests.secret import Secret

GOOD_BODY = json.dumps({"parameters": {"password": "Abc12!"}}).encode()
SHORT_BODY = json.dumps({"parameters": {"password": "Abc1!"}}).encode()


@pytest.mark.parametrize(
    ("password", "valid"),
    [
        ("Abc12!", True),
        ("a" * 255, True),
        ("Abc1!", False),
        ("a" * 256, False),
        ("Abc 12!", False),
        ("Abcdé12", False),
        ("Abc\t12!", False),
        (123456, False),
        (None, False),
    ],
)
def test_password_problem__documented_rules(password: object, valid: bool) -> None:
    """Length 6 to 255 of printable ASCII without space is the only valid password."""
    assert (password_problem(password) is None) is valid


def test_expect__order_of_checks() -> None:
    """Several faults: the first status follows DESIGN.md, any one is acceptable."""
    case = BackupCase("absent", "application/json", "text/plain", SHORT_BODY)

    expectation = expect(case, supported=False, locked=True)

    assert expectation.first == 401
    assert expectation.acceptable == {401, 406, 415, 400, 412, 409}


def test_expect__clean_request() -> None:
    """A request with nothing wrong expects 200, or 412 where unsupported."""
    case = BackupCase("valid", None, None, GOOD_BODY)

    assert expect(case, supported=True).first == 200
    assert expect(case, supported=False).first == 412


def test_expect__content_type_needs_a_body() -> None:
    """A wrong Content-Type without a body is no 415 fault."""
    case = BackupCase("valid", None, "text/plain", None)

    assert [fault.status for fault in expect(case, supported=True).faults] == [400]


def test_curl_line__placeholders_expand_literals_do_not() -> None:
    """The shell expands ${TOKEN}; a literal $ in a body reaches curl unchanged."""
    request = ShortRequest(
        "POST",
        "/x",
        auth="Session ${TOKEN}",
        headers=(("Accept", "*/*"),),
        body='{"password": "a$HOME`b\\""}',
    )
    line = curl_line("https://h", request, insecure=True)
    script = line.replace("curl", "printf '%s\\n'", 1)

    words = subprocess.run(
        ["bash", "-c", script],
        env={"TOKEN": "t0k3n"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()

    assert "Authorization: Session t0k3n" in words
    assert '{"password": "a$HOME`b\\""}' in words


def test_curl_line__basic_uses_variables() -> None:
    """Basic credentials become ${ARRAY_USER}:${ARRAY_PASSWORD}."""
    line = curl_line(
        "https://h", ShortRequest("POST", "/s", auth=BASIC), insecure=False
    )

    assert '-u "${ARRAY_USER}:${ARRAY_PASSWORD}"' in line
    assert "-k" not in line.split()


def test_shown_backup_body__valid_password_hidden() -> None:
    """A valid password shows as a variable; an invalid one as it is."""
    assert "Abc12!" not in (shown_backup_body(GOOD_BODY) or "")
    assert "${ARRAY_BACKUP_PASSWORD}" in (shown_backup_body(GOOD_BODY) or "")
    assert "Abc1!" in (shown_backup_body(SHORT_BODY) or "")


def test_observations__diff_lines_up_runs() -> None:
    """Session IDs do not split requests; differing outcomes and gaps are listed."""
    left, right = Observations(), Observations()
    left.add("p", ShortRequest("DELETE", "/sessions/3"), 200, None)
    right.add("p", ShortRequest("DELETE", "/sessions/9"), 200, None)
    left.add("p", ShortRequest("POST", "/backup"), 200, None)
    right.add("p", ShortRequest("POST", "/backup"), 412, "KART40080-E")
    right.add("p", ShortRequest("GET", "/only-right"), 200, None)

    differences = diff(
        {"format": 1, "target": {}, "observations": left.records},
        {"format": 1, "target": {}, "observations": right.records},
    )

    assert [(d.request, d.left, d.right) for d in differences] == [
        ("GET | /only-right", "(not sent)", "200"),
        ("POST | /backup", "200", "412 KART40080-E"),
    ]


def test_secret__never_shows_itself() -> None:
    """repr and str of a Secret hold nothing of its value."""
    secret = Secret("hunter2-sentinel")

    assert "hunter2" not in repr(secret) + str(secret) + f"{secret!r} {secret}"
    assert secret.reveal() == "hunter2-sentinel"


def test_parse_allow__names_and_all() -> None:
    """--array-allow takes safety class names, 'all', and refuses others."""
    assert parse_allow("sensitive, destructive") == {"sensitive", "destructive"}
    assert "read_only" in parse_allow("all")
    with pytest.raises(OptionError):
        parse_allow("everything")
