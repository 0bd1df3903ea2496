"""Encryption keys over real HTTPS: list, get, create, delete, counts, restore."""

from __future__ import annotations

import pytest

from emulator import backup_file
from tests.support import (
    BACKUP_PASSWORD,
    OBJECTS,
    RESTORE,
    VIEWER,
    ArrayClient,
    assert_error,
)

KEYS = f"{OBJECTS}/encryption-keys"
COUNTS = f"{OBJECTS}/encryption-key-counts/instance"
KEY_FIELDS = {
    "keyId",
    "createdTime",
    "keyType",
    "uuid",
    "targetDeviceLocation",
    "keyGeneratedLocation",
    "numOfBackups",
}


def get(client: ArrayClient, session, path: str, **params):
    """GET a path with the session's token."""
    return client.request("GET", path, headers=client.auth(session), params=params)


@pytest.mark.parametrize(
    ("key_type", "expected"),
    [("DEK", 8), ("CEK", 2), ("KEK", 1), ("FREE", 53), ("DEKANDFREE", 61)],
)
def test_list__by_type(client: ArrayClient, key_type: str, expected: int) -> None:
    """The list holds the keys of the asked type, with the documented fields."""
    session = client.login()

    items = get(client, session, KEYS, keyType=key_type).json()["data"]

    assert len(items) == expected
    assert all(set(i) == KEY_FIELDS for i in items)
    assert all(isinstance(i["keyId"], str) and i["uuid"] == "-" for i in items)


def test_list__start_and_count(client: ArrayClient) -> None:
    """startKeyId and count page through the keys in ID order."""
    session = client.login()

    items = get(client, session, KEYS, keyType="FREE", startKeyId=20, count=3)

    assert [i["keyId"] for i in items.json()["data"]] == ["20", "21", "22"]


def test_list__created_time_filter(client: ArrayClient) -> None:
    """Keys created outside the time window are left out."""
    session = client.login()
    client.request("POST", KEYS, headers=client.auth(session), json={"count": 1})

    old = get(
        client,
        session,
        KEYS,
        keyType="FREE",
        startCreatedTime="2025-01-01T00:00:00Z",
        endCreatedTime="2026-02-01T00:00:00Z",
    )

    assert len(old.json()["data"]) == 53


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"keyType": "XYZ"},
        {"keyType": "DEK", "startKeyId": "4096"},
        {"keyType": "DEK", "startKeyId": "abc"},
        {"keyType": "DEK", "count": "0"},
        {"keyType": "DEK", "count": "1025"},
        {"keyType": "DEK", "startCreatedTime": "yesterday"},
        {
            "keyType": "DEK",
            "startCreatedTime": "2026-02-01T00:00:00Z",
            "endCreatedTime": "2026-01-01T00:00:00Z",
        },
    ],
)
def test_list__bad_query(client: ArrayClient, params: dict) -> None:
    """A missing or bad query parameter gets 400."""
    session = client.login()

    assert_error(get(client, session, KEYS, **params), 400)


def test_list__role(client: ArrayClient) -> None:
    """Listing keys needs Security Administrator (View Only) or more."""
    assert_error(get(client, client.login(VIEWER), KEYS, keyType="DEK"), 403)


def test_get__dek_and_free(client: ArrayClient) -> None:
    """A DEK shows its drive; a FREE key shows '-'."""
    session = client.login()

    dek = get(client, session, f"{KEYS}/0").json()
    free = get(client, session, f"{KEYS}/20").json()

    assert (dek["keyType"], dek["targetDeviceLocation"]) == ("DEK", "HDD00-00")
    assert (free["keyType"], free["targetDeviceLocation"]) == ("FREE", "-")
    assert dek["keyGeneratedLocation"] == "DKC"


