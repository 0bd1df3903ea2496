"""Serve one of the benchmark's Python apps on a free loopback port.

``python bench/apps.py emulator [--profile FILE]`` serves the emulator;
``python bench/apps.py bare`` serves a bare Flask app with one JSON route. Both go
through the same cheroot server (``emulator.wsgi_server``), so the difference
between them is the emulator's own work. The port is printed as ``ready PORT``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from flask import Flask, Response

from emulator.wsgi_server import make_server

BARE_BODY = '{"storageDeviceId": "936000451139", "model": "VSP E990"}'
BODY_LIMIT = 8 * 1024 * 1024


def bare_app() -> Flask:
    """A Flask app with one route answering a small JSON object."""
    app = Flask("bare")

    @app.get("/ConfigurationManager/v1/objects/storages/instance")
    def storage() -> Response:
        return Response(BARE_BODY, content_type="application/json;charset=UTF-8")

    return app


def emulator_app(profile: str | None) -> Flask:
    """The emulator's app for a profile."""
    # Imported only here, so that the bare app's start-up does not load the
    # emulator's modules.
    from emulator.server import create_app

    return create_app(profile)


def main() -> int:
    """Serve the app named on the command line until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("app", choices=("emulator", "bare"))
    parser.add_argument("--profile", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    app = emulator_app(args.profile) if args.app == "emulator" else bare_app()
    server = make_server(app, "127.0.0.1", args.port, tls=None, body_limit=BODY_LIMIT)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve, daemon=True).start()
    print(f"ready {server.bind_addr[1]}", flush=True)
    stop.wait()
    server.stop()

    return 0


if __name__ == "__main__":
    sys.exit(main())
