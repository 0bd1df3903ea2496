"""Fault rules: make the emulated array answer a request the way a test asks.

A rule matches requests by method and path pattern (``fnmatch`` style: ``*`` also
matches ``/``). When it fires it may wait (a delay), then either drop the connection
without an answer, answer with an error (a status and a messageId, from the message
catalogue or given, with Retry-After if asked), or let the request through late. A
rule fires once, N times or always, each time with a probability drawn from its own
seeded random generator, so a run is reproducible.

``FaultInjector`` (WSGI middleware) picks the rule, waits and drops; ``answer_fault``
(a Flask ``before_request`` hook) renders the answer through the one error handler.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from flask import Response, request

from emulator.api.common import array
from emulator.api.errors import render
from emulator.control.journal import CONTROL_PREFIX, FAULT_KEY, WsgiApp
from emulator.errors import (
    ArrayError,
    InjectedFault,
    InvalidValue,
    MissingParameter,
    UnknownAttribute,
)
from emulator.model.array import Array
from emulator.profile import message_catalogue

logger = logging.getLogger(__name__)

RULE_FIELDS = (
    "method",
    "path",
    "status",
    "messageId",
    "situation",
    "params",
    "retryAfter",
    "delaySeconds",
    "drop",
    "times",
    "probability",
    "seed",
)
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_RETRY_STATUS = 503


class ConnectionDropped(ConnectionError):
    """Raised after a fault closed the client's connection; the server moves on."""


class FaultRuleBody(TypedDict):
    """A fault rule as the control plane shows it."""

    id: int
    method: str
    path: str
    status: int | None
    messageId: str | None
    situation: str | None
    params: dict[str, str]
    retryAfter: int | None
    delaySeconds: float
    drop: bool
    times: int | None
    probability: float
    seed: int | None
    fired: int


@dataclass
class FaultRule:
    """One fault rule and how often it has fired."""

    rule_id: int
    method: str
    path: str
    status: int | None = None
    message_id: str | None = None
    situation: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    fired: int = 0
    chance: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def answers(self) -> bool:
        """Whether the rule answers in place of the array."""
        return any(
            v is not None
            for v in (self.status, self.message_id, self.situation, self.retry_after)
        )

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule covers this request (the trailing slash ignored)."""
        if self.method not in ("*", method.upper()):
            return False

        return fnmatch.fnmatchcase(path.rstrip("/") or "/", self.path)

    def exhausted(self) -> bool:
        """Whether the rule has fired as often as it may."""
        return self.times is not None and self.fired >= self.times

    def body(self) -> FaultRuleBody:
        """The rule as JSON."""
        return {
            "id": self.rule_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "messageId": self.message_id,
            "situation": self.situation,
            "params": dict(self.params),
            "retryAfter": self.retry_after,
            "delaySeconds": self.delay,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "fired": self.fired,
        }


class FaultTable:
    """The fault rules in force, first added first tried. Thread-safe."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._guard = threading.Lock()

    def add(self, spec: Mapping[str, object], max_delay: float) -> FaultRule:
        """Add a rule from its JSON form.

        Raises:
            UnknownAttribute, MissingParameter, InvalidValue: a malformed rule.
        """
        with self._guard:
            rule = parse_rule(spec, self._next_id, max_delay)
            self._next_id += 1
            self._rules.append(rule)

        return rule

    def rules(self) -> list[FaultRuleBody]:
        """Every rule, with how often it fired."""
        with self._guard:
            return [rule.body() for rule in self._rules]

    def clear(self, rule_id: int | None = None) -> int:
        """Remove one rule, or all; returns how many went."""
        with self._guard:
            before = len(self._rules)
            if rule_id is None:
                self._rules.clear()
            else:
                self._rules = [r for r in self._rules if r.rule_id != rule_id]

            return before - len(self._rules)

    def reset(self) -> None:
        """No rules, and rule IDs start again from 1."""
        with self._guard:
            self._rules.clear()
            self._next_id = 1

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first rule that matches and fires for this request, counted."""
        with self._guard:
            for rule in self._rules:
                if not rule.matches(method, path) or rule.exhausted():
                    continue
                if rule.chance.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule

        return None


def parse_rule(spec: Mapping[str, object], rule_id: int, max_delay: float) -> FaultRule:
    """Check a rule's JSON form and build the rule.

    Raises:
        UnknownAttribute: an attribute a rule does not take.
        MissingParameter: no path, or nothing for the rule to do.
        InvalidValue: a value of the wrong type or range.
    """
    for name in spec:
        if name not in RULE_FIELDS:
            raise UnknownAttribute(attribute=name)
    if "path" not in spec:
        raise MissingParameter(parameter="path")

    rule = FaultRule(
        rule_id=rule_id,
        method=_method(spec.get("method", "*")),
        path=_string(spec["path"], "path"),
        status=_optional_int(spec.get("status"), "status", 400, 599),
        message_id=_optional_string(spec.get("messageId"), "messageId"),
        situation=_situation(spec.get("situation")),
        params=_params(spec.get("params", {})),
        retry_after=_optional_int(spec.get("retryAfter"), "retryAfter", 0, 86400),
        delay=_number(spec.get("delaySeconds", 0), "delaySeconds", 0.0, max_delay),
        drop=_boolean(spec.get("drop", False), "drop"),
        times=_optional_int(spec.get("times"), "times", 1, 1_000_000),
        probability=_number(spec.get("probability", 1.0), "probability", 0.0, 1.0),
        seed=_optional_int(spec.get("seed"), "seed", 0, 2**63 - 1),
    )
    rule.chance = random.Random(rule.seed)
    if not (rule.answers or rule.drop or rule.delay):
        raise MissingParameter(
            parameter="status, messageId, situation, retryAfter, delaySeconds or drop"
        )

    return rule


def _method(value: object) -> str:
    method = _string(value, "method").upper()
    if method not in METHODS:
        raise InvalidValue(parameter="method", reason=f"must be one of {METHODS}")

    return method


def _string(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValue(parameter=name, reason="must be a non-empty string")

    return value


def _optional_string(value: object, name: str) -> str | None:
    return None if value is None else _string(value, name)


def _situation(value: object) -> str | None:
    if value is None:
        return None

    name = _string(value, "situation")
    if name not in message_catalogue():
        raise InvalidValue(
            parameter="situation", reason=f"no situation {name!r} in the catalogue"
        )

    return name


def _params(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidValue(parameter="params", reason="must be a JSON object")

    return {str(k): str(v) for k, v in value.items()}


def _optional_int(value: object, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None

    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(parameter=name, reason="must be an integer")
    if not low <= value <= high:
        raise InvalidValue(parameter=name, reason=f"must be {low} to {high}")

    return value


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(parameter=name, reason="must be a number")
    if not low <= value <= high:
        raise InvalidValue(parameter=name, reason=f"must be {low} to {high}")

    return float(value)


def _boolean(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(parameter=name, reason="must be true or false")

    return value


class FaultInjector:
    """WSGI middleware: picks the fault rule for a request, waits and drops."""

    def __init__(self, app: WsgiApp, array: Array, table: FaultTable) -> None:
        self.app = app
        self.array = array
        self.table = table

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)

        rule = self.table.pick(str(environ.get("REQUEST_METHOD", "")), path)
        if rule is None:
            return self.app(environ, start_response)

        environ[FAULT_KEY] = rule
        logger.info(
            "emulator.fault_injected",
            extra={"emulator.rule": rule.rule_id, "emulator.path": path},
        )
        if rule.delay:
            time.sleep(rule.delay)
        if rule.drop:
            _drop(environ)

        return self.app(environ, start_response)


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection, then end the request without an answer."""
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)

    raise ConnectionDropped("connection dropped by a fault rule")


