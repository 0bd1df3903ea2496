"""OpenStack cinder's Hitachi REST client against the emulator (opt-in).

cinder is a large install, kept out of the test extra: ``make test-cinder`` builds
its own virtual environment and runs this module with ``ARRAY_EMULATOR_CINDER=1``.
Elsewhere these tests are skipped. The client under test is
``cinder.volume.drivers.hitachi.hbsd_rest_api.RestApiClient``, driven through its
own request machinery (``_request``), which every driver call goes through.
"""

from __future__ import annotations

import os
import threading
import warnings
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import BACKUP, BACKUP_PASSWORD, OCTET_STREAM

ENABLE_ENV = "ARRAY_EMULATOR_CINDER"
RETRY_INTERVAL_SECONDS = 0.1
SHORT_TIMEOUT_SECONDS = 3

pytestmark = [
    pytest.mark.cinder,
    pytest.mark.skipif(
        os.environ.get(ENABLE_ENV) != "1",
        reason=f"cinder's client runs only through `make test-cinder` ({ENABLE_ENV}=1)",
    ),
]


@pytest.fixture(scope="module")
def rest_api() -> ModuleType:
    """cinder's REST client module (its import warns about eventlet: ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = pytest.importorskip("cinder.volume.drivers.hitachi.hbsd_rest_api")

    return module


def driver_conf(**overrides: float) -> SimpleNamespace:
    """The driver options the client reads, with waits short enough for a test."""
    values: dict[str, float] = {
        "hitachi_rest_connect_timeout": 10,
        "hitachi_rest_timeout": 30,
        "hitachi_rest_job_api_response_timeout": 10,
        "hitachi_rest_get_api_response_timeout": 10,
        "hitachi_exec_retry_interval": RETRY_INTERVAL_SECONDS,
        "hitachi_lock_timeout": SHORT_TIMEOUT_SECONDS,
        "hitachi_rest_server_busy_timeout": SHORT_TIMEOUT_SECONDS,
        "hitachi_rest_another_ldev_mapped_retry_timeout": SHORT_TIMEOUT_SECONDS,
        "hitachi_rest_keep_session_loop_interval": 180,
        "hitachi_rest_tcp_keepidle": 60,
        "hitachi_rest_tcp_keepintvl": 15,
        "hitachi_rest_tcp_keepcnt": 4,
    }
    values.update(overrides)

    return SimpleNamespace(**values)


@pytest.fixture
def cinder_client(rest_api: ModuleType, array_emulator: ArrayEmulator) -> Any:
    """cinder's client for the emulated array, logged in."""
    host, port = array_emulator.url.removeprefix("https://").rsplit(":", 1)
    client = rest_api.RestApiClient(
        driver_conf(),
        host,
        int(port),
        array_emulator.storage_device_id,
        array_emulator.credentials.user,
        array_emulator.credentials.password,
        "HBSD",
        None,
        verify=str(array_emulator.ca_file),
    )
    assert client.login() is True

    return client


def journal_lines(emulator: ArrayEmulator) -> list[tuple[str, str, int | None]]:
    """What cinder sent: method, last path segments and status, oldest first."""
    return [
        (e["method"], "/".join(e["path"].split("/")[-2:]), e["status"])
        for e in emulator.control.journal()
    ]


