"""The HTTP server under the emulator: cheroot, with the array's manners.

cheroot serves WSGI from a fixed pool of worker threads, keeps connections alive
between requests (an idle connection waits in a selector, not in a thread), and
serves TLS through Python's ``ssl``. This module adapts it to the array:

- request targets in absolute form (``GET https://host/ConfigurationManager/...``)
  are served, as the array serves them;
- the ``Server`` header is empty (observed on a real array);
- a request the HTTP layer itself refuses (a malformed request line, headers too
  large, an unknown transfer coding) still gets the array's JSON error object;
- one access-log event per request, without the query string, where a careless
  client might put a secret.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from emulator.errors import (
    ArrayError,
    BodyTooLarge,
    MethodNotAllowed,
    RequestHeadTooLarge,
    RequestLineTooLong,
    RequestUnreadable,
    ServerBusy,
    ServerError,
)

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Defaults for the HTTP layer, for an app served without a profile (the
# benchmark's bare app); the emulator takes its own from the profile's [http].
WORKER_THREADS = 64
IDLE_CONNECTION_SECONDS = 10
MAX_HEAD_BYTES = 64 * 1024
JSON_REPLY_TYPE = "application/json;charset=UTF-8"
# A refused request's unread body is read and dropped up to this size before the
# reply, so that a client still sending gets the reply instead of a reset
# connection; a larger body is not waited for.
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024
DRAIN_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServerTls:
    """A server TLS context and the certificate and key it was built from."""

    context: ssl.SSLContext
    cert: Path
    key: Path


def protocol_error(
    status: str, detail: str, body_limit: int, head_limit: int = MAX_HEAD_BYTES
) -> ArrayError:
    """The array error for a refusal cheroot makes before the app sees a request.

    cheroot answers 501 and 505 for a transfer coding or HTTP version it does not
    know; the emulator answers those as an unreadable request (400), its choice, so
    that hostile input never earns a 5xx.
    """
    code = status[:3]
    if code == "405":
        return MethodNotAllowed(method="CONNECT", allowed="")

    if code == "414":
        return RequestLineTooLong(limit=head_limit)

    if code == "413" and detail.startswith("The headers"):
        return RequestHeadTooLarge(limit=head_limit)

    if code == "413":
        return BodyTooLarge(limit=body_limit)

    if code == "503":
        return ServerBusy()

    if code == "500":
        return ServerError()

    return RequestUnreadable(reason=status[4:] or "Bad Request")


class ArrayRequest(cheroot_server.HTTPRequest):
    """A cheroot request that accepts absolute-form targets and refuses in JSON."""

    def __init__(
        self,
        server: cheroot_server.HTTPServer,
        conn: cheroot_server.HTTPConnection,
        proxy_mode: bool = True,
        strict_mode: bool = True,
    ) -> None:
        # Proxy mode is what lets cheroot take an absolute-form target; the path
        # part alone reaches the app, so nothing is proxied.
        super().__init__(server, conn, proxy_mode=True, strict_mode=strict_mode)

    def simple_response(self, status: Any, msg: Any = "") -> None:
        """Write the array's error object for a refusal of the HTTP layer."""
        # Imported here so that this module loads without the emulated API: the
        # benchmark serves a bare Flask app through it and must not pay for ours.
        from emulator.api.errors import error_object

        detail = msg.decode("latin-1") if isinstance(msg, bytes) else str(msg)
        limit = int(self.server.max_request_body_size)
        head_limit = int(self.server.max_request_header_size)
        error = protocol_error(str(status), detail, limit, head_limit)
        http_status, body = error_object(error, "")
        payload = json.dumps(body).encode("utf-8")
        head = [
            f"HTTP/1.1 {http_status} {_reason(http_status)}",
            f"Content-Type: {JSON_REPLY_TYPE}",
            f"Content-Length: {len(payload)}",
            "Connection: close",
            "Server: ",
        ]
        self.close_connection = True
        if http_status == BODY_TOO_LARGE_STATUS:
            _drain(self.conn.rfile, _declared_length(self.inheaders))
        logger.info(
            "emulator.request_unreadable",
            extra={"emulator.status": http_status, "emulator.detail": status},
        )
        try:
            self.conn.wfile.write("\r\n".join(head).encode("latin-1") + b"\r\n\r\n")
            self.conn.wfile.write(payload)
        except OSError:
            # The client is gone; there is no one left to answer.
            return


BODY_TOO_LARGE_STATUS = 413


def _declared_length(headers: dict[bytes, bytes]) -> int:
    try:
        return int(headers.get(b"Content-Length", b"0"))
    except ValueError:
        return 0


