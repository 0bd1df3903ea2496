"""``GET /_emulator/openapi.json``: the OpenAPI document of the emulated API.

The document is the contract kit's (``contract_tests/openapi.json``): the kit keeps
the contract, and the emulator serves it so a person or a tool can fetch it from a
running emulator. The file is found without importing the kit's code, so the
emulator depends on the kit's data only, and answers 404 when the kit is absent.
It is part of the control plane: with the control plane off, it is not served. Like
``configuration/version`` it needs no credentials, from any address: it holds no
secret.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import Blueprint, Response

from emulator.errors import NotFound

bp = Blueprint("openapi", __name__)

KIT_PACKAGE = "contract_tests"
DOCUMENT = "openapi.json"
PATH = "/_emulator/openapi.json"


def document_path() -> Path | None:
    """Where the kit's OpenAPI document lives, if the kit is installed."""
    spec = importlib.util.find_spec(KIT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None

    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DOCUMENT
        if candidate.is_file():
            return candidate

    return None


@bp.get(PATH)
def get_document() -> Response:
    """The OpenAPI document; no authentication, like the version endpoint."""
    path = document_path()
    if path is None:
        raise NotFound(object=PATH)

    return Response(path.read_bytes(), content_type="application/json;charset=UTF-8")
