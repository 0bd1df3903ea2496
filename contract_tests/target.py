"""The target: what the kit learned about the array (or emulator) it runs against.

With a URL the kit probes the target before any test: the API version, the storage
model and the microcode, then whether a control plane answers under ``/_emulator/``.
The model and microcode, looked up in the support matrix, decide whether a backup is
expected to succeed (200) or to be refused as unsupported (412).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contract_tests.client import OBJECTS, ArrayClient, Basic, Connection, Pacer
from contract_tests.control import HttpControl, probe_control
from contract_tests.options import ALWAYS_ALLOWED, SAFETY_CLASSES, KitOptions
from contract_tests.report import Observations
from contract_tests.secret import Secret
from contract_tests.support import backup_supported, load_matrix

VERSION_PATH = "/ConfigurationManager/configuration/version"
STORAGES_PATH = f"{OBJECTS}/storages"
INSTANCE_PATH = f"{OBJECTS}/storages/instance"
EMBEDDED = "embedded emulator"
EMULATOR = "emulator"
ARRAY = "array"
ARRAY_MAX_SESSIONS = 2


class ProbeFailed(RuntimeError):
    """The target did not answer the probe as an array would."""


@dataclass(frozen=True)
class Identity:
    """Who the target says it is."""

    api_version: str
    model: str
    microcode: str
    storage_device_id: str


@dataclass
class Target:
    """A target and what the kit expects of it.

    Attributes:
        kind: ``embedded emulator``, ``emulator`` (has a control plane) or ``array``.
        connection: what every client of the target shares.
        user: the user the kit opens sessions as.
        viewer: a user without the backup role, when the kit knows one.
        backup_password: the password backup files are sealed with.
        identity: model, microcode and versions from the probe.
        backup_supported: whether the support matrix says the backup runs.
        control: the control plane, or None.
        allow: safety classes the user allowed beyond the default ones.
        on_close: what stops the target when the run ends (the embedded one).
    """

    kind: str
    connection: Connection
    user: Basic
    backup_password: Secret
    identity: Identity
    backup_supported: bool
    control: HttpControl | None = None
    viewer: Basic | None = None
    allow: frozenset[str] = field(default_factory=frozenset)
    on_close: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        """The base URL."""
        return self.connection.base_url

    @property
    def is_emulator(self) -> bool:
        """Whether the target is known to be the emulator (it has a control plane)."""
        return self.control is not None

    @property
    def allowed_classes(self) -> frozenset[str]:
        """Safety classes that may run: all of them against an emulator."""
        if self.is_emulator:
            return frozenset(SAFETY_CLASSES)

        return ALWAYS_ALLOWED | self.allow

    @property
    def expected_backup_status(self) -> int:
        """200 where the support matrix says the backup runs, else 412."""
        return 200 if self.backup_supported else 412

    def client(self, credentials: Basic | None = None) -> ArrayClient:
        """A fresh client; ``close()`` it to discard what it opened."""
        return ArrayClient(self.connection, credentials or self.user)

    def describe(self) -> dict[str, str]:
        """The target as reports show it (no secrets)."""
        return {
            "kind": self.kind,
            "url": self.url,
            "model": self.identity.model,
            "microcode": self.identity.microcode,
            "apiVersion": self.identity.api_version,
            "control": self.control.name if self.control else "none",
        }


def connect(
    url: str, verify: str | bool, observations: Observations, *, spacing: float | None
) -> Connection:
    """A connection to a target.

    Args:
        spacing: seconds between requests, for a target that may be a real array
            (the kit then also keeps to two sessions at a time); None for an
            emulator.
    """
    return Connection(
        base_url=url,
        verify=verify,
        pacer=Pacer(spacing or 0.0),
        observations=observations,
        max_sessions=None if spacing is None else ARRAY_MAX_SESSIONS,
    )


def identify(client: ArrayClient) -> Identity:
    """Ask the target its API version, storage model and microcode.

    Raises:
        ProbeFailed: an answer is missing or not the array's.
    """
    version = client.send("GET", VERSION_PATH, probe="probe.version").json
    storages = client.send("GET", STORAGES_PATH, probe="probe.storages").json
    session = client.open_session(probe="probe.session")
    try:
        detail = client.send(
            "GET", INSTANCE_PATH, probe="probe.instance", auth=session.auth
        ).json
    finally:
        client.close()

    try:
        return Identity(
            api_version=str(version["apiVersion"]),
            model=str(storages["data"][0]["model"]),
            microcode=str(detail["dkcMicroVersion"]),
            storage_device_id=str(detail["storageDeviceId"]),
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise ProbeFailed(f"the target does not describe itself: {exc!r}") from None


def probe(options: KitOptions, observations: Observations) -> Target:
    """Probe the target the options name.

    Raises:
        ProbeFailed: the target does not answer as an array.
    """
    assert options.url and options.user and options.password
    control = probe_control(options.url, options.verify)
    spacing = None if control else options.spacing
    connection = connect(options.url, options.verify, observations, spacing=spacing)
    user = Basic(options.user, options.password)
    identity = identify(ArrayClient(connection, user))

    return Target(
        kind=EMULATOR if control else ARRAY,
        connection=connection,
        user=user,
        backup_password=options.backup_password,
        identity=identity,
        backup_supported=backup_supported(
            identity.model, identity.microcode, load_matrix()
        ),
        control=control,
        allow=options.allow,
    )
