"""Compare a later benchmark run with a saved one, figure by figure.

Usage: ``python bench/compare.py SAVED.json LATER.json`` (``make bench-compare``).
Ratios are compared, not raw values: a ratio is measured side by side within one
run, so it survives a change of machine far better than a rate does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

USAGE = "usage: compare.py SAVED.json LATER.json"


def _figures(path: Path) -> dict[str, dict[str, Any]]:
    payload = json.loads(path.read_text())

    return {f["name"]: f for f in payload["figures"]}


def _ratio(figure: dict[str, Any] | None) -> str:
    if figure is None or figure.get("ratio") is None:
        return "n/a"

    return f"{figure['ratio']:.2f}"


def _met(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "-"

    return {True: "yes", False: "NO", None: "-"}[figure.get("met")]


def _change(saved: dict[str, Any] | None, later: dict[str, Any] | None) -> str:
    if saved is None or later is None:
        return "-"

    if saved.get("ratio") in (None, 0) or later.get("ratio") is None:
        return "-"

    return f"{(later['ratio'] / saved['ratio'] - 1) * 100:+.0f}%"


def rows(saved: Path, later: Path) -> list[tuple[str, ...]]:
    """One row per figure in either run: ratios, change, and targets met."""
    before, after = _figures(saved), _figures(later)
    names = list(dict.fromkeys([*before, *after]))
    table: list[tuple[str, ...]] = [
        ("figure", "saved ratio", "later ratio", "change", "met then", "met now")
    ]
    for name in names:
        old, new = before.get(name), after.get(name)
        table.append(
            (name, _ratio(old), _ratio(new), _change(old, new), _met(old), _met(new))
        )

    return table


def main(argv: list[str]) -> int:
    """Print the comparison; exit 1 when a target met before is missed now."""
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2

    saved, later = (Path(a) for a in argv)
    for path in (saved, later):
        if not path.exists():
            print(f"compare: no such run: {path}", file=sys.stderr)
            return 2

    table = rows(saved, later)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    regressed = [r[0] for r in table[1:] if r[4] == "yes" and r[5] == "NO"]
    if regressed:
        print(f"\ntargets met before and missed now: {', '.join(regressed)}")

    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
