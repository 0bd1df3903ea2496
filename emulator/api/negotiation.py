"""Content negotiation: does an Accept header admit a media type?

The array documents 406 for an Accept it cannot satisfy and treats a missing Accept
as ``*/*``. Ranges are weighed as HTTP does: the most specific range that matches a
type gives its quality, and a quality of 0 refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    quality: float

    def matches(self, type_: str, subtype: str) -> bool:
        """Whether this range covers ``type_/subtype``."""
        if self.type == "*":
            return True

        return self.type == type_ and self.subtype in ("*", subtype)

    @property
    def specificity(self) -> int:
        """2 for ``a/b``, 1 for ``a/*``, 0 for ``*/*``."""
        return (self.type != "*") + (self.subtype != "*")


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0

    return 1.0


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are dropped."""
    ranges = []
    for entry in header.split(","):
        media, *params = entry.split(";")
        type_, slash, subtype = media.strip().lower().partition("/")
        if not slash or not type_ or not subtype or (type_ == "*" != subtype):
            continue
        ranges.append(MediaRange(type_, subtype, _quality(params)))

    return ranges


def accepts(header: str | None, media_type: str) -> bool:
    """Whether an Accept header admits ``media_type`` (``type/subtype``).

    A missing or blank header admits everything, as the array documents.
    """
    if header is None or not header.strip():
        return True

    type_, _, subtype = media_type.lower().partition("/")
    matching = [r for r in parse_accept(header) if r.matches(type_, subtype)]
    if not matching:
        return False

    best = max(matching, key=lambda r: r.specificity)
    same = [r.quality for r in matching if r.specificity == best.specificity]

    return max(same) > 0