@pytest.mark.parametrize("key_id", ["8", "10", "4000", "4096", "abc", "-1"])
def test_get__not_found(client: ArrayClient, key_id: str) -> None:
    """CEKs, the KEK, unused IDs and non-numbers are not found."""
    assert_error(get(client, client.login(), f"{KEYS}/{key_id}"), 404, "KART30013-E")


def test_get__no_material(client: ArrayClient) -> None:
    """No reply ever carries key material."""
    session = client.login()
    material = client.array.keys[0].material

    for reply in (
        get(client, session, f"{KEYS}/0"),
        get(client, session, KEYS, keyType="DEKANDFREE"),
    ):
        assert material.hex() not in reply.text


def test_create__job_and_keys(client: ArrayClient) -> None:
    """Creating keys adds FREE keys and answers a job without affectedResources."""
    session = client.login()

    reply = client.request(
        "POST", KEYS, headers=client.auth(session), json={"count": 3}
    )

    assert reply.status_code == 202
    assert reply.json()["affectedResources"] == []
    counts = get(client, session, COUNTS).json()
    assert (counts["numOfKeys"], counts["numOfFreeKeys"]) == (67, 56)


def test_create__limit(client: ArrayClient) -> None:
    """Keys past 4096 are refused and nothing is created."""
    session = client.login()
    headers = client.auth(session)

    refused = client.request("POST", KEYS, headers=headers, json={"count": 4033})
    filled = client.request("POST", KEYS, headers=headers, json={"count": 4032})

    assert_error(refused, 400)
    assert filled.status_code == 202
    assert len(client.array.keys) == 4096


@pytest.mark.parametrize(
    "body", [{}, {"count": 0}, {"count": "3"}, {"count": True}, {"x": 1}]
)
def test_create__bad_body(client: ArrayClient, body: dict) -> None:
    """A missing, zero, or wrongly typed count gets 400."""
    session = client.login()

    reply = client.request("POST", KEYS, headers=client.auth(session), json=body)

    assert_error(reply, 400)


def test_create__locked(client: ArrayClient) -> None:
    """Creating keys is refused while the caller holds the lock."""
    session = client.login()
    client.lock(session)

    reply = client.request(
        "POST", KEYS, headers=client.auth(session), json={"count": 1}
    )

    assert_error(reply, 409)


def test_delete__free_key(client: ArrayClient) -> None:
    """Deleting a FREE key answers a job naming it, and the key is gone."""
    session = client.login()

    reply = client.request("DELETE", f"{KEYS}/30", headers=client.auth(session))

    assert reply.status_code == 202
    assert reply.json()["affectedResources"] == [f"{KEYS}/30"]
    assert_error(get(client, session, f"{KEYS}/30"), 404)


@pytest.mark.parametrize("key_id", ["0", "8", "10"])
def test_delete__not_free(client: ArrayClient, key_id: str) -> None:
    """DEKs, CEKs and the KEK cannot be deleted."""
    session = client.login()

    reply = client.request("DELETE", f"{KEYS}/{key_id}", headers=client.auth(session))

    assert_error(reply, 400)
    assert int(key_id) in client.array.keys


def test_delete__role(client: ArrayClient) -> None:
    """Deleting needs Security Administrator (View & Modify)."""
    session = client.login(VIEWER)

    assert_error(
        client.request("DELETE", f"{KEYS}/30", headers=client.auth(session)), 403
    )


def test_counts__fields(client: ArrayClient) -> None:
    """Key counts add up."""
    counts = get(client, client.login(), COUNTS).json()

    parts = ("numOfDeks", "numOfCeks", "numOfKeks", "numOfFreeKeys")
    assert counts["numOfKeys"] == sum(counts[p] for p in parts) == 64
    assert counts["maxNumOfKeys"] == 4096


