"""The contract kit itself: it passes against the emulator and catches broken ones.

Each run starts ``array-contract`` in a subprocess, against the embedded emulator or
against an emulator served here over plain HTTP, possibly behind a middleware from
``broken_targets`` that breaks one rule. The runs are independent, so they all start
together once per module and the tests read their results.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from emulator.control.plane import ControlSettings
from emulator.server import EmulatorServer, create_app
from tests import broken_targets as broken

USER = "secadmin"
PASSWORD = "secadmin-pass"
RUN_TIMEOUT_SECONDS = 300
PARALLEL_RUNS = 3
LOCK_WAIT_SECONDS = 60.0
LOCK_POLL_SECONDS = 0.02
KIT = [
    sys.executable,
    "-c",
    "from contract_tests.cli import main; raise SystemExit(main())",
]
ALLOW_ALL = ("--array-allow", "sensitive,destructive")
SENTINEL_USER_PASSWORD = "Sentinel-User-5x9Q"
SENTINEL_BACKUP_PASSWORD = "Sentinel-Backup-7k2W"
Wrapper = Callable[[broken.WsgiApp], broken.WsgiApp]


@dataclass
class Run:
    """One run of the kit: its exit status, output and report files."""

    status: int
    output: str
    junit: Path
    observations: Path


@dataclass
class Plan:
    """A run to make: where, with which arguments and environment."""

    workdir: Path
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def run_kit(plan: Plan) -> Run:
    """Run array-contract in the plan's directory, reports written there."""
    plan.workdir.mkdir(parents=True, exist_ok=True)
    junit = plan.workdir / "junit.xml"
    observations = plan.workdir / "observations.json"
    reports = ["--junit-xml", str(junit), "--array-observations", str(observations)]
    done = subprocess.run(
        [*KIT, *reports, *plan.args],
        cwd=plan.workdir,
        env={**os.environ, "ARRAY_SPACING": "0", **plan.env},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )

    return Run(done.returncode, done.stdout + done.stderr, junit, observations)


def serve(
    middleware: Wrapper | None = None, profile: Any = None, *, control: bool = False
) -> EmulatorServer:
    """Start an emulator over HTTP, optionally behind a middleware.

    A black box by default: no control plane, as on a real array.
    """
    app = create_app(profile, control_settings=ControlSettings(enabled=control))
    if middleware is not None:
        app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]

    return EmulatorServer(app).start()


def against(server: EmulatorServer, workdir: Path, *args: str, **env: str) -> Plan:
    """A run against a served emulator as the security administrator."""
    credentials = {"ARRAY_USER": USER, "ARRAY_PASSWORD": PASSWORD, **env}

    return Plan(workdir, ("--array-url", server.url, *args), credentials)


class TokenRecorder(broken.KeepsDiscardedToken):
    """Keeps discarded tokens alive (so failures print) and records every token."""

    def __init__(self, app: broken.WsgiApp, tokens: list[str]) -> None:
        super().__init__(app)
        self.tokens = tokens

    def __call__(
        self, environ: broken.Environ, start_response: broken.StartResponse
    ) -> Any:
        body = b"".join(super().__call__(environ, start_response))
        if b'"token"' in body:
            self.tokens.append(json.loads(body)["token"])

        return [body]