def _drain(stream: Any, declared: int | None) -> None:
    """Read and drop what is left of a request body, within ``DRAIN_LIMIT_BYTES``."""
    if declared is not None and declared > DRAIN_LIMIT_BYTES:
        return

    left = DRAIN_LIMIT_BYTES
    try:
        while left > 0:
            chunk = stream.read(min(DRAIN_CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)
    except (OSError, ValueError):
        # A client that vanished or a malformed chunked body: nothing to save.
        return


def _reason(status: int) -> str:
    reasons = {
        400: "Bad Request",
        405: "Method Not Allowed",
        413: "Content Too Large",
        414: "URI Too Long",
        431: "Request Header Fields Too Large",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }

    return reasons.get(status, "Error")


class ArrayConnection(cheroot_server.HTTPConnection):
    """A cheroot connection whose requests are ``ArrayRequest``."""

    RequestHandlerClass = ArrayRequest


SOCKET_ENVIRON_KEY = "emulator.socket"


class ArrayGateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, which also hands the app the client's socket.

    A fault rule that drops the connection needs the socket to shut it down.
    """

    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        """The WSGI environ, with the client's socket under ``emulator.socket``."""
        environ: dict[str, Any] = super().get_environ()  # type: ignore[no-untyped-call]
        environ[SOCKET_ENVIRON_KEY] = self.req.conn.socket

        return environ


class ArrayServer(wsgi.Server):
    """cheroot's WSGI server with ``ArrayConnection`` and a reusable address."""

    ConnectionClass = ArrayConnection

    @staticmethod
    def bind_socket(socket_: socket.socket, bind_addr: Any) -> socket.socket:
        """Bind with SO_REUSEADDR, whatever the port.

        cheroot leaves it off for port 0; then the connections a stopped server
        leaves in TIME_WAIT keep a new server from binding the same port again.
        """
        socket_.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        socket_.bind(bind_addr)

        return socket_


class AccessLog:
    """WSGI middleware: one ``emulator.http_request`` event per request.

    The path is logged without its query string.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def logged_start(status: str, headers: Any, *args: Any) -> Any:
            logger.debug(
                "emulator.http_request",
                extra={
                    "emulator.method": environ.get("REQUEST_METHOD", ""),
                    "emulator.path": environ.get("PATH_INFO", ""),
                    "emulator.status": status[:3],
                },
            )
            return start_response(status, headers, *args)

        return self.app(environ, logged_start)


class DrainUnreadBody:
    """WSGI middleware: drop what the app left unread of the request body.

    The app may refuse a request (413, 401) without reading its body; a client
    still sending it would then meet a reset connection instead of the reply.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        _drain(environ["wsgi.input"], _environ_length(environ))

        return result


def _environ_length(environ: dict[str, Any]) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def make_server(
    app: WsgiApp,
    host: str,
    port: int,
    *,
    tls: ServerTls | None,
    body_limit: int,
    head_limit: int = MAX_HEAD_BYTES,
    threads: int = WORKER_THREADS,
    idle_seconds: int = IDLE_CONNECTION_SECONDS,
) -> wsgi.Server:
    """A cheroot server for ``app``, bound and ready to ``serve()``.

    Args:
        app: the WSGI app.
        host: the address to bind.
        port: the port; 0 picks a free one.
        tls: the TLS context and its files, or None for plain HTTP.
        body_limit: the largest request body accepted (413 above).
        head_limit: the largest request line or header block (414, 431 above).
        threads: how many requests are served at once.
        idle_seconds: how long an idle kept-alive connection stays open.
    """
    server = ArrayServer(
        (host, port),
        AccessLog(DrainUnreadBody(app)),
        numthreads=threads,
        timeout=idle_seconds,
        request_queue_size=128,
    )
    server.server_name = ""
    server.gateway = ArrayGateway
    server.max_request_header_size = head_limit
    server.max_request_body_size = body_limit
    if tls is not None:
        server.ssl_adapter = _adapter(tls)
    _prepare_as_daemon(server)

    return server


def _prepare_as_daemon(server: wsgi.Server) -> None:
    # cheroot's worker threads are not daemons, so a server a test forgot to stop
    # would keep the interpreter from exiting. A thread inherits the daemon flag
    # of the thread that creates it: binding and spawning the workers from a
    # daemon thread makes them all daemons.
    failure: list[BaseException] = []

    def prepare() -> None:
        try:
            server.prepare()
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)

    thread = threading.Thread(target=prepare, name="emulator-prepare", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _adapter(tls: ServerTls) -> BuiltinSSLAdapter:
    # cheroot's adapter builds a context of its own from the files; the
    # emulator's context (TLS versions from the profile) replaces it.
    adapter = BuiltinSSLAdapter(str(tls.cert), str(tls.key))
    adapter.context = tls.context

    return adapter
