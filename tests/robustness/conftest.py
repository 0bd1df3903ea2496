"""Fixtures of the robustness tests: a real emulator on port 0 and a client.

Every test here talks to a real server over loopback; loads are bounded in count
and in time, so the whole folder stays within CI's budget.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.server import EmulatorServer, serve_in_thread
from tests.robustness.support import Client


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh emulator of the default profile over plain HTTP."""
    server = serve_in_thread("vsp-e990")
    yield server
    server.stop()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[Client]:
    """A client logged in as the security administrator."""
    own = Client(emulator.url)
    assert own.login().status_code == 200
    yield own
    own.http.close()
