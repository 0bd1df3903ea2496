"""The kit's pytest plugin: options, markers, Hypothesis profiles and the target.

Registered under the ``pytest11`` entry point, so it loads in every pytest run of an
environment where the kit is installed. It stays cheap to import and does nothing
until a test asks for the target: the emulator starts, or the target is probed, only
then. A project overrides any fixture here by redefining it in its ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from contract_tests import options as opts

if TYPE_CHECKING:
    from contract_tests.client import ArrayClient
    from contract_tests.report import Observations
    from contract_tests.target import Target

EDGE_CASE = "edge_case"
MARKERS = {
    opts.READ_ONLY: "reads only; safe on any array",
    opts.REVERSIBLE: "opens sessions, locks and unlocks; leaves nothing behind",
    opts.SENSITIVE: "makes a backup: produces key material, counts as a backup",
    opts.DESTRUCTIVE: "creates or deletes keys, restores: changes the array",
    EDGE_CASE: "needs a control plane (/_emulator/) to set up its situation",
}
DEV_PROFILE = "dev"
CI_PROFILE = "ci"
CI_EXAMPLES = 15
DEV_EXAMPLES = 100
OBSERVATIONS_KEY = pytest.StashKey["Observations"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the kit's options, each with an environment fallback."""
    group = parser.getgroup(opts.GROUP, "contract kit: the target array")
    group.addoption(
        opts.URL,
        metavar="URL",
        help=f"base URL of the target (env {opts.URL_ENV}); none: embedded emulator",
    )
    group.addoption(
        opts.USER,
        metavar="NAME",
        help=f"user to open sessions as (env {opts.USER_ENV}); "
        f"the password comes from {opts.PASSWORD_ENV} only",
    )
    group.addoption(
        opts.CA, metavar="FILE", help=f"CA file to verify TLS with (env {opts.CA_ENV})"
    )
    group.addoption(
        opts.INSECURE,
        action="store_true",
        help=f"do not verify the TLS certificate (env {opts.INSECURE_ENV})",
    )
    group.addoption(
        opts.ALLOW,
        metavar="CLASSES",
        help="safety classes to run besides read_only and reversible, comma "
        f"separated: sensitive, destructive, all (env {opts.ALLOW_ENV})",
    )
    group.addoption(
        opts.OBSERVATIONS,
        metavar="FILE",
        help=f"write the observations (JSON) here (env {opts.OBSERVATIONS_ENV})",
    )
    group.addoption(
        opts.SPACING,
        metavar="SECONDS",
        help="seconds between requests to a target without a control plane "
        f"(default {opts.DEFAULT_SPACING_SECONDS}; env {opts.SPACING_ENV})",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and the ``dev`` and ``ci`` Hypothesis profiles."""
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")

    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:
        # Installed without the contract extra: the kit's suite cannot run here,
        # and other projects' pytest runs must not fail for it.
        return

    slow = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
    settings.register_profile(
        DEV_PROFILE,
        max_examples=DEV_EXAMPLES,
        deadline=None,
        suppress_health_check=slow,
    )
    settings.register_profile(
        CI_PROFILE,
        max_examples=CI_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=slow,
        # No shrinking in CI: a verdict in seconds; the dev profile shrinks.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


def kit_options(config: pytest.Config) -> opts.KitOptions:
    """The options after the environment fallbacks.

    Raises:
        pytest.UsageError: the options cannot describe a target.
    """
    try:
        return opts.resolve(
            url=config.getoption(opts.URL),
            user=config.getoption(opts.USER),
            ca=config.getoption(opts.CA),
            insecure=bool(config.getoption(opts.INSECURE)),
            allow=config.getoption(opts.ALLOW),
            observations=config.getoption(opts.OBSERVATIONS),
            spacing=config.getoption(opts.SPACING),
        )
    except opts.OptionError as exc:
        raise pytest.UsageError(str(exc)) from None


def observations(config: pytest.Config) -> Observations:
    """The run's observations, created on first use."""
    from contract_tests.report import Observations

    if OBSERVATIONS_KEY not in config.stash:
        config.stash[OBSERVATIONS_KEY] = Observations()

    return config.stash[OBSERVATIONS_KEY]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the observations file, when one was asked for and a target was used."""
    config = session.config
    if OBSERVATIONS_KEY not in config.stash:
        return

    path = kit_options(config).observations
    if path is not None:
        config.stash[OBSERVATIONS_KEY].write(path)


@pytest.fixture(scope="session")
def array_target(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """The target: probed when a URL is given, else an emulator started here."""
    from contract_tests import target as targets

    options = kit_options(pytestconfig)
    recorded = observations(pytestconfig)
    if options.url:
        found = targets.probe(options, recorded)
        recorded.target.update(found.describe())
        yield found
        return

    embedded = _start_embedded(tmp_path_factory, options, recorded)
    recorded.target.update(embedded.describe())
    try:
        yield embedded
    finally:
        _stop_embedded(embedded)


def _start_embedded(
    tmp_path_factory: pytest.TempPathFactory,
    options: opts.KitOptions,
    recorded: Observations,
) -> Target:
    from contract_tests import embedded
    from contract_tests.client import ArrayClient
    from contract_tests.control import probe_control
    from contract_tests.support import backup_supported, load_matrix
    from contract_tests.target import EMBEDDED, Target, connect, identify

    started = embedded.start(tmp_path_factory.mktemp("embedded-tls"))
    connection = connect(started.url, started.ca_file, recorded, spacing=None)
    identity = identify(ArrayClient(connection, started.user))
    found = Target(
        kind=EMBEDDED,
        connection=connection,
        user=started.user,
        backup_password=options.backup_password,
        identity=identity,
        backup_supported=backup_supported(
            identity.model, identity.microcode, load_matrix()
        ),
        control=probe_control(started.url, started.ca_file),
        viewer=started.viewer,
    )
    found.on_close = started.stop

    return found


def _stop_embedded(found: Target) -> None:
    if found.on_close is not None:
        found.on_close()


@pytest.fixture
def array_client(array_target: Target) -> Iterator[ArrayClient]:
    """A client of the target; its sessions and locks are released after the test."""
    client = array_target.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _array_safety(request: pytest.FixtureRequest) -> None:
    """Skip a kit test whose safety class the target does not allow."""
    classes = [c for c in opts.SAFETY_CLASSES if request.node.get_closest_marker(c)]
    if not classes:
        return

    found: Target = request.getfixturevalue("array_target")
    refused = [c for c in classes if c not in found.allowed_classes]
    if refused:
        pytest.skip(
            f"{', '.join(refused)} tests do not run against a target without a "
            f"control plane unless {opts.ALLOW} names them"
        )
    if request.node.get_closest_marker(EDGE_CASE) and found.control is None:
        pytest.skip("edge case: needs a control plane at /_emulator/")