def test_cinder__login_and_session_check(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """cinder logs in on the storage-scoped URL and reads its session back."""
    session_id = cinder_client.get_my_session().id

    session = cinder_client.get_session(session_id)

    assert session["sessionId"] == session_id
    assert session["userId"] == "secadmin"
    login = array_emulator.control.journal()[0]
    assert login["path"].endswith("/storages/936000451139/sessions")


def test_cinder__lock_and_unlock(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """Nested lock calls take the lock once and release it once."""
    cinder_client.lock_resource_group()
    cinder_client.lock_resource_group()
    held = array_emulator.control.sessions()[0]["holdsLock"]
    cinder_client.unlock_resource_group()
    cinder_client.unlock_resource_group()

    assert held is True
    assert array_emulator.control.sessions()[0]["holdsLock"] is False
    assert [line for line in journal_lines(array_emulator) if "invoke" in line[1]] == [
        ("PUT", "lock/invoke", 202),
        ("PUT", "unlock/invoke", 202),
    ]


def test_cinder__backup_with_its_json_accept_is_refused_at_once(
    cinder_client: Any, rest_api: ModuleType, array_emulator: ArrayEmulator
) -> None:
    """cinder's fixed Accept: application/json gets 406, which it does not retry."""
    url = f"{cinder_client.object_url}{BACKUP.split('/objects', 1)[1]}"
    body = {"parameters": {"password": BACKUP_PASSWORD}}

    with pytest.raises(rest_api.exception.VolumeDriverException) as caught:
        cinder_client._request("POST", url, body=body)

    assert "KART40039-E" in str(caught.value)
    assert journal_lines(array_emulator)[-1] == ("POST", "backup/invoke", 406)
    assert len(array_emulator.control.journal()) == 2


def test_cinder__backup_with_octet_stream_accept(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """With its Accept header set to octet-stream, cinder's machinery gets the file."""
    cinder_client.headers["accept"] = OCTET_STREAM
    url = f"{cinder_client.object_url}{BACKUP.split('/objects', 1)[1]}"
    body = {"parameters": {"password": BACKUP_PASSWORD}}

    reply, error = cinder_client._request("POST", url, body=body)

    assert error == {}
    assert isinstance(reply, str) and reply  # cinder decodes the file as text
    assert journal_lines(array_emulator)[-1] == ("POST", "backup/invoke", 200)


def test_cinder__busy_answer_is_retried(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """Two injected KART00003-E answers: cinder waits and retries until it works."""
    array_emulator.control.add_fault(
        path="*/sessions/*", situation="server_busy", retry_after=1, times=2
    )
    session_id = cinder_client.get_my_session().id

    session = cinder_client.get_session(session_id)

    assert session["sessionId"] == session_id
    statuses = [line[2] for line in journal_lines(array_emulator)]
    assert statuses == [200, 503, 503, 200]


def test_cinder__lock_held_elsewhere_is_retried_until_released(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """cinder retries KART40050-E while another session holds the lock."""
    array_emulator.control.hold_lock(user="maintenance")
    release = threading.Timer(0.5, array_emulator.control.release_lock)
    release.start()

    cinder_client.lock_resource_group(waittime=0)
    release.join()

    locks = [line for line in journal_lines(array_emulator) if "lock/invoke" in line[1]]
    assert locks[0] == ("PUT", "lock/invoke", 409)
    assert locks[-1] == ("PUT", "lock/invoke", 202)
    cinder_client.unlock_resource_group()


def test_cinder__lock_held_elsewhere_times_out(
    cinder_client: Any, rest_api: ModuleType, array_emulator: ArrayEmulator
) -> None:
    """With the lock never released, cinder gives up after its lock timeout."""
    cinder_client.conf.hitachi_lock_timeout = 0.5
    array_emulator.control.hold_lock(user="maintenance")

    with pytest.raises(rest_api.exception.VolumeDriverException) as caught:
        cinder_client.lock_resource_group(waittime=0)

    assert "KART40050-E" in str(caught.value)


def test_cinder__expired_token_leads_to_relogin(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """On a 401, cinder probes its session, logs in again and repeats the request."""
    old = cinder_client.get_my_session().id
    array_emulator.control.expire_session(old)

    cinder_client.lock_resource_group()

    new = cinder_client.get_my_session().id
    assert new != old
    assert journal_lines(array_emulator)[1:] == [
        ("PUT", "lock/invoke", 401),
        ("GET", f"sessions/{old}", 401),
        ("POST", "936000451139/sessions", 200),
        ("PUT", "lock/invoke", 202),
    ]
    cinder_client.unlock_resource_group()


def test_cinder__careful_run_has_no_finding(
    cinder_client: Any, array_emulator: ArrayEmulator
) -> None:
    """Login, lock, unlock and an explicit discard leave no conformance finding."""
    cinder_client.lock_resource_group()
    cinder_client.unlock_resource_group()
    session_id = cinder_client.get_my_session().id
    cinder_client._request(
        "DELETE", f"{cinder_client.object_url}/sessions/{session_id}"
    )

    assert array_emulator.conformance()["findings"] == []
