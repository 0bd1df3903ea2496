"""The contract kit itself: it passes against the emulator and catches broken ones.

Each run starts ``array-contract`` in a subprocess, against the embedded emulator or
against an emulator served here over plain HTTP, possibly behind a middleware from
``broken_targets`` that breaks one rule.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from emulator.control.plane import ControlSettings
from emulator.server import EmulatorServer, create_app
from tests import broken_targets as broken

USER = "secadmin"
PASSWORD = "secadmin-pass"
RUN_TIMEOUT_SECONDS = 240
KIT = [
    sys.executable,
    "-c",
    "from contract_tests.cli import main; raise SystemExit(main())",
]
ALL_CLASSES = "sensitive,destructive"
Wrapper = Callable[[broken.WsgiApp], broken.WsgiApp]


@dataclass
class Run:
    """One run of the kit: its exit status, output and report files."""

    status: int
    output: str
    junit: Path
    observations: Path


def run_kit(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run array-contract in ``workdir`` with reports written there."""
    workdir.mkdir(parents=True, exist_ok=True)
    junit, observations = workdir / "junit.xml", workdir / "observations.json"
    environment = {**os.environ, "ARRAY_SPACING": "0", **(env or {})}
    command = [
        *KIT,
        "--junit-xml",
        str(junit),
        "--array-observations",
        str(observations),
    ]
    done = subprocess.run(
        [*command, *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )

    return Run(done.returncode, done.stdout + done.stderr, junit, observations)


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators over HTTP, optionally behind a middleware; stop them after."""
    servers: list[EmulatorServer] = []

    def start(
        middleware: Callable[[broken.WsgiApp], broken.WsgiApp] | None = None,
        profile: Any = None,
        control: bool = False,
    ) -> EmulatorServer:
        # A black box by default: no control plane, as on a real array.
        settings = ControlSettings(enabled=control)
        app = create_app(profile, control_settings=settings)
        if middleware is not None:
            app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]
        server = EmulatorServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def against(
    server: EmulatorServer,
    workdir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the kit against a served emulator as the security administrator."""
    credentials = {"ARRAY_USER": USER, "ARRAY_PASSWORD": PASSWORD, **(env or {})}

    return run_kit(workdir, "--array-url", server.url, *extra, env=credentials)


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The kit run with no arguments: against the emulator it starts itself."""
    return run_kit(tmp_path_factory.mktemp("embedded"))


@pytest.fixture(scope="module")
def black_box_run(
    serve: Callable[..., EmulatorServer], tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """The kit run against an emulator without control plane, everything allowed."""
    return against(
        serve(), tmp_path_factory.mktemp("black-box"), "--array-allow", ALL_CLASSES
    )


def test_kit__passes_against_embedded_emulator(embedded_run: Run) -> None:
    """With no arguments the kit starts an emulator and finds no violation."""
    assert embedded_run.status == 0, embedded_run.output
    assert "array-contract: no violation" in embedded_run.output
    assert "edge case" not in embedded_run.output


def test_kit__writes_junit_and_observations(embedded_run: Run) -> None:
    """A run writes JUnit XML and an observations file naming the target."""
    observations = json.loads(embedded_run.observations.read_text())

    assert "<testsuite" in embedded_run.junit.read_text()
    assert observations["target"]["kind"] == "embedded emulator"
    assert any(r["status"] == 200 for r in observations["observations"])


def test_kit__passes_against_black_box(black_box_run: Run) -> None:
    """Against an emulator without control plane the edge cases skip with a reason."""
    assert black_box_run.status == 0, black_box_run.output
    assert "edge case: needs a control plane" in black_box_run.output


def test_kit__default_classes_on_black_box(
    serve: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """Without --array-allow only read-only and reversible tests run on a black box."""
    run = against(serve(), tmp_path)

    assert run.status == 0, run.output
    assert (
        "sensitive tests do not run against a target without a control plane"
        in run.output
    )


BROKEN = [
    pytest.param(
        broken.AcceptsFiveLetterPassword,
        None,
        "PasswordRuleNotEnforced",
        id="five-letter-password",
    ),
    pytest.param(
        broken.DropsContentDisposition,
        None,
        "BackupHeadersWrong",
        id="no-content-disposition",
    ),
    pytest.param(
        broken.ServesJsonOnlyAccept, None, "AcceptNotHonoured", id="json-accept-served"
    ),
    pytest.param(
        broken.KeepsDiscardedToken,
        None,
        "DiscardedTokenAccepted",
        id="discarded-token-alive",
    ),
    pytest.param(broken.IgnoresLock, None, "LockNotHonoured", id="lock-ignored"),
    pytest.param(
        broken.LeaksPassword, None, "PasswordInBackupFile", id="password-in-file"
    ),
    pytest.param(broken.HtmlErrors, None, "ErrorObjectMalformed", id="html-errors"),
    pytest.param(
        broken.ReportsNewerMicrocode,
        "vsp-g900-old",
        "MicrocodeSupportMismatch",
        id="microcode-lie",
    ),
]


@pytest.mark.parametrize(("middleware", "profile", "violation"), BROKEN)
def test_kit__catches_broken_target(
    serve: Callable[..., EmulatorServer],
    tmp_path: Path,
    middleware: type[broken.Middleware],
    profile: str | None,
    violation: str,
) -> None:
    """A target that breaks one rule fails the run, and the failure names the rule."""
    served = serve(middleware, profile)
    run = against(served, tmp_path, "--array-allow", ALL_CLASSES)

    assert run.status != 0, run.output
    assert violation in run.output, run.output
    assert "rule:" in run.output and "reproduce: curl" in run.output


def test_kit__diff_lists_departures(
    embedded_run: Run, black_box_run: Run, tmp_path: Path
) -> None:
    """array-contract diff lists requests two runs answered differently."""
    done = subprocess.run(
        [*KIT, "diff", str(embedded_run.observations), str(black_box_run.observations)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "answered differently" in done.stdout
    assert "(not sent)" in done.stdout


def _sentinel_profile(directory: Path, password: str) -> Path:
    text = (
        resources.files("emulator.fixtures")
        .joinpath("profiles/vsp-e990.toml")
        .read_text()
    )
    path = directory / "sentinel.toml"
    path.write_text(
        text.replace(f'password = "{PASSWORD}"', f'password = "{password}"')
    )

    return path


class TokenRecorder(broken.KeepsDiscardedToken):
    """Keeps discarded tokens alive (so failures print) and records every token."""

    def __init__(self, app: broken.WsgiApp, tokens: list[str]) -> None:
        super().__init__(app)
        self.tokens = tokens

    def __call__(
        self, environ: broken.Environ, start_response: broken.StartResponse
    ) -> Any:
        chunks = list(super().__call__(environ, start_response))
        body = b"".join(chunks)
        if b'"token"' in body:
            self.tokens.append(json.loads(body)["token"])

        return [body]


def test_kit__writes_no_secret(
    serve: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """No password, backup password or token shows in output, JUnit or observations."""
    user_password, backup_password = "Sentinel-User-5x9Q", "Sentinel-Backup-7k2W"
    tokens: list[str] = []
    recorder = functools.partial(TokenRecorder, tokens=tokens)
    server = serve(recorder, str(_sentinel_profile(tmp_path, user_password)))
    env = {"ARRAY_PASSWORD": user_password, "ARRAY_BACKUP_PASSWORD": backup_password}

    run = against(server, tmp_path / "run", "--array-allow", ALL_CLASSES, env=env)

    written = run.output + run.junit.read_text() + run.observations.read_text()
    assert run.status != 0 and "DiscardedTokenAccepted" in run.output
    assert tokens, "the recorder saw the tokens the array issued"
    for secret in (user_password, backup_password, *tokens):
        assert secret not in written
