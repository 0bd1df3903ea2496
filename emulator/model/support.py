"""Whether the emulated array's model and microcode run the encryption-key calls.

The vendor documents only that an unsupported microcode answers 412; the minimum per
model is the emulator's choice, kept in ``fixtures/support.toml``.
"""

from __future__ import annotations

import re
from typing import Any

MICROCODE_PATTERN = re.compile(r"^(\d+)-(\d+)-(\d+)(?:/(\d+))?$")


def microcode_tuple(version: str) -> tuple[int, ...]:
    """Turn ``XX-YY-ZZ/NN`` into a tuple that orders like the versions.

    Raises:
        ValueError: the text is not a microcode version.
    """
    match = MICROCODE_PATTERN.match(version.strip())
    if match is None:
        raise ValueError(f"not a microcode version: {version!r}")

    return tuple(int(part or 0) for part in match.groups())


def encryption_supported(
    model: str, microcode: str, matrix: list[dict[str, Any]]
) -> bool:
    """Whether ``model`` on ``microcode`` runs the encryption-key calls."""
    for entry in matrix:
        if any(model.startswith(prefix) for prefix in entry["prefixes"]):
            return microcode_tuple(microcode) >= microcode_tuple(entry["min_microcode"])

    return False