def fault_error(rule: FaultRule, fault_situations: Mapping[str, str]) -> ArrayError:
    """The array error a rule answers with.

    A named situation wins; then a messageId found in the catalogue; then the
    situation the profile maps the rule's status to; else ``injected_fault``.
    """
    situation = rule.situation or _situation_of_message(rule.message_id)
    if situation is None and rule.message_id is None and rule.status is not None:
        situation = fault_situations.get(str(rule.status))
    if situation is None and rule.status is None and rule.retry_after is not None:
        situation = fault_situations.get(str(DEFAULT_RETRY_STATUS))

    error = _error_for(situation)
    error.params.update({"rule": rule.rule_id, **rule.params})
    if situation is None and rule.message_id is not None:
        error.extra["messageId"] = rule.message_id

    return error


def _situation_of_message(message_id: str | None) -> str | None:
    for name, entry in message_catalogue().items():
        if message_id is not None and entry.get("messageId") == message_id:
            return name

    return None


def _error_for(situation: str | None) -> ArrayError:
    if situation is None:
        return InjectedFault()

    for cls in _error_classes(ArrayError):
        if cls.situation == situation:
            return cls()

    return InjectedFault()


def _error_classes(base: type[ArrayError]) -> list[type[ArrayError]]:
    found = [base]
    for sub in base.__subclasses__():
        found.extend(_error_classes(sub))

    return found


def answer_fault() -> Response | None:
    """Answer in place of the array when the request's fault rule says so."""
    rule = request.environ.get(FAULT_KEY)
    if not isinstance(rule, FaultRule) or not rule.answers:
        return None

    situations = array().profile.section("control")["fault_situations"]
    response = render(fault_error(rule, situations))
    if rule.status is not None:
        response.status_code = rule.status
    elif rule.situation is None and rule.message_id is None:
        response.status_code = DEFAULT_RETRY_STATUS
    if rule.retry_after is not None:
        response.headers["Retry-After"] = str(rule.retry_after)

    return response
