"""Contract violations: one ``AssertionError`` subclass per kind of bug.

A violation says which rule of the contract broke, what the contract expected, what
came back, and a curl line that sends the same request again. Violations compare and
hash by class, so Hypothesis keeps shrinking towards the same bug.
"""

from __future__ import annotations

from typing import ClassVar


class ContractViolation(AssertionError):
    """The target departs from the contract."""

    title: ClassVar[str] = "The target departs from the contract"

    def __init__(
        self, *, rule: str, expected: str, actual: str, curl: str | None = None
    ) -> None:
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.curl = curl
        super().__init__(self.explain())

    def explain(self) -> str:
        """The failure as a person reads it."""
        lines = [
            self.title,
            f"  rule:     {self.rule}",
            f"  expected: {self.expected}",
            f"  actual:   {self.actual}",
        ]
        if self.curl:
            lines.append(f"  reproduce: {self.curl}")

        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class UnexpectedStatus(ContractViolation):
    title = "The status is not the one the contract gives"


class ValidBackupRefused(ContractViolation):
    title = "A backup request with nothing wrong was refused"


class PasswordRuleNotEnforced(ContractViolation):
    title = "A backup password outside the documented rules was accepted"


class RequestBodyNotValidated(ContractViolation):
    title = "A malformed backup request body was accepted"


class AcceptNotHonoured(ContractViolation):
    title = "An Accept header that refuses the backup file was ignored"


class ContentTypeNotChecked(ContractViolation):
    title = "A request body that is not JSON was accepted"


class MissingTokenAccepted(ContractViolation):
    title = "A request without usable credentials was served"


class MalformedTokenAccepted(ContractViolation):
    title = "A malformed token was accepted"


class DiscardedTokenAccepted(ContractViolation):
    title = "A token was accepted after its session was discarded"


class ExpiredTokenAccepted(ContractViolation):
    title = "A token was accepted after its session expired"


class RoleNotEnforced(ContractViolation):
    title = "A user without the required role was served"


class MicrocodeSupportMismatch(ContractViolation):
    title = "The backup's support does not follow the support matrix"


class LockNotHonoured(ContractViolation):
    title = "An operation ran while the resource lock was held"


class LockStateWrong(ContractViolation):
    title = "The resource lock does not behave as documented"


class ErrorObjectMalformed(ContractViolation):
    title = "An error reply is not the array's error object"


class BackupHeadersWrong(ContractViolation):
    title = "The backup file's reply headers are not the documented ones"


class ContentLengthMismatch(ContractViolation):
    title = "Content-Length differs from the size of the backup file"


class EmptyBackupFile(ContractViolation):
    title = "The backup file is empty"


class PasswordInBackupFile(ContractViolation):
    title = "The backup file holds the backup password in clear"


class BackupFileUnusable(ContractViolation):
    title = "The backup file does not open, or opens with the wrong password"


class BackupCountWrong(ContractViolation):
    title = "numOfBackups does not count the successful backups"


class SessionRuleBroken(ContractViolation):
    title = "Sessions do not behave as documented"


class SessionCapNotEnforced(ContractViolation):
    title = "More sessions were opened than the documented cap"


class ChecksOutOfOrder(ContractViolation):
    title = "A request with several faults got the status of a later check"


class FaultStatusUnknown(ContractViolation):
    title = "A request with several faults got a status none of them gives"


class ResponseNotConforming(ContractViolation):
    title = "A reply does not conform to the OpenAPI document"
