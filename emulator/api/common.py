"""What every view of the emulated API shares: the checks in their order, bodies and
replies.

Each view is wrapped by ``operation``, which runs the checks the array makes before
the view's own: authentication (401), content negotiation (406, 413, 415), then the
role (403). The view then validates its input (400) and calls the model, which
checks the array's state (412, 409). This order is the emulator's choice; DESIGN.md
records it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from emulator.api.negotiation import accepts
from emulator.errors import (
    BodyTooLarge,
    CredentialsInvalid,
    InvalidJson,
    InvalidValue,
    MissingParameter,
    NotAcceptable,
    TokenInvalid,
    UnknownAttribute,
    UnsupportedMediaType,
)
from emulator.model.array import Array, RequestInfo
from emulator.model.sessions import Principal

JSON = "application/json"
JSON_REPLY_TYPE = "application/json;charset=UTF-8"
OCTET_STREAM = "application/octet-stream"
MULTIPART = "multipart/form-data"
OBJECTS_ROOT = "/ConfigurationManager/v1/objects"

View = TypeVar("View", bound=Callable[..., Response])


def array() -> Array:
    """The array this app emulates."""
    return cast(Array, current_app.extensions["array"])


def objects_prefix() -> str:
    """The objects root as the request named it: plain or storage-scoped."""
    return cast(str, g.get("objects_prefix", OBJECTS_ROOT))


def reply(body: object, status: int = 200) -> Response:
    """A JSON reply in the array's content type."""
    return Response(json.dumps(body), status=status, content_type=JSON_REPLY_TYPE)


@dataclass(frozen=True)
class Operation:
    """What an operation needs before its view runs."""

    role: str | None
    produces: str
    consumes: str
    auth: bool
    session_creation: bool


def operation(
    *,
    role: str | None = None,
    produces: str = JSON,
    consumes: str = JSON,
    auth: bool = True,
    session_creation: bool = False,
) -> Callable[[View], View]:
    """Run the array's checks in order, then call the view with ``principal``.

    Args:
        role: the role the operation needs (403 without it), if any.
        produces: the media type of a successful reply (406 if Accept refuses it).
        consumes: the media type a request body must have (415 otherwise).
        auth: whether the operation needs credentials (401 without them).
        session_creation: Basic credentials are the only ones accepted.
    """
    spec = Operation(role, produces, consumes, auth, session_creation)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(**kwargs: Any) -> Response:
            principal = authenticate(spec) if spec.auth else None
            negotiate(spec)
            if spec.role and principal is not None:
                array().require_role(principal.user, spec.role)

            return view(principal=principal, **kwargs)

        return cast(View, checked)

    return decorate


def authenticate(spec: Operation) -> Principal:
    """The principal behind the Authorization header.

    Raises:
        TokenInvalid: no usable credentials where a token is expected.
        CredentialsInvalid: Basic credentials that do not match a user, or a
            token at session creation.
    """
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    scheme = scheme.strip().lower()
    if scheme == "basic":
        return _basic_principal(credentials.strip(), spec)

    if spec.session_creation:
        raise CredentialsInvalid()

    if scheme != "session" or not credentials.strip():
        raise TokenInvalid()

    principal = array().principal_for_token(credentials.strip())
    g.principal = principal

    return principal


def _basic_principal(credentials: str, spec: Operation) -> Principal:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise CredentialsInvalid() from None

    name, colon, password = decoded.partition(":")
    if not colon:
        raise CredentialsInvalid()

    user = array().authenticate(name, password)
    settings = array().profile.section("sessions")
    if not spec.session_creation and not settings["basic_auth_on_any_request"]:
        raise TokenInvalid()

    principal = Principal(user)
    g.principal = principal

    return principal


