"""Schemathesis over the OpenAPI document of the emulated API (the contract).

Every read-only operation, with parameters drawn from the document: no server
errors, and statuses, content types, headers and bodies as the document says.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client import Session
from contract_tests.target import Target

pytestmark = pytest.mark.read_only

DOCUMENT = "openapi.json"
READ_ONLY_TAG = "read_only"
MOST_EXAMPLES = 5


def document() -> dict[str, Any]:
    """The OpenAPI document shipped with the kit."""
    text = resources.files("contract_tests").joinpath(DOCUMENT).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)

    return loaded


def read_only_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the document tags read-only."""
    return [
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if READ_ONLY_TAG in operation.get("tags", [])
    ]


@pytest.mark.parametrize(
    ("method", "path"), read_only_operations(), ids=lambda v: str(v).rsplit("/", 1)[-1]
)
def test_openapi__read_only_operation_conforms(
    method: str, path: str, array_target: Target, live_session: Session
) -> None:
    """Drawn requests to one operation get replies that conform to the document."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    operation = schemathesis.openapi.from_dict(document())[path][method]
    http = requests.Session()
    http.verify = array_target.connection.verify
    headers = {"Authorization": f"Session {live_session.token.reveal()}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    current = settings()

    @given(data=st.data())
    @settings(current, max_examples=min(current.max_examples, MOST_EXAMPLES))
    def conforms(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        array_target.connection.pacer.wait()
        case.call_and_validate(
            base_url=array_target.url,
            session=http,
            headers=headers,
            checks=checks,
            verify=array_target.connection.verify,
        )

    conforms()
