"""The backup endpoint's contract, as a function from a request to its outcome.

Everything here comes from the vendor's documentation and from the choices DESIGN.md
records, never from the emulator's code: given a request, ``expect`` names each
fault it holds, in the order the checks run (authentication, content negotiation,
input, array state), and the status each fault gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from contract_tests import failures as f
from contract_tests.options import BACKUP_ALPHABET

TokenKind = Literal["valid", "absent", "malformed", "discarded", "expired"]
TOKEN_KINDS: tuple[TokenKind, ...] = (
    "valid",
    "absent",
    "malformed",
    "discarded",
    "expired",
)
MIN_PASSWORD = 6
MAX_PASSWORD = 255
PASSWORD_RULE = (
    "a backup password is a string of 6 to 255 characters, each an ASCII letter, "
    "digit or one of the documented symbols (0x21-0x7E)"
)
BODY_RULE = (
    'the body is {"parameters": {"password": ...}} with no other attribute, else 400'
)
ACCEPT_RULE = "an Accept that admits no application/octet-stream gets 406"
CONTENT_TYPE_RULE = "a body whose Content-Type is not JSON gets 415"
TOKEN_RULE = "a request without a live session's token gets 401"
SUPPORT_RULE = (
    "the backup runs (200) where the support matrix lists the model and microcode, "
    "else 412"
)
LOCK_RULE = "no backup while a REST resource lock is held: 409"
ROLE_RULE = "the backup needs Security Administrator (View & Modify): 403"

# Accept values and whether each admits application/octet-stream (RFC 9110
# negotiation; a missing Accept admits everything, as the vendor documents).
ACCEPT_VARIANTS: dict[str | None, bool] = {
    None: True,
    "application/octet-stream": True,
    "*/*": True,
    "application/*": True,
    "application/json, application/octet-stream;q=0.5": True,
    "application/json": False,
    "text/plain": False,
    "application/octet-stream;q=0": False,
    "application/octet-stream;q=0, application/json": False,
}
# Content-Type values and whether each names JSON (a missing one means JSON).
CONTENT_TYPE_VARIANTS: dict[str | None, bool] = {
    None: True,
    "application/json": True,
    "application/json;charset=UTF-8": True,
    "text/plain": False,
    "application/xml": False,
    "application/x-www-form-urlencoded": False,
    "application/octet-stream": False,
}
TOKEN_VIOLATIONS: dict[TokenKind, type[f.ContractViolation]] = {
    "valid": f.UnexpectedStatus,
    "absent": f.MissingTokenAccepted,
    "malformed": f.MalformedTokenAccepted,
    "discarded": f.DiscardedTokenAccepted,
    "expired": f.ExpiredTokenAccepted,
}


@dataclass(frozen=True)
class Fault:
    """One thing wrong with a request, and what the contract answers to it."""

    name: str
    status: int
    rule: str
    violation: type[f.ContractViolation]


@dataclass(frozen=True)
class BackupCase:
    """One backup request, as a strategy draws it.

    Attributes:
        token: which token the request carries.
        accept: the Accept header, or None for none.
        content_type: the Content-Type header, or None for none.
        body: the raw body, or None for none.
    """

    token: TokenKind
    accept: str | None
    content_type: str | None
    body: bytes | None


@dataclass(frozen=True)
class Expectation:
    """What the contract expects of a request."""

    faults: tuple[Fault, ...]
    success: int

    @property
    def first(self) -> int:
        """The status of the first failing check, or of success."""
        return self.faults[0].status if self.faults else self.success

    @property
    def acceptable(self) -> frozenset[int]:
        """Any one fault's status, or success when there is none."""
        if not self.faults:
            return frozenset({self.success})

        return frozenset(fault.status for fault in self.faults)


def password_problem(password: object) -> str | None:
    """What is wrong with a backup password by the documented rules, or None."""
    if not isinstance(password, str):
        return f"a JSON {type(password).__name__} where a string belongs"

    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"{len(password)} characters"

    if not set(password) <= set(BACKUP_ALPHABET):
        return "a character outside the documented set"

    return None


def parse_body(body: bytes | None) -> object:
    """The body as JSON; ``ValueError`` when it is not UTF-8 JSON."""
    if body is None or not body.strip():
        return None

    return json.loads(body.decode("utf-8"))


def body_fault(body: bytes | None) -> Fault | None:
    """The fault of a backup body, if it has one."""
    try:
        value = parse_body(body)
    except ValueError:
        return Fault("body is not JSON", 400, BODY_RULE, f.RequestBodyNotValidated)

    shape = _shape_problem(value)
    if shape is not None:
        return Fault(shape, 400, BODY_RULE, f.RequestBodyNotValidated)

    assert isinstance(value, dict)
    problem = password_problem(value["parameters"]["password"])
    if problem is not None:
        return Fault(
            f"password: {problem}", 400, PASSWORD_RULE, f.PasswordRuleNotEnforced
        )

    return None


def _shape_problem(value: object) -> str | None:
    if not isinstance(value, dict):
        return "body is not a JSON object"

    if set(value) != {"parameters"}:
        return "body attributes are not exactly parameters"

    parameters = value["parameters"]
    if not isinstance(parameters, dict) or set(parameters) != {"password"}:
        return "parameters is not an object holding exactly password"

    return None


def has_body(body: bytes | None) -> bool:
    """Whether the request carries a body at all."""
    return body is not None and len(body) > 0


def expect(
    case: BackupCase, *, supported: bool, role: bool = True, locked: bool = False
) -> Expectation:
    """The faults of a backup request in the order of checks, and its success.

    Args:
        case: the request.
        supported: whether the support matrix lists the array.
        role: whether the caller has the backup role.
        locked: whether a REST resource lock is held on the array.
    """
    faults: list[Fault] = []
    if case.token != "valid":
        name = f"token {case.token}"
        faults.append(Fault(name, 401, TOKEN_RULE, TOKEN_VIOLATIONS[case.token]))
    if not ACCEPT_VARIANTS[case.accept]:
        faults.append(
            Fault(f"Accept {case.accept}", 406, ACCEPT_RULE, f.AcceptNotHonoured)
        )
    if has_body(case.body) and not CONTENT_TYPE_VARIANTS[case.content_type]:
        name = f"Content-Type {case.content_type}"
        faults.append(Fault(name, 415, CONTENT_TYPE_RULE, f.ContentTypeNotChecked))
    if not role:
        faults.append(Fault("role", 403, ROLE_RULE, f.RoleNotEnforced))
    invalid = body_fault(case.body)
    if invalid is not None:
        faults.append(invalid)
    if not supported:
        faults.append(Fault("microcode", 412, SUPPORT_RULE, f.MicrocodeSupportMismatch))
    if locked:
        faults.append(Fault("lock held", 409, LOCK_RULE, f.LockNotHonoured))

    return Expectation(tuple(faults), 200)
