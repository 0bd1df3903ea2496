"""The fixtures are consistent: every error situation is catalogued and documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from emulator import errors
from emulator.profile import (
    bundled_profiles,
    load_profile,
    message_catalogue,
    role_inclusions,
)

REQUIRED = {"status", "messageId", "message", "cause", "solution", "solutionType"}
CHOICES = Path(__file__).parent.parent / "docs" / "choices.md"


def situations() -> list[str]:
    """Every situation an ArrayError subclass names."""
    classes = inspect.getmembers(errors, inspect.isclass)

    return sorted({c.situation for _, c in classes if issubclass(c, errors.ArrayError)})


@pytest.mark.parametrize("situation", situations())
def test_catalogue__every_situation(situation: str) -> None:
    """Every error the code can raise has a complete catalogue entry."""
    entry = message_catalogue()[situation]

    assert set(entry) >= REQUIRED
    assert re.fullmatch(r"KART\d{5}-[EWI]", entry["messageId"])
    assert entry["solutionType"] in ("RETRY", "SEE_ERROR_DETAIL")
    assert 400 <= entry["status"] <= 599


def test_catalogue__chosen_ids_documented() -> None:
    """Every chosen messageId that a client can receive is listed in docs/choices.md."""
    text = CHOICES.read_text("utf-8")
    for name, entry in message_catalogue().items():
        if entry.get("chosen") and name not in ("server_busy", "server_error"):
            assert entry["messageId"] in text, name


def test_catalogue__no_unused_entries() -> None:
    """No catalogue entry lacks an error class that raises it."""
    assert set(message_catalogue()) == set(situations())


@pytest.mark.parametrize("name", bundled_profiles())
def test_profiles__load_and_have_users(name: str) -> None:
    """Each bundled profile loads, has a security administrator and a viewer."""
    profile = load_profile(name)
    roles = {u.name: set(u.roles) for u in profile.users}

    assert "Security Administrator (View & Modify)" in roles["secadmin"]
    assert roles["viewer"] == {"Storage Administrator (View Only)"}
    assert profile.storage.storage_device_id.endswith(
        f"{profile.storage.serial_number:06d}"
    )


def test_roles__profiles_name_known_roles() -> None:
    """Profiles only name roles the role table knows."""
    known = set(role_inclusions())
    for name in bundled_profiles():
        for user in load_profile(name).users:
            assert set(user.roles) <= known, user.name
