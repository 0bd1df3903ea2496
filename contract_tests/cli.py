"""The array-contract command (placeholder until the summary lands)."""

from __future__ import annotations


def main() -> int:
    """Run the suite."""
    import pytest

    return int(pytest.main(["--pyargs", "contract_tests.suite"]))
