"""Fixtures the suite's areas share: sessions, tokens in every state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.checks import refused_after_discard
from contract_tests.client import ArrayClient, Session
from contract_tests.contract import TokenKind
from contract_tests.secret import Secret
from contract_tests.target import Target


@pytest.fixture(scope="module")
def module_client(array_target: Target) -> Iterator[ArrayClient]:
    """A client kept for a module; what it opened is released after the module."""
    client = array_target.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def live_session(module_client: ArrayClient) -> Session:
    """A session kept open for the module."""
    return module_client.open_session(probe="fixture.session")


@pytest.fixture(scope="module")
def tokens(
    array_target: Target, module_client: ArrayClient, live_session: Session
) -> dict[TokenKind, Secret]:
    """A token of each kind: live, discarded and, with a control plane, expired."""
    discarded = module_client.open_session(probe="fixture.session")
    module_client.discard(discarded, probe="fixture.discard")
    refused_after_discard(module_client, discarded)
    found: dict[TokenKind, Secret] = {
        "valid": live_session.token,
        "discarded": discarded.token,
    }
    if array_target.control is not None:
        expired = module_client.open_session(probe="fixture.session")
        array_target.control.expire_session(expired.session_id)
        module_client.forget(expired)
        found["expired"] = expired.token

    return found


def token_kinds(found: dict[TokenKind, Secret]) -> tuple[TokenKind, ...]:
    """The token kinds a test can draw from: those a fixture could make."""
    return ("valid", "absent", "malformed", *(k for k in found if k != "valid"))
