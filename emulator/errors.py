"""The one error type of the emulated array.

Model and views raise an ``ArrayError`` subclass; one handler renders it as the
array's error object. Each subclass names a situation in the message catalogue
(``fixtures/messages.toml``), which gives the HTTP status, the messageId and the
texts, so that no code states a status or a messageId of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class ArrayError(Exception):
    """An error the array answers with; ``situation`` is its catalogue entry.

    Args:
        headers: extra response headers (for example Retry-After).
        **params: values for the catalogue texts' ``{names}``. They must never
            hold a password, a token or key material.
    """

    situation: ClassVar[str] = "server_error"

    def __init__(
        self, *, headers: Mapping[str, str] | None = None, **params: object
    ) -> None:
        super().__init__(self.situation)
        self.params: dict[str, object] = dict(params)
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, object] = {}


class TokenInvalid(ArrayError):
    """No Authorization, or a token that is unknown, expired or discarded."""

    situation = "token_invalid"


class CredentialsInvalid(ArrayError):
    """Wrong user or password in Basic credentials."""

    situation = "credentials_invalid"


class SessionLimit(ArrayError):
    """Every session slot of the array is taken."""

    situation = "session_limit"


class ServerBusy(ArrayError):
    """The REST server is busy (only ever injected by a test)."""

    situation = "server_busy"


class Forbidden(ArrayError):
    """The user's roles do not allow the operation."""

    situation = "forbidden"


class NotFound(ArrayError):
    """No object at the URL, or one the user may not read."""

    situation = "not_found"


class MethodNotAllowed(ArrayError):
    """The URL exists but not for this method."""

    situation = "method_not_allowed"


class NotAcceptable(ArrayError):
    """The Accept header admits nothing the operation returns."""

    situation = "not_acceptable"


class UnsupportedMediaType(ArrayError):
    """The body's Content-Type is not one the operation takes."""

    situation = "unsupported_media_type"


class BodyTooLarge(ArrayError):
    """The body is larger than the server accepts."""

    situation = "body_too_large"


class InvalidJson(ArrayError):
    """The body does not parse as JSON."""

    situation = "invalid_json"


class UnknownAttribute(ArrayError):
    """An attribute the operation does not take, or one at the wrong level."""

    situation = "unknown_attribute"


class MissingParameter(ArrayError):
    """A required parameter is absent."""

    situation = "missing_parameter"


class InvalidValue(ArrayError):
    """A parameter of the wrong type, length, range or characters."""

    situation = "invalid_value"


class MicrocodeUnsupported(ArrayError):
    """The array's model or microcode does not support the operation."""

    situation = "microcode_unsupported"


class LockedByOther(ArrayError):
    """Another session holds the resource lock."""

    situation = "locked_by_other"


class LockedBySelf(ArrayError):
    """The calling session holds the resource lock and must unlock first."""

    situation = "locked_by_self"


class LockBusy(ArrayError):
    """A lock request found the lock held for its whole waitTime."""

    situation = "lock_busy"


class LockAlreadyHeld(ArrayError):
    """The session asked for the lock it already holds."""

    situation = "lock_already_held"


class NotLockHolder(ArrayError):
    """An unlock from a session that does not hold the lock."""

    situation = "not_lock_holder"


class LockNeedsSession(ArrayError):
    """A lock or unlock authenticated by Basic credentials alone."""

    situation = "lock_needs_session"


class KeyNotFree(ArrayError):
    """A delete of a key that is in use."""

    situation = "key_not_free"


class KeyLimit(ArrayError):
    """A create that would pass the maximum number of keys."""

    situation = "key_limit"


class BackupFileInvalid(ArrayError):
    """A restore whose file or password does not open."""

    situation = "backup_file_invalid"


class JobFailed(ArrayError):
    """A storage-side failure, carried in a failed job's error object."""

    situation = "job_failed"


class ServerError(ArrayError):
    """An unexpected condition inside the emulator."""

    situation = "server_error"


class ControlRefused(ArrayError):
    """A control request from outside loopback, or without the control token."""

    situation = "control_refused"


class ControlConflict(ArrayError):
    """A control request the emulated array's state does not allow."""

    situation = "control_conflict"


class InjectedFault(ArrayError):
    """The answer of a fault rule that names no situation of the catalogue."""

    situation = "injected_fault"
