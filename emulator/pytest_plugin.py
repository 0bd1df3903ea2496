"""pytest fixtures for client projects: an emulated array for their tests.

Installed with the emulator and registered under the ``pytest11`` entry point, so a
client project only asks for the fixture::

    def test_backup(array_emulator):
        session = requests.post(
            f"{array_emulator.url}/ConfigurationManager/v1/objects/sessions",
            auth=array_emulator.credentials,
            verify=array_emulator.ca_file,
        )
        ...
        assert array_emulator.conformance()["findings"] == []

One emulator (TLS, a free port) serves the whole test session; each test gets it
back in the profile's initial state, with no fault rules and an empty journal. The
profile comes from ``--array-emulator-profile``, the ``ARRAY_EMULATOR_PROFILE``
environment variable, or a project's own ``array_emulator_profile`` fixture.

This module stays cheap to import: the emulator itself loads when a test first
asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from emulator.control.client import ControlClient
    from emulator.profile import Profile
    from emulator.server import EmulatorServer

PROFILE_OPTION = "--array-emulator-profile"
PROFILE_ENV = "ARRAY_EMULATOR_PROFILE"
DEFAULT_PROFILE = "vsp-e990"
TLS_HOSTS = ("127.0.0.1", "localhost")
INITIAL_PROFILE = "ARRAY_EMULATOR_INITIAL_PROFILE"


class Credentials(tuple[str, str]):
    """A user's name and password; usable as ``auth=`` with requests."""

    __slots__ = ()

    def __new__(cls, user: str, password: str) -> Credentials:
        return super().__new__(cls, (user, password))

    @property
    def user(self) -> str:
        """The user's name."""
        return self[0]

    @property
    def password(self) -> str:
        """The user's password."""
        return self[1]


@dataclass
class ArrayEmulator:
    """A running emulator as a test sees it.

    Attributes:
        url: the base URL, ``https://127.0.0.1:PORT``.
        ca_file: the CA certificate that signs the emulator's certificate.
        credentials: the profile's first user (a security administrator in the
            bundled profiles, allowed to back up keys).
        users: every user of the profile by name.
        storage_device_id: the emulated array's storageDeviceId.
        control: a client of the control plane.
    """

    url: str
    ca_file: Path
    credentials: Credentials
    users: dict[str, Credentials]
    storage_device_id: str
    control: ControlClient
    server: EmulatorServer = field(repr=False)

    def conformance(self) -> dict[str, Any]:
        """The conformance report of the requests made so far in this test."""
        return self.control.conformance()

    def conformance_text(self) -> str:
        """The conformance report as text."""
        return self.control.conformance_text()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the option that picks the emulated array's profile."""
    group = parser.getgroup("array-emulator", "emulated Hitachi VSP array")
    group.addoption(
        PROFILE_OPTION,
        default=None,
        help=f"profile to emulate, a name or a file (env {PROFILE_ENV})",
    )


@pytest.fixture(scope="session")
def array_emulator_profile(pytestconfig: pytest.Config) -> str:
    """The profile to emulate; redefine this fixture to pick one in a project."""
    chosen = pytestconfig.getoption(PROFILE_OPTION)

    return str(chosen or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE)


@pytest.fixture(scope="session")
def array_emulator_server(
    array_emulator_profile: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    """One emulator over TLS on a free loopback port, for the whole test session."""
    from emulator.profile import load_profile
    from emulator.server import EmulatorServer, create_app
    from emulator.tls import ensure_certificates

    tls = ensure_certificates(tmp_path_factory.mktemp("array-emulator"), TLS_HOSTS)
    profile = load_profile(array_emulator_profile)
    app = create_app(profile)
    app.config[INITIAL_PROFILE] = profile
    server = EmulatorServer(app, tls=tls).start()
    yield server
    server.stop()


@pytest.fixture
def array_emulator(array_emulator_server: EmulatorServer) -> ArrayEmulator:
    """The emulator, back in its profile's initial state for this test."""
    from emulator.control.client import ControlClient

    server = array_emulator_server
    assert server.tls is not None
    initial: Profile = server.app.config[INITIAL_PROFILE]
    control = ControlClient(server.url, ca_file=server.tls.ca_cert)
    control.reset()
    if server.array.profile is not initial:
        server.array.load(initial)
    users = {u.name: Credentials(u.name, u.password) for u in initial.users}

    return ArrayEmulator(
        url=server.url,
        ca_file=server.tls.ca_cert,
        credentials=users[initial.users[0].name],
        users=users,
        storage_device_id=initial.storage.storage_device_id,
        control=control,
        server=server,
    )
