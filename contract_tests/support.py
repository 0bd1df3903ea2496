"""Which arrays run the backup: the support matrix, read as data.

The matrix is the file ``support.toml`` the emulator ships in ``emulator.fixtures``.
The kit reads it as a data file and applies it itself, so that what the kit expects
of a target never depends on the emulator's code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources

MATRIX_PACKAGE = "emulator.fixtures"
MATRIX_FILE = "support.toml"
MICROCODE = re.compile(r"^(\d+)-(\d+)-(\d+)(?:/(\d+))?$")


@dataclass(frozen=True)
class Entry:
    """One family of models and the lowest microcode that runs the backup."""

    family: str
    prefixes: tuple[str, ...]
    min_microcode: str


def load_matrix() -> list[Entry]:
    """The support matrix."""
    text = resources.files(MATRIX_PACKAGE).joinpath(MATRIX_FILE).read_text("utf-8")
    models = tomllib.loads(text).get("models", [])

    return [
        Entry(str(m["family"]), tuple(m["prefixes"]), str(m["min_microcode"]))
        for m in models
    ]


def microcode_order(version: str) -> tuple[int, ...] | None:
    """``XX-YY-ZZ/NN`` as a tuple that sorts like the versions, or None."""
    match = MICROCODE.match(version.strip())
    if match is None:
        return None

    return tuple(int(part or 0) for part in match.groups())


def backup_supported(model: str, microcode: str, matrix: list[Entry]) -> bool:
    """Whether the matrix says ``model`` on ``microcode`` runs the backup."""
    running = microcode_order(microcode)
    for entry in matrix:
        if not model.startswith(entry.prefixes):
            continue
        minimum = microcode_order(entry.min_microcode)

        return running is not None and minimum is not None and running >= minimum

    return False
