"""The emulated REST API: one blueprint per resource family, served under every URL
form the array's clients use.

Object families answer both at ``/ConfigurationManager/v1/objects/...`` and
storage-scoped at ``/ConfigurationManager/v1/objects/storages/{storageDeviceId}/...``;
services answer at ``/v1/services/...``, ``/v1/{storageDeviceId}/services/...`` and
``/v1/objects/storages/{storageDeviceId}/services/...``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g

from emulator.api import errors, jobs, keys, locks, sessions, storages
from emulator.api.common import OBJECTS_ROOT, array
from emulator.errors import NotFound

ROOT = "/ConfigurationManager"
DEVICE = "<storage_device_id>"
OBJECT_PREFIXES = (OBJECTS_ROOT, f"{OBJECTS_ROOT}/storages/{DEVICE}")
SERVICE_PREFIXES = (
    f"{ROOT}/v1/services",
    f"{ROOT}/v1/{DEVICE}/services",
    f"{OBJECTS_ROOT}/storages/{DEVICE}/services",
)
OBJECT_BLUEPRINTS = (sessions.bp, jobs.bp, keys.bp, locks.bp)

# The array's replies carry these whatever their status (observed on a real array).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "SAMEORIGIN",
    "X-XSS-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
}


def _scope(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Storage-scoped URLs name the array; another storageDeviceId is an unknown
    # object (the emulator's choice: a JSON 404, never KART30070-E, which one
    # public client takes as "register this storage").
    if not values or "storage_device_id" not in values:
        return

    device = values.pop("storage_device_id")
    if device != array().profile.storage.storage_device_id:
        raise NotFound(object=f"storages/{device}")

    g.objects_prefix = f"{OBJECTS_ROOT}/storages/{device}"


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)

    return response


def register(app: Flask) -> None:
    """Add every blueprint under every URL form, and the shared hooks."""
    app.register_blueprint(storages.version_bp, url_prefix=f"{ROOT}/configuration")
    app.register_blueprint(storages.bp, url_prefix=OBJECTS_ROOT)
    for index, prefix in enumerate(OBJECT_PREFIXES):
        for blueprint in OBJECT_BLUEPRINTS:
            name = f"{blueprint.name}_{index}"
            app.register_blueprint(blueprint, url_prefix=prefix, name=name)
    for index, prefix in enumerate(SERVICE_PREFIXES):
        name = f"{locks.services_bp.name}_{index}"
        app.register_blueprint(locks.services_bp, url_prefix=prefix, name=name)

    app.url_value_preprocessor(_scope)
    app.after_request(_add_headers)
    errors.register(app)
