"""Run every benchmark, print a table of ratios and write bench/results/latest.json.

Each ratio compares two figures measured in this run, on this machine, with the
same load generator (wrk, one thread) at the same concurrency. Loads are bounded
in time (``BENCH_SECONDS`` per run) or in count, and hit loopback only.

Usage: ``python bench/run.py`` (``make bench``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from targets import (
    BACKUP_PATH,
    BENCH,
    ROOT,
    Target,
    bare,
    emulator,
    emulator_cli,
    moto,
    prism,
    run_wrk,
    session_token,
    wrk_available,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WARM_UP_SECONDS = 1
STARTS = int(os.environ.get("BENCH_STARTS", "5"))
MEMORY_SMALL = 1_000
MEMORY_LARGE = 100_000
KEY_COUNTS = (1, 64, 1024, 4096)
BACKUP_BODY = '{"parameters": {"password": "Bench-pass-1"}}'
RESULTS = BENCH / "results"
LATEST = RESULTS / "latest.json"
MINIMAL_DOCUMENT = BENCH / "openapi-get.yaml"


@dataclass
class Figure:
    """One measured figure and, where it has one, its baseline and target.

    ``ratio`` is value / baseline; ``target`` states the ratio wanted, ``met``
    whether this run reached it (None: no target, or not measured).
    """

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def compare(
    name: str,
    value: float | None,
    baseline: float | None,
    unit: str,
    target: str = "",
    wanted: Callable[[float], bool] | None = None,
    note: str = "",
) -> Figure:
    """A figure with its ratio to ``baseline`` and whether it meets ``wanted``."""
    ratio = value / baseline if value is not None and baseline else None
    met = wanted(ratio) if wanted is not None and ratio is not None else None

    return Figure(name, value, unit, baseline, ratio, target, met, note)


def missing(name: str, unit: str, target: str, why: str) -> Figure:
    """A figure this run could not measure, and why."""
    return Figure(name, None, unit, None, None, target, None, f"not available: {why}")


@contextmanager
def running(target: Target) -> Iterator[Target]:
    """A started target, stopped on the way out."""
    target.start()
    try:
        yield target
    finally:
        target.stop()


def rate(
    target: Target, *, fresh: bool, headers: dict[str, str] | None = None
) -> float:
    """Requests per second of the target's GET after a short warm-up."""
    used = headers or target.headers
    run_wrk(target.url, headers=used, connections=CONNECTIONS, seconds=WARM_UP_SECONDS)
    result = run_wrk(
        target.url, headers=used, connections=CONNECTIONS, seconds=SECONDS, fresh=fresh
    )
    assert result.errors == 0, f"{target.name}: {result.errors} failed replies"

    return result.rps


def token_headers(target: Target) -> dict[str, str]:
    """Session-token credentials for an emulator target."""
    return {"Authorization": f"Session {session_token(target)}"}


def get_rates(target: Target, *, token: bool = False) -> dict[str, float]:
    """The target's GET rate with reused and with fresh connections."""
    with running(target):
        headers = token_headers(target) if token else None

        return {
            "reused": rate(target, fresh=False, headers=headers),
            "fresh": rate(target, fresh=True, headers=headers),
        }


def openapi_document() -> tuple[Path, str]:
    """The contract kit's OpenAPI document if it exists, else the minimal one."""
    for candidate in sorted((ROOT / "contract_tests").rglob("openapi*.y*ml")):
        return candidate, "the contract kit's OpenAPI document"
    for candidate in sorted((ROOT / "contract_tests").rglob("openapi*.json")):
        return candidate, "the contract kit's OpenAPI document"

    return MINIMAL_DOCUMENT, "bench/openapi-get.yaml (the one GET; no contract kit yet)"


