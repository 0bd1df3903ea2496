"""Property tests for the documented rules: backup passwords and Accept headers."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.api.negotiation import accepts, parse_accept
from emulator.errors import InvalidValue
from emulator.model.passwords import (
    ALLOWED_CHARACTERS,
    check_backup_password,
    password_problem,
)

# The vendor's list, spelled out independently of the module under test.
DOCUMENTED = string.ascii_letters + string.digits + "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
OCTET = "application/octet-stream"

valid_passwords = st.text(alphabet=DOCUMENTED, min_size=6, max_size=255)


@given(valid_passwords)
def test_password__documented_set_accepted(password: str) -> None:
    """Any 6-255 characters from the documented set are accepted."""
    assert check_backup_password(password) == password


@given(st.text(alphabet=DOCUMENTED, max_size=5) | st.text(DOCUMENTED, min_size=256))
def test_password__length_refused(password: str) -> None:
    """Fewer than 6 or more than 255 characters are refused."""
    with pytest.raises(InvalidValue):
        check_backup_password(password)


@given(
    st.text(alphabet=DOCUMENTED, min_size=3, max_size=120),
    st.characters(exclude_characters=DOCUMENTED),
    st.text(alphabet=DOCUMENTED, min_size=3, max_size=120),
)
def test_password__other_character_refused(head: str, bad: str, tail: str) -> None:
    """One character outside the set (space, non-ASCII, control) spoils it."""
    assert password_problem(head + bad + tail) is not None


@given(st.integers() | st.none() | st.lists(st.text()) | st.floats() | st.booleans())
def test_password__not_a_string(value: object) -> None:
    """JSON numbers, null, lists and booleans are refused as passwords."""
    with pytest.raises(InvalidValue):
        check_backup_password(value)


def test_password__set_is_printable_ascii() -> None:
    """The documented set is exactly printable ASCII without space."""
    assert set(map(chr, range(0x21, 0x7F))) == ALLOWED_CHARACTERS == set(DOCUMENTED)


@given(valid_passwords)
def test_password__problem_never_quotes(password: str) -> None:
    """A refusal never quotes the password it refuses."""
    problem = password_problem(password + " ")

    assert problem is not None and password not in problem


media_types = st.sampled_from(
    ["application/json", OCTET, "text/plain", "image/png", "application/xml"]
)
qualities = st.sampled_from(["", ";q=1", ";q=0.5", ";q=0.001", ";q=0"])


def media_range(text: str, quality: str) -> str:
    return f"{text}{quality}"


@given(st.lists(st.tuples(media_types, qualities), min_size=1, max_size=5))
def test_accept__exact_ranges(entries: list[tuple[str, str]]) -> None:
    """With exact types only, a type is accepted iff listed with a quality above 0."""
    header = ", ".join(media_range(t, q) for t, q in entries)
    listed = [q for t, q in entries if t == OCTET]

    expected = any(q != ";q=0" for q in listed)

    assert accepts(header, OCTET) is expected


@given(st.lists(st.tuples(media_types, qualities), max_size=4), qualities)
def test_accept__wildcard(entries: list[tuple[str, str]], wildcard_q: str) -> None:
    """``*/*`` admits a type that no more specific range names."""
    named = {t for t, _ in entries}
    header = ", ".join([*(media_range(t, q) for t, q in entries), f"*/*{wildcard_q}"])

    if OCTET not in named:
        assert accepts(header, OCTET) is (wildcard_q != ";q=0")


@given(st.text(max_size=200))
def test_accept__never_crashes(header: str) -> None:
    """Any header text gives an answer, never an exception."""
    assert accepts(header, OCTET) in (True, False)
    assert isinstance(parse_accept(header), list)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, True),
        ("", True),
        ("*/*", True),
        ("application/*", True),
        ("application/json", False),
        ("application/json, */*;q=0", False),
        ("application/*;q=0, application/octet-stream", True),
        ("application/octet-stream;q=0, */*", False),
        ("Application/Octet-Stream", True),
        ("garbage", False),
    ],
)
def test_accept__examples(header: str | None, expected: bool) -> None:
    """Worked examples, including case and the most-specific-range rule."""
    assert accepts(header, OCTET) is expected
