"""Shared fixtures: one real HTTPS emulator per test session, reset before each test.

Tests talk to the emulator over real TLS with ``requests``; ``ArrayClient`` holds
the steps most tests repeat (generating a session, backing up, locking).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from emulator.server import EmulatorServer, create_app
from emulator.tls import TlsFiles, ensure_certificates
from tests.support import ArrayClient

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA and server certificate for the test session."""
    return ensure_certificates(tmp_path_factory.mktemp("tls"), ("127.0.0.1",))


@pytest.fixture(scope="session")
def emulator_server(tls_files: TlsFiles) -> Iterator[EmulatorServer]:
    """The default-profile emulator over HTTPS, started once."""
    with EmulatorServer(create_app(), tls=tls_files) as server:
        yield server


@pytest.fixture
def client(emulator_server: EmulatorServer) -> Iterator[ArrayClient]:
    """A client of the shared emulator, reset to its profile's initial state."""
    array = emulator_server.array
    array.clock.resume()
    array.reset()
    yield ArrayClient(emulator_server)
    array.clock.resume()
    array.reset()


@pytest.fixture
def make_client(tls_files: TlsFiles) -> Iterator[Any]:
    """A factory of clients of fresh emulators, for other profiles."""
    servers: list[EmulatorServer] = []

    def start(profile: str | Path = "vsp-e990") -> ArrayClient:
        server = EmulatorServer(create_app(str(profile)), tls=tls_files).start()
        servers.append(server)

        return ArrayClient(server)

    yield start
    for server in servers:
        server.stop()
