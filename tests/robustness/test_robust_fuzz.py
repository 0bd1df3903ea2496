"""Schemathesis over every operation, valid and invalid inputs alike: never a 5xx,
and every refusal is the array's error object.

The OpenAPI document is ``openapi.yaml`` beside this file, which describes inputs
only. ``ROBUSTNESS_EXAMPLES`` sets the example budget per operation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from emulator.server import EmulatorServer, serve_in_thread
from tests.robustness.support import ERROR_FIELDS

EXAMPLES = int(os.environ.get("ROBUSTNESS_EXAMPLES", "60"))
DOCUMENT = Path(__file__).with_name("openapi.yaml")

schema = schemathesis.openapi.from_dict(yaml.safe_load(DOCUMENT.read_text()))
schema.config.generation.update(
    modes=list(schemathesis.GenerationMode), max_examples=EXAMPLES
)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[EmulatorServer]:
    """One emulator for the whole fuzzing run."""
    server = serve_in_thread("vsp-e990")
    yield server
    server.stop()


def _fresh_token(server: EmulatorServer) -> str:
    # Each example starts from the profile's initial state, with a session of
    # the security administrator, so no example depends on an earlier one.
    array = server.array
    array.reset()
    user = array.profile.users[0]

    return array.create_session(user, "127.0.0.1").token


def _is_error_object(response: schemathesis.Response) -> bool:
    content_types = response.headers.get("content-type", [])
    if not content_types or not content_types[0].startswith("application/json"):
        return False

    body = json.loads(response.content)

    return isinstance(body, dict) and all(f in body for f in ERROR_FIELDS)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz__no_server_error(case: schemathesis.Case, fuzzed: EmulatorServer) -> None:
    """Generated requests never get a 5xx; a refusal is always the error object."""
    token = _fresh_token(fuzzed)

    response = case.call(
        base_url=fuzzed.url,
        headers={"Authorization": f"Session {token}"},
        timeout=30,
    )

    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert _is_error_object(response), response.text[:300]
