"""Hypothesis strategies over the backup endpoint's request space."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from contract_tests.contract import (
    ACCEPT_VARIANTS,
    CONTENT_TYPE_VARIANTS,
    MAX_PASSWORD,
    MIN_PASSWORD,
    BackupCase,
    TokenKind,
)
from contract_tests.options import BACKUP_ALPHABET

LONGEST_DRAWN = 300
SPACE = " "
MALFORMED_BODIES = (b"{", b"not json", b"\xff\xfe{}", b'{"parameters": }', b"[}")


def valid_passwords() -> st.SearchStrategy[str]:
    """Passwords the documentation allows."""
    return st.text(
        alphabet=BACKUP_ALPHABET, min_size=MIN_PASSWORD, max_size=MAX_PASSWORD
    )


def _with_intruder(intruders: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # A valid password with one foreign character put somewhere inside it.
    return st.tuples(valid_passwords(), intruders, st.integers(0, MAX_PASSWORD)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    )


def invalid_passwords() -> st.SearchStrategy[object]:
    """Passwords outside the documented rules: length, characters, JSON type."""
    non_ascii = st.characters(min_codepoint=0x80, exclude_categories=["Cs"])
    control = st.characters(max_codepoint=0x1F) | st.just("\x7f")
    text = st.text(alphabet=BACKUP_ALPHABET)

    return st.one_of(
        st.text(alphabet=BACKUP_ALPHABET, max_size=MIN_PASSWORD - 1),
        st.text(
            alphabet=BACKUP_ALPHABET, min_size=MAX_PASSWORD + 1, max_size=LONGEST_DRAWN
        ),
        _with_intruder(st.just(SPACE)),
        _with_intruder(non_ascii),
        _with_intruder(control),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.none(),
        st.booleans(),
        st.lists(text, max_size=3),
        st.dictionaries(text, text, max_size=2),
    )


def passwords() -> st.SearchStrategy[object]:
    """Any password value, valid or not."""
    return st.one_of(valid_passwords(), invalid_passwords())


def _encoded(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")


def well_formed_bodies() -> st.SearchStrategy[bytes]:
    """The documented body around any password value."""
    return passwords().map(lambda p: _encoded({"parameters": {"password": p}}))


def misshapen_bodies() -> st.SearchStrategy[bytes | None]:
    """Bodies with a missing, unknown or mis-nested attribute, or no JSON at all."""
    password = valid_passwords()
    shapes = st.one_of(
        st.just({}),
        st.just({"parameters": {}}),
        st.sampled_from([None, "x", 1, []]).map(lambda v: {"parameters": v}),
        password.map(lambda p: {"password": p}),
        password.map(lambda p: {"parameters": {"password": p, "unknown": 1}}),
        password.map(lambda p: {"parameters": {"password": p}, "unknown": True}),
        password.map(lambda p: [{"parameters": {"password": p}}]),
        st.sampled_from([1, "text", None, True]),
    )

    return st.one_of(
        shapes.map(_encoded),
        st.sampled_from(MALFORMED_BODIES),
        st.just(b""),
        st.none(),
    )


def bodies() -> st.SearchStrategy[bytes | None]:
    """Any backup body, well-formed more often than not."""
    return st.one_of(well_formed_bodies(), well_formed_bodies(), misshapen_bodies())


def backup_cases(kinds: tuple[TokenKind, ...]) -> st.SearchStrategy[BackupCase]:
    """Backup requests over tokens, Accept, Content-Type and body.

    A valid token, a good Accept and a JSON Content-Type are drawn more often than
    their alternatives, so that most requests hold one fault rather than several.
    """
    tokens = st.sampled_from(kinds) if len(kinds) > 1 else st.just(kinds[0])
    usual_token: st.SearchStrategy[TokenKind] = st.just("valid")

    return st.builds(
        BackupCase,
        token=st.one_of(usual_token, usual_token, tokens),
        accept=st.one_of(
            st.just("application/octet-stream"), st.sampled_from(list(ACCEPT_VARIANTS))
        ),
        content_type=st.one_of(
            st.just("application/json"), st.sampled_from(list(CONTENT_TYPE_VARIANTS))
        ),
        body=bodies(),
    )
