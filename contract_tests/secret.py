"""A value that never shows itself: passwords and tokens the kit holds."""

from __future__ import annotations

REDACTED = "<redacted>"


class Secret:
    """Wrap a secret string so that repr, str and tracebacks show ``<redacted>``.

    Pytest prints the values in a failing assertion; a ``Secret`` there prints
    nothing of its content. ``reveal()`` is the one way to the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