def throughput_figures(emulator_rates: dict[str, float]) -> list[Figure]:
    """(1) and (2): the emulator's GET against the bare app, moto and Prism."""
    figures = []
    bare_rates = get_rates(bare())
    for mode in ("reused", "fresh"):
        figures.append(
            compare(
                f"get_{mode}_vs_bare_flask",
                emulator_rates[mode],
                bare_rates[mode],
                "req/s",
                ">= 0.8",
                lambda r: r >= 0.8,
                f"{mode} connections, {CONNECTIONS} concurrent",
            )
        )
    document, source = openapi_document()
    others = (("moto", moto(), ""), ("prism", prism(document), f"mocking {source}"))
    for label, other, note in others:
        figures += _against(label, other, emulator_rates, note)

    return figures


def _against(
    label: str, other: Target | None, emulator_rates: dict[str, float], note: str
) -> list[Figure]:
    if other is None:
        return [
            missing(f"get_{m}_vs_{label}", "req/s", "> 1.0", f"{label} not installed")
            for m in ("reused", "fresh")
        ]

    other_rates = get_rates(other)

    return [
        compare(
            f"get_{mode}_vs_{label}",
            emulator_rates[mode],
            other_rates[mode],
            "req/s",
            "> 1.0",
            lambda r: r > 1.0,
            " ".join(p for p in (f"{mode} connections", note) if p),
        )
        for mode in ("reused", "fresh")
    ]


def keys_profile(folder: Path, count: int) -> Path:
    """A profile file whose array starts with ``count`` keys (one DEK, rest FREE)."""
    path = folder / f"keys-{count}.toml"
    base = (ROOT / "fixtures" / "profiles" / "vsp-e990.toml").read_text()
    keys = f"\n[keys]\ndek = 1\ncek = 0\nkek = 0\nfree = {count - 1}\n"
    path.write_text(base + keys)

    return path


def backup_rate(target: Target) -> float:
    """Backups per second on a running emulator target."""
    headers = {**token_headers(target), "Content-Type": "application/json"}
    url = target.url.replace(target.path, BACKUP_PATH)
    env = {"BENCH_BODY": BACKUP_BODY}
    result = run_wrk(
        url,
        headers=headers,
        connections=CONNECTIONS,
        seconds=SECONDS,
        script="post.lua",
        env=env,
    )
    assert result.errors == 0, f"backup: {result.errors} failed replies"

    return result.rps


def backup_figures(get_reused: float) -> list[Figure]:
    """(3): a backup against the GET, and how its cost grows with the keys."""
    with running(emulator()) as target:
        default_rate = backup_rate(target)
    figures = [
        compare(
            "backup_time_vs_get_time",
            1 / default_rate,
            1 / get_reused,
            "s/req",
            "<= 3.0",
            lambda r: r <= 3.0,
            "default profile, its key-derivation cost; reused connections",
        )
    ]
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in KEY_COUNTS:
            with running(emulator(keys_profile(Path(folder), count))) as target:
                rates[count] = backup_rate(target)
    for count in KEY_COUNTS[1:]:
        figures.append(
            compare(
                f"backup_time_{count}_keys_vs_1_key",
                1 / rates[count],
                1 / rates[1],
                "s/req",
                "<= 2.0" if count == KEY_COUNTS[-1] else "",
                (lambda r: r <= 2.0) if count == KEY_COUNTS[-1] else None,
            )
        )

    return figures


def start_time(make: Callable[[], Target | None]) -> float | None:
    """Median seconds from spawning a server to its first good reply."""
    if make() is None:
        return None

    times = []
    for _ in range(STARTS):
        target = make()
        assert target is not None
        times.append(target.start())
        target.stop()

    return statistics.median(times)


def startup_figures() -> list[Figure]:
    """(4): start-up to the first authenticated reply, against bare Flask and moto."""
    own = start_time(emulator_cli)
    baseline = start_time(bare)
    moto_time = start_time(moto)
    figures = [
        compare(
            "startup_vs_bare_flask",
            own,
            baseline,
            "s",
            "<= 1.5",
            lambda r: r <= 1.5,
            f"median of {STARTS}; array-emulator serve --http, Basic-authenticated GET",
        )
    ]
    if moto_time is None:
        figures.append(missing("startup_vs_moto", "s", "", "moto not installed"))
    else:
        figures.append(compare("startup_vs_moto", own, moto_time, "s"))

    return figures


