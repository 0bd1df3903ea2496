"""The emulator serves the kit's OpenAPI document."""

from __future__ import annotations

import json
from importlib import resources

import requests

from emulator.server import serve_in_thread


def test_openapi_route__serves_the_kits_document() -> None:
    """GET /_emulator/openapi.json answers the document contract_tests ships."""
    shipped = json.loads(
        resources.files("contract_tests").joinpath("openapi.json").read_text()
    )
    server = serve_in_thread()
    try:
        reply = requests.get(f"{server.url}/_emulator/openapi.json", timeout=10)
    finally:
        server.stop()

    assert reply.status_code == 200
    assert reply.json() == shipped
    assert reply.json()["openapi"].startswith("3.")