@pytest.mark.parametrize("profile", ["vsp-g900-old", "vsp-g1500"])
def test_key_calls__microcode(make_client, profile: str) -> None:
    """Every key call answers 412 where the microcode lacks encryption support."""
    client = make_client(profile)
    session = client.login()
    headers = client.auth(session)

    replies = [
        get(client, session, KEYS, keyType="DEK"),
        get(client, session, f"{KEYS}/0"),
        get(client, session, COUNTS),
        client.request("POST", KEYS, headers=headers, json={"count": 1}),
        client.request("DELETE", f"{KEYS}/30", headers=headers),
    ]

    for reply in replies:
        assert_error(reply, 412)


def upload(client: ArrayClient, session, data: bytes, password: str = BACKUP_PASSWORD):
    """Send a backup file to the restore action."""
    return client.request(
        "POST",
        RESTORE,
        headers=client.auth(session),
        files={"file": ("backupfile.ekf", data, "application/octet-stream")},
        data={"password": password},
    )


def test_restore__brings_back_deleted_keys(client: ArrayClient) -> None:
    """Keys deleted after a backup come back from the file, with their material."""
    session = client.login()
    data = client.backup(session).content
    material = client.array.keys[30].material
    client.request("DELETE", f"{KEYS}/30", headers=client.auth(session))
    client.request("DELETE", f"{KEYS}/31", headers=client.auth(session))

    reply = upload(client, session, data)

    assert reply.status_code == 202
    assert sorted(reply.json()["affectedResources"]) == [f"{KEYS}/30", f"{KEYS}/31"]
    assert client.array.keys[30].material == material


def test_restore__wrong_password(client: ArrayClient) -> None:
    """A password that does not open the file gets 400; nothing changes."""
    session = client.login()
    data = client.backup(session).content
    client.request("DELETE", f"{KEYS}/30", headers=client.auth(session))

    reply = upload(client, session, data, password="another-one")

    body = assert_error(reply, 400)
    assert "password" in body["message"]
    assert 30 not in client.array.keys


def test_restore__damaged_file(client: ArrayClient) -> None:
    """A flipped bit or a truncated file gets 400."""
    session = client.login()
    data = bytearray(client.backup(session).content)
    flipped = bytes(data[:-5]) + bytes([data[-5] ^ 1]) + bytes(data[-4:])

    for damaged in (flipped, bytes(data[: len(data) // 2]), b"not a backup file"):
        assert_error(upload(client, session, damaged), 400)


def test_restore__json_body_refused(client: ArrayClient) -> None:
    """Restore takes multipart/form-data: a JSON body gets 415."""
    session = client.login()

    reply = client.request(
        "POST",
        RESTORE,
        headers=client.auth(session),
        json={"parameters": {"password": BACKUP_PASSWORD}},
    )

    assert_error(reply, 415)


def test_restore__missing_parts(client: ArrayClient) -> None:
    """A missing file or password gets 400."""
    session = client.login()
    headers = client.auth(session)
    data = client.backup(session).content

    no_password = client.request(
        "POST", RESTORE, headers=headers, files={"file": ("f.ekf", data)}
    )
    no_file = client.request(
        "PUT",
        RESTORE,
        headers=headers,
        files={"other": ("x", b"x")},
        data={"password": BACKUP_PASSWORD},
    )

    assert_error(no_password, 400, "KART40046-E")
    assert_error(no_file, 400)


def test_restore__job_records_no_secret(client: ArrayClient) -> None:
    """The restore job's request body is empty: no password, no key set."""
    session = client.login()
    data = client.backup(session).content

    job = upload(client, session, data).json()

    assert job["request"]["requestBody"] == ""
    assert BACKUP_PASSWORD not in str(job)


def test_backup_file__roundtrip_by_helper(client: ArrayClient) -> None:
    """The file lists the same keys the API lists."""
    session = client.login()
    data = client.backup(session).content

    records = backup_file.open_backup(data, BACKUP_PASSWORD)

    listed = get(client, session, KEYS, keyType="DEKANDFREE").json()["data"]
    free_and_dek = {r.key_id for r in records if r.key_type in ("DEK", "FREE")}
    assert free_and_dek == {int(i["keyId"]) for i in listed}