def has_body() -> bool:
    """Whether the request carries a body."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()

    return chunked or (request.content_length or 0) > 0


def negotiate(spec: Operation) -> None:
    """Check Accept, the body's size and its Content-Type.

    Raises:
        NotAcceptable: Accept refuses the operation's reply type.
        BodyTooLarge: the body passes the profile's limit.
        UnsupportedMediaType: a body of a type the operation does not take.
    """
    accept = request.headers.get("Accept")
    if not accepts(accept, spec.produces):
        raise NotAcceptable(accept=accept, supported=spec.produces)

    if not has_body():
        return

    limits = array().profile.section("limits")
    limit = int(
        limits["max_upload_bytes" if spec.consumes == MULTIPART else "max_body_bytes"]
    )
    if (request.content_length or 0) > limit:
        raise BodyTooLarge(limit=limit)
    request.max_content_length = limit

    content_type = request.mimetype or spec.consumes
    if content_type != spec.consumes:
        raise UnsupportedMediaType(
            content_type=request.content_type, supported=spec.consumes
        )


def json_body() -> object:
    """The request's JSON body; an empty body reads as None.

    Raises:
        InvalidJson: the body is not UTF-8 JSON.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None

    try:
        return json.loads(raw.decode("utf-8"))
    # ValueError also covers an integer longer than Python will convert.
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = type(exc).__name__
        if isinstance(exc, json.JSONDecodeError):
            reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise InvalidJson(reason=reason) from None


def json_object(*, allowed: Collection[str], empty_ok: bool = True) -> dict[str, Any]:
    """The body as a JSON object whose attributes are all in ``allowed``.

    Raises:
        InvalidJson: not JSON.
        InvalidValue: JSON but not an object.
        UnknownAttribute: an attribute outside ``allowed``.
        MissingParameter: no body where one is required.
    """
    body = json_body()
    if body is None:
        if not empty_ok:
            raise MissingParameter(parameter="request body")
        return {}

    if not isinstance(body, dict):
        raise InvalidValue(parameter="request body", reason="must be a JSON object")

    for name in body:
        if name not in allowed:
            raise UnknownAttribute(attribute=name)

    return body


def action_parameters(
    *, allowed: Collection[str], required: Collection[str]
) -> dict[str, Any]:
    """The ``parameters`` object of an action body, checked attribute by attribute.

    Raises:
        UnknownAttribute: an attribute outside ``parameters``, or an unknown one in it.
        MissingParameter: no ``parameters``, or a required attribute missing.
        InvalidValue: ``parameters`` is not an object.
    """
    body = json_object(allowed=("parameters",), empty_ok=not required)
    if "parameters" not in body:
        if required:
            raise MissingParameter(parameter="parameters")
        return {}

    parameters = body["parameters"]
    if not isinstance(parameters, dict):
        raise InvalidValue(parameter="parameters", reason="must be a JSON object")

    for name in parameters:
        if name not in allowed:
            raise UnknownAttribute(attribute=f"parameters.{name}")
    for name in required:
        if name not in parameters:
            raise MissingParameter(parameter=f"parameters.{name}")

    return parameters


def integer(value: object, name: str, low: int, high: int) -> int:
    """``value`` as an integer within ``low``..``high`` (JSON booleans refused).

    Raises:
        InvalidValue: not an integer, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(parameter=name, reason="must be an integer")

    if not low <= value <= high:
        raise InvalidValue(parameter=name, reason=f"must be {low} to {high}")

    return value


def query_integer(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low``..``high``.

    Raises:
        InvalidValue: not a decimal integer, or out of range.
    """
    text = request.args.get(name)
    if text is None:
        return default

    if not text.isascii() or not text.strip().lstrip("-").isdigit() or len(text) > 12:
        raise InvalidValue(parameter=name, reason="must be an integer")

    return integer(int(text), name, low, high)


def request_info(body: str | None = None) -> RequestInfo:
    """The request as a job records it; ``body`` replaces the raw body when given."""
    raw = (
        body
        if body is not None
        else request.get_data(cache=True).decode("utf-8", "replace")
    )

    return RequestInfo(method=request.method, url=request.path, body=raw)


def client_address() -> str:
    """The client's IP address as the server saw it."""
    return request.remote_addr or ""
