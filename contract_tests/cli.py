"""The ``array-contract`` command: run the suite, or compare two observation files.

``array-contract [options] [-- pytest arguments]`` runs the suite against the
embedded emulator or the target ``--array-url`` names, prints a summary by contract
area and exits non-zero on any violation. ``array-contract diff A B`` lists where
two observation files differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest

from contract_tests import options as opts
from contract_tests import report

SUITE = "contract_tests.suite"
INI = "contract.ini"
TEST_PREFIX = "test_"
DIFF = "diff"


@dataclass
class Area:
    """The outcomes of one contract area (one module of the suite)."""

    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


class Summary:
    """A pytest plugin that counts outcomes by contract area."""

    def __init__(self) -> None:
        self.areas: dict[str, Area] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count one test's outcome (a failed setup or teardown is a failure)."""
        area = self.areas.setdefault(area_of(report.nodeid), Area())
        name = report.nodeid.split("::", 1)[-1]
        if report.failed:
            area.failed.append(name)
        elif report.skipped:
            reason = _skip_reason(report)
            area.skipped[reason] = area.skipped.get(reason, 0) + 1
        elif report.passed and report.when == "call":
            area.passed += 1


def area_of(nodeid: str) -> str:
    """A test's contract area: its module's name, in words."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")

    return module.removeprefix(TEST_PREFIX).replace("_", " ")


def _skip_reason(test_report: pytest.TestReport) -> str:
    longrepr = test_report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")

    return str(longrepr)


def render(summary: Summary) -> list[str]:
    """The summary as lines: one per area, then its failures and skip reasons."""
    lines = ["", "contract areas:"]
    for name, area in sorted(summary.areas.items()):
        skipped = sum(area.skipped.values())
        lines.append(
            f"  {name:<24} passed {area.passed:>3}  failed {len(area.failed):>3}"
            f"  skipped {skipped:>3}"
        )
        lines += [f"      FAILED {test}" for test in area.failed]
        lines += [f"      skipped {n}: {why}" for why, n in area.skipped.items()]

    return lines


def run_parser() -> argparse.ArgumentParser:
    """The options of a run: the plugin's, plus the reports and the profile."""
    parser = argparse.ArgumentParser(
        prog="array-contract",
        description="Run the contract suite against the embedded emulator or a "
        f"target. Password from {opts.PASSWORD_ENV}; backup password from "
        f"{opts.BACKUP_PASSWORD_ENV} (generated if unset). "
        "'array-contract diff A B' compares two observation files.",
    )
    parser.add_argument(opts.URL, metavar="URL")
    parser.add_argument(opts.USER, metavar="NAME")
    parser.add_argument(opts.CA, metavar="FILE")
    parser.add_argument(opts.INSECURE, action="store_true")
    parser.add_argument(opts.ALLOW, metavar="CLASSES")
    parser.add_argument(opts.OBSERVATIONS, metavar="FILE")
    parser.add_argument(opts.SPACING, metavar="SECONDS")
    parser.add_argument("--junit-xml", metavar="FILE", help="write JUnit XML here")
    parser.add_argument(
        "--profile",
        default="ci",
        choices=("ci", "dev"),
        help="Hypothesis profile: ci (few examples, fixed seed) or dev",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")

    return parser


def pytest_arguments(namespace: argparse.Namespace) -> list[str]:
    """The pytest command line for a run."""
    ini = resources.files("contract_tests").joinpath(INI)
    args = ["--pyargs", SUITE, "-c", str(ini), "--rootdir", str(Path.cwd())]
    args += ["--hypothesis-profile", namespace.profile, "--tb=short", "-q"]
    # This command imports the kit before pytest loads it as a plugin; pytest then
    # warns that it cannot rewrite the kit's asserts, which the kit does not need.
    args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    for option in (opts.URL, opts.USER, opts.CA, opts.ALLOW, opts.OBSERVATIONS):
        value = getattr(namespace, option.lstrip("-").replace("-", "_"))
        if value:
            args += [option, value]
    if namespace.array_spacing is not None:
        args += [opts.SPACING, namespace.array_spacing]
    if namespace.array_insecure:
        args.append(opts.INSECURE)
    if namespace.junit_xml:
        args += ["--junit-xml", namespace.junit_xml]

    return args + list(namespace.pytest_args)


def run(argv: Sequence[str]) -> int:
    """Run the suite; the exit status is pytest's (non-zero on any violation)."""
    namespace = run_parser().parse_args(argv)
    summary = Summary()
    status = int(pytest.main(pytest_arguments(namespace), plugins=[summary]))
    print("\n".join(render(summary)))
    verdict = "no violation" if status == 0 else f"violations or errors (exit {status})"
    print(f"\narray-contract: {verdict}")

    return status


def diff(argv: Sequence[str]) -> int:
    """Compare two observation files; exit 1 when they differ."""
    parser = argparse.ArgumentParser(prog="array-contract diff")
    parser.add_argument("left", type=Path)
    parser.add_argument("right", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON")
    namespace = parser.parse_args(argv)
    try:
        left, right = report.load(namespace.left), report.load(namespace.right)
    except (OSError, ValueError) as exc:
        print(f"array-contract diff: {exc}", file=sys.stderr)
        return 2

    differences = report.diff(left, right)
    if namespace.json:
        print(json.dumps([report.as_dict(d) for d in differences], indent=1))
    else:
        print("\n".join(_diff_lines(namespace.left, namespace.right, differences)))

    return 1 if differences else 0


def _diff_lines(
    left: Path, right: Path, differences: list[report.Difference]
) -> list[str]:
    lines = [f"{len(differences)} request(s) answered differently"]
    lines += [f"  A = {left}", f"  B = {right}"]
    for difference in differences:
        lines += [
            f"- {difference.request}",
            f"    A: {difference.left}",
            f"    B: {difference.right}",
        ]

    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``array-contract``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [DIFF]:
        return diff(arguments[1:])

    return run(arguments)