def _sentinel_profile(directory: Path) -> Path:
    bundled = resources.files("emulator.fixtures").joinpath("profiles/vsp-e990.toml")
    text = bundled.read_text().replace(
        f'password = "{PASSWORD}"', f'password = "{SENTINEL_USER_PASSWORD}"'
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sentinel.toml"
    path.write_text(text)

    return path


BROKEN = {
    "five-letter-password": (broken.AcceptsFiveLetterPassword, None),
    "no-content-disposition": (broken.DropsContentDisposition, None),
    "json-accept-served": (broken.ServesJsonOnlyAccept, None),
    "lock-ignored": (broken.IgnoresLock, None),
    "password-in-file": (broken.LeaksPassword, None),
    "html-errors": (broken.HtmlErrors, None),
    "microcode-lie": (broken.ReportsNewerMicrocode, "vsp-g900-old"),
}
EXPECTED_VIOLATION = {
    "five-letter-password": "PasswordRuleNotEnforced",
    "no-content-disposition": "BackupHeadersWrong",
    "json-accept-served": "AcceptNotHonoured",
    "lock-ignored": "LockNotHonoured",
    "password-in-file": "PasswordInBackupFile",
    "html-errors": "ErrorObjectMalformed",
    "microcode-lie": "MicrocodeSupportMismatch",
}


@dataclass
class Runs:
    """Every run of the module, by name, and what the sentinel run saw."""

    results: dict[str, Run]
    issued_tokens: list[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Start every target, run the kit against each at once, stop the targets."""
    root = tmp_path_factory.mktemp("kit-runs")
    tokens: list[str] = []
    recorder = functools.partial(TokenRecorder, tokens=tokens)
    servers = {name: serve(*spec) for name, spec in BROKEN.items()}
    # One target per run: runs in parallel on one array would meet each other's
    # locks, as two clients of a real array would.
    servers["black-box"] = serve()
    servers["default-classes"] = serve()
    servers["sentinel"] = serve(recorder, str(_sentinel_profile(root / "profile")))
    # A broken target's run stops at its first violation (-x): the verdict is in.
    plans = {
        name: against(servers[name], root / name, *ALLOW_ALL, "--", "-x")
        for name in BROKEN
    }
    plans["black-box"] = against(servers["black-box"], root / "black-box", *ALLOW_ALL)
    plans["default-classes"] = against(servers["default-classes"], root / "default")
    plans["embedded"] = Plan(root / "embedded")
    # The sentinel target keeps discarded tokens alive: the broken target that
    # makes the kit print failures with tokens in play.
    plans["sentinel"] = against(
        servers["sentinel"],
        root / "sentinel",
        *ALLOW_ALL,
        "--",
        "-x",
        ARRAY_PASSWORD=SENTINEL_USER_PASSWORD,
        ARRAY_BACKUP_PASSWORD=SENTINEL_BACKUP_PASSWORD,
    )
    try:
        with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
            results = dict(zip(plans, pool.map(run_kit, plans.values()), strict=True))
        yield Runs(results, tokens)
    finally:
        for server in servers.values():
            server.stop()


def test_kit__passes_against_embedded_emulator(runs: Runs) -> None:
    """With no arguments the kit starts an emulator and finds no violation."""
    run = runs.results["embedded"]

    assert run.status == 0, run.output
    assert "array-contract: no violation" in run.output
    assert "edge case" not in run.output


def test_kit__writes_junit_and_observations(runs: Runs) -> None:
    """A run writes JUnit XML and an observations file naming the target."""
    run = runs.results["embedded"]
    observations = json.loads(run.observations.read_text())

    assert "<testsuite" in run.junit.read_text()
    assert observations["target"]["kind"] == "embedded emulator"
    assert any(r["status"] == 200 for r in observations["observations"])


def test_kit__passes_against_black_box(runs: Runs) -> None:
    """Against an emulator without control plane the edge cases skip with a reason."""
    run = runs.results["black-box"]

    assert run.status == 0, run.output
    assert "edge case: needs a control plane" in run.output


def test_kit__default_classes_on_black_box(runs: Runs) -> None:
    """Without --array-allow only read-only and reversible tests run on a black box."""
    run = runs.results["default-classes"]

    assert run.status == 0, run.output
    assert "sensitive tests do not run against a target without a control" in run.output


@pytest.mark.parametrize("name", BROKEN)
def test_kit__catches_broken_target(runs: Runs, name: str) -> None:
    """A target that breaks one rule fails the run, and the failure names the rule."""
    run = runs.results[name]

    assert run.status != 0, run.output
    assert EXPECTED_VIOLATION[name] in run.output, run.output
    assert "rule:" in run.output and "reproduce: curl" in run.output


def test_kit__diff_lists_departures(runs: Runs) -> None:
    """array-contract diff lists requests two runs answered differently."""
    left = runs.results["embedded"].observations
    right = runs.results["microcode-lie"].observations
    done = subprocess.run(
        [*KIT, "diff", str(left), str(right)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "answered differently" in done.stdout
    assert "412 KART40080-E" in done.stdout


def test_kit__catches_discarded_token_alive(runs: Runs) -> None:
    """A target that keeps a discarded session's token alive fails the run."""
    run = runs.results["sentinel"]

    assert run.status != 0, run.output
    assert "DiscardedTokenAccepted" in run.output, run.output


def test_kit__writes_no_secret(runs: Runs) -> None:
    """No password, backup password or token shows in output, JUnit or observations."""
    run = runs.results["sentinel"]
    written = run.output + run.junit.read_text() + run.observations.read_text()
    secrets = (SENTINEL_USER_PASSWORD, SENTINEL_BACKUP_PASSWORD, *runs.issued_tokens)

    assert "reproduce: curl" in run.output
    assert runs.issued_tokens, "the recorder saw the tokens the array issued"
    assert [s for s in secrets if s in written] == []


def test_kit__interrupt_releases_sessions_and_lock() -> None:
    """Interrupted while it holds the lock, the kit still discards and unlocks."""
    server = serve()
    env = {
        **os.environ,
        "ARRAY_SPACING": "0.3",
        "ARRAY_USER": USER,
        "ARRAY_PASSWORD": PASSWORD,
    }
    kit = subprocess.Popen(
        [*KIT, "--array-url", server.url, "--", "-k", "locks"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell may start background jobs with SIGINT ignored; Ctrl-C reaches a
        # foreground run, so the kit gets the default disposition here too.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        held = _wait_for_lock(server)
        kit.send_signal(signal.SIGINT)
        output, _ = kit.communicate(timeout=RUN_TIMEOUT_SECONDS)
        sessions, holder = len(server.array.sessions), server.array.lock_holder
    finally:
        kit.kill()
        server.stop()

    assert held, "the kit took the lock before it was interrupted"
    assert "KeyboardInterrupt" in output
    assert (sessions, holder) == (0, None)


def _wait_for_lock(server: EmulatorServer) -> bool:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        if server.array.lock_holder is not None:
            return True
        time.sleep(LOCK_POLL_SECONDS)

    return False
