"""The control plane under ``/_emulator/``: edge cases on demand.

Reset and snapshot the state, switch the profile or the microcode, move the clock,
hold the lock as another session, expire a session, make jobs slow or failing,
inject faults, read the request journal and the client conformance report. See
``docs/control-plane.md``.

``install`` adds the control plane to an app built by ``create_app``: the blueprint,
the fault hook, and the journal and fault middleware around the app.
"""

from __future__ import annotations

from typing import cast

from flask import Flask

from emulator.control import openapi, views
from emulator.control.faults import FaultInjector, answer_fault
from emulator.control.journal import CONTROL_PREFIX, JournalRecorder
from emulator.control.plane import ControlPlane, ControlSettings
from emulator.model.array import Array

__all__ = ["ControlPlane", "ControlSettings", "control_plane", "install"]


def install(app: Flask, settings: ControlSettings | None = None) -> None:
    """Add the control plane to an app built by ``create_app``."""
    settings = settings or ControlSettings()
    if not settings.enabled:
        return

    array = cast(Array, app.extensions["array"])
    plane = ControlPlane(array, settings)
    app.extensions["control"] = plane
    app.register_blueprint(views.bp, url_prefix=CONTROL_PREFIX)
    app.register_blueprint(openapi.bp)
    app.before_request(answer_fault)
    injector = FaultInjector(app.wsgi_app, plane.faults)
    app.wsgi_app = JournalRecorder(  # type: ignore[method-assign]
        injector, array, plane.journal
    )


def control_plane(app: Flask) -> ControlPlane:
    """The control plane of an app (KeyError when it is off)."""
    return cast(ControlPlane, app.extensions["control"])
