"""The kit's options: names, environment fallbacks, and their resolved values.

Kept apart from the plugin so that the command line and the plugin share one list.
Secrets (the user's password, the backup password) come from the environment only,
never from a command-line value, where any user of the machine could read them.
"""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from contract_tests.secret import Secret

GROUP = "array contract"

URL = "--array-url"
URL_ENV = "ARRAY_URL"
USER = "--array-user"
USER_ENV = "ARRAY_USER"
PASSWORD_ENV = "ARRAY_PASSWORD"
CA = "--array-ca"
CA_ENV = "ARRAY_CA"
INSECURE = "--array-insecure"
INSECURE_ENV = "ARRAY_INSECURE"
ALLOW = "--array-allow"
ALLOW_ENV = "ARRAY_ALLOW"
OBSERVATIONS = "--array-observations"
OBSERVATIONS_ENV = "ARRAY_OBSERVATIONS"
BACKUP_PASSWORD_ENV = "ARRAY_BACKUP_PASSWORD"
SPACING = "--array-spacing"
SPACING_ENV = "ARRAY_SPACING"
# Spacing between requests to a target without a control plane, which may be a
# real array serving other clients: a few requests a second at most.
DEFAULT_SPACING_SECONDS = 0.2

READ_ONLY = "read_only"
REVERSIBLE = "reversible"
SENSITIVE = "sensitive"
DESTRUCTIVE = "destructive"
SAFETY_CLASSES = (READ_ONLY, REVERSIBLE, SENSITIVE, DESTRUCTIVE)
ALWAYS_ALLOWED = frozenset({READ_ONLY, REVERSIBLE})

# The documented backup-password alphabet: printable ASCII 0x21-0x7E.
BACKUP_ALPHABET = string.ascii_letters + string.digits + string.punctuation
GENERATED_PASSWORD_LENGTH = 24
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class OptionError(ValueError):
    """The options given cannot describe a target."""


@dataclass(frozen=True)
class KitOptions:
    """The kit's settings after command line and environment are merged.

    Attributes:
        url: the target's base URL, or None to start an embedded emulator.
        user: the user the kit opens sessions as (needed with ``url``).
        password: that user's password, from ``ARRAY_PASSWORD``.
        verify: what TLS verification uses: a CA file, True, or False.
        allow: safety classes allowed beyond read-only and reversible.
        backup_password: the password backup files are sealed with.
        observations: where to write the observations file, if anywhere.
        spacing: seconds between two requests to a target without control plane.
    """

    url: str | None
    user: str | None
    password: Secret | None
    verify: str | bool
    allow: frozenset[str]
    backup_password: Secret
    observations: Path | None
    spacing: float = DEFAULT_SPACING_SECONDS


def parse_allow(text: str | None) -> frozenset[str]:
    """The safety classes named in a comma-separated list.

    Raises:
        OptionError: a name that is not a safety class.
    """
    names = {n.strip().replace("-", "_") for n in (text or "").split(",")}
    names.discard("")
    if "all" in names:
        return frozenset(SAFETY_CLASSES)

    unknown = names - set(SAFETY_CLASSES)
    if unknown:
        known = ", ".join(SAFETY_CLASSES)
        raise OptionError(f"{ALLOW}: unknown safety class {sorted(unknown)} ({known})")

    return frozenset(names)


def generated_backup_password() -> str:
    """A fresh backup password inside the documented alphabet."""
    return "".join(
        secrets.choice(BACKUP_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH)
    )


def _verify(ca: str | None, insecure: bool) -> str | bool:
    if ca and insecure:
        raise OptionError(f"give {CA} or {INSECURE}, not both")

    if ca:
        return ca

    return not insecure


def resolve(
    *,
    url: str | None,
    user: str | None,
    ca: str | None,
    insecure: bool,
    allow: str | None,
    observations: str | None,
    spacing: str | None = None,
) -> KitOptions:
    """Merge command-line values with their environment fallbacks.

    Raises:
        OptionError: inconsistent options, or a URL without a user and password.
    """
    url = url or os.environ.get(URL_ENV) or None
    user = user or os.environ.get(USER_ENV) or None
    password = os.environ.get(PASSWORD_ENV)
    insecure = insecure or os.environ.get(INSECURE_ENV, "").lower() in TRUE_WORDS
    backup = os.environ.get(BACKUP_PASSWORD_ENV) or generated_backup_password()
    observations = observations or os.environ.get(OBSERVATIONS_ENV) or None
    spacing = spacing or os.environ.get(SPACING_ENV) or None
    if url and not (user and password):
        raise OptionError(f"{URL} needs {USER} (or {USER_ENV}) and {PASSWORD_ENV}")

    return KitOptions(
        url=url.rstrip("/") if url else None,
        user=user,
        password=Secret(password) if password else None,
        verify=_verify(ca or os.environ.get(CA_ENV) or None, insecure),
        allow=parse_allow(allow or os.environ.get(ALLOW_ENV)),
        backup_password=Secret(backup),
        observations=Path(observations) if observations else None,
        spacing=_spacing(spacing),
    )


def _spacing(text: str | None) -> float:
    if text is None:
        return DEFAULT_SPACING_SECONDS

    try:
        seconds = float(text)
    except ValueError:
        raise OptionError(f"{SPACING}: not a number of seconds: {text!r}") from None
    if seconds < 0:
        raise OptionError(f"{SPACING}: must not be negative")

    return seconds
