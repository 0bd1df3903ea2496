"""Who the target is: version, storage systems, the array in detail."""

from __future__ import annotations

import pytest

from contract_tests.checks import check_error_object, check_status, mime
from contract_tests.client import OBJECTS, ArrayClient, RawAuthorization
from contract_tests.failures import UnexpectedStatus
from contract_tests.target import INSTANCE_PATH, STORAGES_PATH, VERSION_PATH, Target

pytestmark = pytest.mark.read_only


def test_version__without_authentication(array_client: ArrayClient) -> None:
    """The API version answers without credentials, as documented."""
    reply = array_client.send("GET", VERSION_PATH, probe="version")

    check_status(reply, [200], rule="configuration/version needs no authentication")
    assert isinstance(reply.json, dict) and "apiVersion" in reply.json


def test_storages__list_names_the_model(
    array_client: ArrayClient, array_target: Target
) -> None:
    """The storage list names the model the probe found."""
    reply = array_client.send("GET", STORAGES_PATH, probe="storages")

    check_status(reply, [200], rule="the storage list answers without a session")
    models = [s.get("model") for s in reply.json["data"]]
    assert array_target.identity.model in models


def test_storage_instance__reports_microcode(
    array_client: ArrayClient, array_target: Target
) -> None:
    """storages/instance reports the storageDeviceId and dkcMicroVersion."""
    session = array_client.open_session()
    reply = array_client.send("GET", INSTANCE_PATH, probe="instance", auth=session.auth)

    check_status(reply, [200], rule="storages/instance answers a live session")
    assert reply.json["storageDeviceId"] == array_target.identity.storage_device_id
    assert reply.json["dkcMicroVersion"] == array_target.identity.microcode


def test_unknown_object__is_404_error_object(array_client: ArrayClient) -> None:
    """An unknown object answers 404 with the array's error object."""
    session = array_client.open_session()
    path = f"{OBJECTS}/no-such-objects"
    reply = array_client.send("GET", path, probe="unknown object", auth=session.auth)

    check_status(reply, [404], rule="an unknown object is 404")


def test_missing_token__is_401_error_object(array_client: ArrayClient) -> None:
    """A request that needs a session and sends none is 401 with an error object."""
    reply = array_client.send("GET", INSTANCE_PATH, probe="instance without token")

    check_status(reply, [401], rule="no Authorization header: 401")
    assert reply.headers.get("WWW-Authenticate"), "a 401 names its scheme"


def test_malformed_token__is_401(array_client: ArrayClient) -> None:
    """A token that no session ever had is 401."""
    auth = RawAuthorization("Session 0000")
    reply = array_client.send("GET", INSTANCE_PATH, probe="malformed token", auth=auth)

    if reply.status != 401:
        raise UnexpectedStatus(
            rule="an unknown token gets 401",
            expected="401",
            actual=reply.describe(),
            curl=reply.curl,
        )
    check_error_object(reply)
    assert mime(reply.headers.get("Content-Type")) == "application/json"
