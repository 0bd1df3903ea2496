"""The one error handler: every error becomes the array's error object.

Whatever the endpoint returns on success, an error is JSON in the array's content
type, with ``errorSource``, ``messageId``, ``message``, ``cause``, ``solution`` and
``solutionType``, and ``detailCode`` where the catalogue gives one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from emulator.api.common import reply
from emulator.errors import (
    ArrayError,
    BodyTooLarge,
    InvalidJson,
    MethodNotAllowed,
    NotFound,
    ServerError,
)
from emulator.profile import message_catalogue

logger = logging.getLogger(__name__)

ERROR_FIELDS = ("messageId", "message", "cause", "solution", "solutionType")
OPTIONAL_FIELDS = ("detailCode",)


class _Missing(dict[str, object]):
    # A catalogue text that names a value the situation did not give keeps the
    # placeholder, rather than failing to render the error at all.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def error_object(error: ArrayError, source: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and error object for ``error`` raised at ``source``."""
    entry = message_catalogue()[error.situation]
    values = _Missing(error.params)
    body: dict[str, Any] = {"errorSource": source}
    for field in ERROR_FIELDS:
        body[field] = str(entry[field]).format_map(values)
    for field in OPTIONAL_FIELDS:
        if field in entry:
            body[field] = entry[field]
    body.update(error.extra)

    return int(entry["status"]), body


def render(error: ArrayError) -> Response:
    """The reply to an array error raised while serving the current request."""
    status, body = error_object(error, request.path)
    response = reply(body, status=status)
    headers = dict(message_catalogue()[error.situation].get("headers", {}))
    headers.update(error.headers)
    for name, value in headers.items():
        response.headers[name] = value
    logger.info(
        "emulator.request_refused",
        extra={"emulator.message_id": body["messageId"], "emulator.status": status},
    )

    return response


def _from_http(exc: HTTPException) -> ArrayError:
    if exc.code == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        error: ArrayError = MethodNotAllowed(method=request.method, allowed=allowed)
        error.headers["Allow"] = allowed
        return error

    if exc.code == 413:
        return BodyTooLarge(limit=request.max_content_length)

    if exc.code == 400:
        return InvalidJson(reason="the request could not be read")

    return NotFound(object=request.path)


def register(app: Flask) -> None:
    """Install the handler for array errors, routing errors and the unexpected."""

    @app.errorhandler(ArrayError)
    def on_array_error(error: ArrayError) -> Response:
        return render(error)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        return render(_from_http(exc))

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        logger.exception("emulator.unexpected_error")

        return render(ServerError())