def contract_figures() -> list[Figure]:
    """(5): the contract suite's duration under its CI profile, if it exists."""
    suite = ROOT / "contract_tests"
    tests = [p for p in suite.rglob("test_*.py")] if suite.exists() else []
    if not tests:
        why = "the contract suite has no tests on this branch yet"
        return [
            missing("contract_suite_duration", "s", "< 60 s", why),
            missing("state_machine_steps_per_second", "steps/s", "", why),
        ]

    duration = _run_contract_suite(suite)
    suite_figure = compare(
        "contract_suite_duration",
        duration,
        60.0,
        "s",
        "< 1.0 (of 60 s)",
        lambda r: r < 1.0,
        "Hypothesis profile ci",
    )
    steps = missing(
        "state_machine_steps_per_second",
        "steps/s",
        "",
        "the contract suite reports no step count",
    )

    return [suite_figure, steps]


def _run_contract_suite(suite: Path) -> float | None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile=ci",
        str(suite),
    ]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=900)
    elapsed = time.perf_counter() - started

    return elapsed if finished.returncode == 0 else None


def memory_figures() -> list[Figure]:
    """(6): resident memory after 100,000 GETs against after 1,000."""
    with running(emulator()) as target:
        headers = token_headers(target)
        _count_load(target, headers, MEMORY_SMALL)
        small = target.rss_kib()
        _count_load(target, headers, MEMORY_LARGE - MEMORY_SMALL)
        large = target.rss_kib()

    return [
        compare(
            "rss_after_100k_vs_1k_requests",
            float(large),
            float(small),
            "KiB",
            "<= 1.1",
            lambda r: r <= 1.1,
            "authenticated GETs, reused connections",
        )
    ]


def _count_load(target: Target, headers: dict[str, str], count: int) -> None:
    env = {"BENCH_REQUESTS": str(count)}
    result = run_wrk(
        target.url,
        headers=headers,
        connections=CONNECTIONS,
        seconds=600,
        script="count.lua",
        env=env,
    )
    assert result.errors == 0 and result.requests >= count, result


def conditions() -> dict[str, object]:
    """What the figures were measured under."""
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {
        "connections": CONNECTIONS,
        "seconds_per_run": SECONDS,
        "load_generator": (wrk_version.stdout or wrk_version.stderr).split("\n")[0],
        "wrk_threads": 1,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def table(figures: list[Figure]) -> str:
    """The figures as a fixed-width table."""
    rows = [("figure", "value", "baseline", "ratio", "target", "met")]
    for f in figures:
        rows.append(
            (
                f.name,
                _number(f.value, f.unit),
                _number(f.baseline, f.unit),
                "-" if f.ratio is None else f"{f.ratio:.2f}",
                f.target or "-",
                {True: "yes", False: "NO", None: "-"}[f.met],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]

    return "\n".join([*lines, "", "notes:", *notes])


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"

    if unit == "s/req":
        return f"{value * 1000:.2f} ms/req"

    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def main() -> int:
    """Run every benchmark, print the table and write the JSON."""
    if not wrk_available():
        print("bench: wrk is not installed (make bench installs it)", file=sys.stderr)
        return 2

    emulator_rates = get_rates(emulator(), token=True)
    figures = throughput_figures(emulator_rates)
    figures += backup_figures(emulator_rates["reused"])
    figures += startup_figures()
    figures += contract_figures()
    figures += memory_figures()

    RESULTS.mkdir(exist_ok=True)
    payload = {"conditions": conditions(), "figures": [asdict(f) for f in figures]}
    LATEST.write_text(json.dumps(payload, indent=2) + "\n")
    print(table(figures))
    print(f"\nconditions: {json.dumps(payload['conditions'])}")
    print(f"written: {LATEST.relative_to(ROOT)}")

    return 0


if __name__ == "__main__":
    sys.exit(main())
