"""Keeping secrets out of the journal: passwords, tokens and backup files.

A value is secret when its name says so (``password``, ``token`` ...) or when it
equals the password of one of the profile's users. Secret values are replaced by
``REDACTED``; bodies that may hold key material (a backup file, a restore upload)
are never recorded at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from urllib.parse import parse_qsl, urlencode

REDACTED = "***"
SECRET_NAMES = frozenset(
    {
        "token",
        "secret",
        "authorization",
        "credential",
        "credentials",
        "apikey",
        "api_key",
        "pass",
        "pwd",
        "passwd",
    }
)
SECRET_FRAGMENTS = ("password", "passphrase")
JSON_TYPES = ("application/json", "")
FORM_TYPE = "application/x-www-form-urlencoded"


def secret_name(name: str) -> bool:
    """Whether a parameter or attribute of this name holds a secret."""
    lowered = name.lower()

    return lowered in SECRET_NAMES or any(f in lowered for f in SECRET_FRAGMENTS)


def redact_query(query: str, passwords: Collection[str]) -> tuple[str, bool]:
    """The query string with secret values replaced, and whether it held any."""
    pairs = parse_qsl(query, keep_blank_values=True)
    found = False
    cleaned: list[tuple[str, str]] = []
    for name, value in pairs:
        if secret_name(name) or value in passwords:
            found = True
            value = REDACTED
        cleaned.append((name, value))

    return urlencode(cleaned, safe="*"), found


def _redact_value(value: object, passwords: Collection[str]) -> object:
    if isinstance(value, dict):
        return {
            k: REDACTED if secret_name(str(k)) else _redact_value(v, passwords)
            for k, v in value.items()
        }

    if isinstance(value, list):
        return [_redact_value(v, passwords) for v in value]

    if isinstance(value, str) and value in passwords:
        return REDACTED

    return value


def redact_body(
    raw: bytes, mimetype: str, passwords: Collection[str], limit: int
) -> str:
    """A request body fit for the journal, cut at ``limit`` characters.

    JSON and form bodies are recorded with secret values replaced; any other body
    (a multipart upload, binary data) is described by its type and size only.
    """
    if not raw:
        return ""

    if mimetype in JSON_TYPES:
        text = _redacted_json(raw, passwords)
    elif mimetype == FORM_TYPE:
        text, _ = redact_query(raw.decode("latin-1"), passwords)
    else:
        text = f"<{len(raw)} bytes of {mimetype}, not recorded>"

    return text if len(text) <= limit else text[:limit] + "..."


def _redacted_json(raw: bytes, passwords: Collection[str]) -> str:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        # Unparsable JSON may still hold a password: keep only its size.
        return f"<{len(raw)} bytes of malformed JSON, not recorded>"

    return json.dumps(_redact_value(parsed, passwords), separators=(",", ":"))
