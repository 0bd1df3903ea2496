"""Version, storage information, and every URL form the array's clients use."""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.support import OBJECTS, ROOT, ArrayClient, assert_error

STORAGE_FIELDS = {
    "storageDeviceId",
    "model",
    "serialNumber",
    "ctl1Ip",
    "ctl2Ip",
    "dkcMicroVersion",
    "communicationModes",
    "isSecure",
    "targetCtl",
    "usesSvp",
    "lanConnectionProtocol",
}


def test_version__no_auth(client: ArrayClient) -> None:
    """The version API needs no credentials."""
    reply = client.request("GET", f"{ROOT}/configuration/version")

    assert reply.json() == {
        "productName": "Configuration Manager REST API",
        "apiVersion": "1.22.0",
    }


def test_storages__no_auth(client: ArrayClient) -> None:
    """The storage list needs no credentials and reports the address used."""
    reply = client.request("GET", f"{OBJECTS}/storages")

    entry = reply.json()["data"][0]
    assert entry["storageDeviceId"] == "936000451139"
    assert entry["serialNumber"] == 451139
    assert entry["model"] == "VSP E990"
    assert entry["ctl1Ip"] == "127.0.0.1"


@pytest.mark.parametrize("storage_id", ["instance", "936000451139"])
def test_storage__detail(client: ArrayClient, storage_id: str) -> None:
    """storages/instance and storages/{id} give the same detailed object."""
    session = client.login()

    reply = client.request(
        "GET", f"{OBJECTS}/storages/{storage_id}", headers=client.auth(session)
    )

    assert set(reply.json()) == STORAGE_FIELDS
    assert reply.json()["dkcMicroVersion"] == "93-07-23/00"


def test_storage__detail_version(client: ArrayClient) -> None:
    """detailInfoType=version adds the detailed microcode versions."""
    session = client.login()

    reply = client.request(
        "GET",
        f"{OBJECTS}/storages/instance",
        headers=client.auth(session),
        params={"detailInfoType": "version"},
    )

    body = reply.json()
    assert {"detailDkcMicroVersion", "ctl1MicroVersion", "ctl2MicroVersion"} <= set(
        body
    )


def test_storage__needs_auth(client: ArrayClient) -> None:
    """storages/instance needs credentials."""
    assert_error(client.request("GET", f"{OBJECTS}/storages/instance"), 401)


def test_storage__foreign_id(client: ArrayClient) -> None:
    """Another array's storageDeviceId is a JSON 404, never KART30070-E."""
    session = client.login()

    for path in (
        f"{OBJECTS}/storages/900000061726",
        f"{OBJECTS}/storages/900000061726/sessions",
        f"{ROOT}/v1/900000061726/services/resource-group-service/actions/lock/invoke",
    ):
        body = assert_error(
            client.request(
                "POST" if "invoke" in path else "GET",
                path,
                headers=client.auth(session),
            ),
            404,
        )
        assert body["messageId"] != "KART30070-E"


@pytest.mark.parametrize(
    "path",
    [
        "sessions",
        "encryption-keys?keyType=DEK",
        "encryption-keys/0",
        "encryption-key-counts/instance",
        "resource-groups",
    ],
)
def test_forms__scoped_same_as_plain(client: ArrayClient, path: str) -> None:
    """Each object answers the same through the plain and storage-scoped forms."""
    session = client.login()
    scoped = f"{OBJECTS}/storages/936000451139/{path}"

    plain = client.request("GET", f"{OBJECTS}/{path}", headers=client.auth(session))
    other = client.request("GET", scoped, headers=client.auth(session))

    assert plain.status_code == other.status_code == 200
    assert plain.json() == other.json()


def test_forms__scoped_backup_and_sessions(client: ArrayClient) -> None:
    """Sessions and the backup work storage-scoped, with POST and PUT."""
    base = f"{OBJECTS}/storages/936000451139"
    reply = client.request(
        "POST", f"{base}/sessions/", auth=("secadmin", "secadmin-pass")
    )
    session = reply.json()

    for method in ("POST", "PUT"):
        backup = client.backup(
            session,
            method=method,
            path=f"{base}/encryption-keys/file/actions/backup/invoke",
        )
        assert backup.status_code == 200


def test_forms__trailing_slash_everywhere(client: ArrayClient) -> None:
    """A trailing slash on any resource answers without a redirect."""
    session = client.login()

    reply = client.request(
        "GET",
        f"{OBJECTS}/storages/instance/",
        headers=client.auth(session),
        allow_redirects=False,
    )

    assert reply.status_code == 200


def test_forms__absolute_form_target(client: ArrayClient) -> None:
    """A request line with an absolute URL is served like its path."""
    context = ssl.create_default_context(cafile=client.ca)
    target = f"{client.server.url}{ROOT}/configuration/version"
    request = f"GET {target} HTTP/1.1\r\nHost: elsewhere\r\nConnection: close\r\n\r\n"

    raw = socket.create_connection(("127.0.0.1", client.server.port), timeout=10)
    with raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(request.encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 200")
    assert b"Configuration Manager REST API" in answer


@pytest.mark.parametrize(
    "path",
    [
        f"{ROOT}/simple/v1/objects/volumes",
        f"{ROOT}/v1/views/pools",
        f"{ROOT}/v2/objects/sessions",
        "/",
        f"{OBJECTS}/encryption-keys/kms/actions/backup/invoke",
    ],
)
def test_forms__out_of_scope_is_json_404(client: ArrayClient, path: str) -> None:
    """Paths outside the emulated API answer a JSON 404."""
    assert_error(client.request("GET", path), 404, "KART30013-E")


def test_response_headers(client: ArrayClient) -> None:
    """Replies carry the headers a real array sends, errors included."""
    for reply in (
        client.request("GET", f"{ROOT}/configuration/version"),
        client.request("GET", f"{OBJECTS}/sessions"),
    ):
        assert reply.headers["Cache-Control"] == "no-store"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert reply.headers["Server"] == ""


def test_tls__version_1_2_only(client: ArrayClient) -> None:
    """The emulator speaks TLS 1.2, as VSP E does; TLS 1.3 alone is refused."""
    context = ssl.create_default_context(cafile=client.ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_3

    with (
        pytest.raises(ssl.SSLError),
        socket.create_connection(("127.0.0.1", client.server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1"),
    ):
        pass
