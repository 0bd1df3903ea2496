"""What the kit writes about each request: observations, and curl lines.

An observation is one request in short (secrets replaced by placeholders), its status
and its messageId. The observations of two runs, say the emulator's and a real
array's, compare line by line (``array-contract diff``).
"""

from __future__ import annotations

import json
import re
import shlex
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict, cast

# Shell variables a curl line uses where the request held a secret.
TOKEN_VARIABLE = "${TOKEN}"
USER_VARIABLE = "${ARRAY_USER}"
PASSWORD_VARIABLE = "${ARRAY_PASSWORD}"
BACKUP_PASSWORD_VARIABLE = "${ARRAY_BACKUP_PASSWORD}"
PLACEHOLDERS = (
    TOKEN_VARIABLE,
    USER_VARIABLE,
    PASSWORD_VARIABLE,
    BACKUP_PASSWORD_VARIABLE,
)
BASIC = "basic"
SHELL_SPECIAL = re.compile(r'([\\"`$])')
# Session and job IDs differ from run to run: observations name them generically,
# so that two runs line up.
RUN_SPECIFIC_ID = re.compile(r"(/(?:sessions|jobs)/)\d+")
FORMAT_VERSION = 1


class ObservationRecord(TypedDict):
    """One observation as the file holds it."""

    probe: str
    request: str
    status: int
    messageId: str | None


class ObservationsFile(TypedDict):
    """The observations file."""

    format: int
    target: dict[str, str]
    observations: list[ObservationRecord]


@dataclass(frozen=True)
class ShortRequest:
    """A request with every secret already replaced.

    Attributes:
        method: the HTTP method.
        path: the path below the base URL.
        auth: ``basic``, an Authorization value with placeholders, or None.
        session_state: the token's session when not live (``ended``, ``expired``).
        headers: headers as the report shows them (placeholders for secrets).
        body: the body as the report shows it, or None.
    """

    method: str
    path: str
    auth: str | None = None
    session_state: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None

    def summary(self) -> str:
        """One line: method, path, the headers that shape the answer, body."""
        parts = [self.method, RUN_SPECIFIC_ID.sub(r"\1{id}", self.path)]
        if self.auth is not None:
            state = f" ({self.session_state} session)" if self.session_state else ""
            parts.append(f"auth: {self.auth}{state}")
        parts += [f"{name}: {value}" for name, value in self.headers]
        if self.body is not None:
            parts.append(f"body={self.body}")

        return " | ".join(parts)


def curl_line(base_url: str, request: ShortRequest, *, insecure: bool) -> str:
    """A curl command that sends ``request`` again, secrets left to shell variables.

    Words holding a placeholder such as ``${TOKEN}`` are double-quoted so that the
    shell expands it; every other word is single-quoted.
    """
    words = ["curl", "-sS", "-i"]
    if insecure:
        words.append("-k")
    words += ["-X", request.method]
    if request.auth == BASIC:
        words += ["-u", _quote(f"{USER_VARIABLE}:{PASSWORD_VARIABLE}")]
    elif request.auth is not None:
        words += ["-H", _quote(f"Authorization: {request.auth}")]
    for name, value in request.headers:
        words += ["-H", _quote(f"{name}: {value}")]
    if request.body is not None:
        words += ["--data-binary", _quote(request.body)]
    words.append(_quote(base_url + request.path))

    return " ".join(words)


def _quote(text: str) -> str:
    if not any(p in text for p in PLACEHOLDERS):
        return shlex.quote(text)

    escaped = SHELL_SPECIAL.sub(r"\\\1", text)
    for placeholder in PLACEHOLDERS:
        escaped = escaped.replace("\\" + placeholder, placeholder)

    return f'"{escaped}"'


@dataclass
class Observations:
    """The observations of one run, collected from every thread that sends."""

    target: dict[str, str] = field(default_factory=dict)
    records: list[ObservationRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, probe: str, request: ShortRequest, status: int, message_id: str | None
    ) -> None:
        """Record one request and what came back."""
        record = ObservationRecord(
            probe=probe, request=request.summary(), status=status, messageId=message_id
        )
        with self._lock:
            self.records.append(record)

    def write(self, path: Path) -> None:
        """Write the observations file (JSON)."""
        with self._lock:
            content = ObservationsFile(
                format=FORMAT_VERSION,
                target=dict(self.target),
                observations=list(self.records),
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")


def load(path: Path) -> ObservationsFile:
    """Read an observations file.

    Raises:
        ValueError: the file is not an observations file.
    """
    content = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict) or content.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: not an observations file of format {FORMAT_VERSION}")

    return cast(ObservationsFile, content)


@dataclass(frozen=True)
class Difference:
    """One request the two files answer differently, or only one file holds."""

    request: str
    left: str
    right: str


def outcome(record: ObservationRecord) -> str:
    """Status and messageId as one short word."""
    message_id = record["messageId"]

    return f"{record['status']} {message_id}" if message_id else str(record["status"])


def _outcomes(content: ObservationsFile) -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for record in content["observations"]:
        table.setdefault(record["request"], set()).add(outcome(record))

    return table


def diff(left: ObservationsFile, right: ObservationsFile) -> list[Difference]:
    """Where two runs differ: per request in short, the outcomes each one saw."""
    before, after = _outcomes(left), _outcomes(right)
    differences = []
    for request in sorted(before.keys() | after.keys()):
        mine = ", ".join(sorted(before.get(request, {"(not sent)"})))
        theirs = ", ".join(sorted(after.get(request, {"(not sent)"})))
        if mine != theirs:
            differences.append(Difference(request, mine, theirs))

    return differences


def as_dict(difference: Difference) -> dict[str, str]:
    """A difference as JSON shows it."""
    return asdict(difference)
