"""The emulator as a server: the Flask app factory and a threaded server helper.

``create_app`` builds the WSGI app for one array profile. ``EmulatorServer`` serves
it over real HTTP or HTTPS on a port (0 picks a free one) in a background thread,
for tests and for ``array-emulator serve``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from cheroot import wsgi
from flask import Flask

from emulator import api, control
from emulator.model.array import Array
from emulator.model.clock import Clock
from emulator.profile import Profile, load_profile
from emulator.tls import TlsFiles, ensure_certificates, server_context
from emulator.wsgi_server import ServerTls, make_server

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TrailingSlash:
    """WSGI middleware: a trailing slash names the same resource, with no redirect."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"

        return self.app(environ, start_response)


def create_app(
    profile: Profile | str | None = None,
    *,
    clock: Clock | None = None,
    control_settings: control.ControlSettings | None = None,
) -> Flask:
    """Build the emulator's WSGI app for a profile (a name, a path, or loaded).

    The control plane under ``/_emulator/`` is on unless ``control_settings`` turns
    it off.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile or "vsp-e990")

    app = Flask("emulator")
    app.extensions["array"] = Array(profile, clock)
    app.config["MAX_CONTENT_LENGTH"] = int(
        profile.section("limits")["max_upload_bytes"]
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api.register(app)
    app.wsgi_app = TrailingSlash(app.wsgi_app)  # type: ignore[method-assign]
    control.install(app, control_settings)

    return app


def array_of(app: Flask) -> Array:
    """The array an app built by ``create_app`` emulates."""
    array: Array = app.extensions["array"]

    return array


class EmulatorServer:
    """Serve an app on a port in a background thread.

    The server is cheroot (``emulator.wsgi_server``): a pool of worker threads,
    keep-alive connections, TLS from the profile's versions.

    Args:
        app: the WSGI app (usually from ``create_app``).
        host: the address to bind; loopback by default.
        port: the port; 0 picks a free one.
        tls: certificate files for HTTPS, or None for plain HTTP.
    """

    def __init__(
        self,
        app: Flask,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsFiles | None = None,
    ) -> None:
        self.app = app
        self.tls = tls
        profile = array_of(app).profile
        limits, http = profile.section("limits"), profile.section("http")
        self._server: wsgi.Server = make_server(
            app,
            host,
            port,
            tls=self._server_tls(),
            body_limit=int(limits["max_upload_bytes"]),
            head_limit=int(http["max_head_bytes"]),
            threads=int(http["worker_threads"]),
            idle_seconds=int(http["idle_connection_seconds"]),
        )
        self._thread = threading.Thread(
            target=self._server.serve, name="emulator-server", daemon=True
        )

    def _server_tls(self) -> ServerTls | None:
        if self.tls is None:
            return None

        versions = self.array.profile.section("tls")
        context = server_context(
            self.tls.cert,
            self.tls.key,
            min_version=str(versions["min_version"]),
            max_version=str(versions["max_version"]),
        )

        return ServerTls(context, self.tls.cert, self.tls.key)

    @property
    def port(self) -> int:
        """The port the server bound."""
        return int(self._server.bind_addr[1])

    @property
    def host(self) -> str:
        """The address the server bound."""
        return str(self._server.bind_addr[0])

    @property
    def url(self) -> str:
        """The base URL, for example ``https://127.0.0.1:8443``."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host

        return f"{scheme}://{host}:{self.port}"

    @property
    def array(self) -> Array:
        """The emulated array behind the server."""
        return array_of(self.app)

    def start(self) -> EmulatorServer:
        """Start serving in the background; the socket already listens."""
        self._thread.start()
        logger.info("emulator.server_started", extra={"emulator.url": self.url})

        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.stop()
        self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_thread(
    profile: Profile | str | None = None,
    *,
    tls_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> EmulatorServer:
    """Start an emulator for a profile over HTTPS (or HTTP when ``tls_dir`` is None)."""
    tls = ensure_certificates(tls_dir, (host,)) if tls_dir is not None else None

    return EmulatorServer(create_app(profile), host=host, port=port, tls=tls).start()
