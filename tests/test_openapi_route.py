"""The emulator serves the kit's OpenAPI document."""

from __future__ import annotations

import json
from importlib import resources

import requests

from emulator.control.plane import ControlSettings
from emulator.server import create_app, serve_in_thread


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


def test_openapi_route__off_with_the_control_plane() -> None:
    """With the control plane off, /_emulator/openapi.json is an unknown object."""
    app = create_app(control_settings=ControlSettings(enabled=False))

    reply = app.test_client().get("/_emulator/openapi.json")

    assert reply.status_code == 404
    assert reply.json is not None and reply.json["messageId"] == "KART30013-E"
