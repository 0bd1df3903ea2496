"""The backup endpoint over real HTTPS: success, and every row of DESIGN.md's table."""

from __future__ import annotations

import json

import pytest
import requests

from emulator import backup_file
from tests.support import (
    BACKUP,
    BACKUP_PASSWORD,
    LOCK_FAMILY,
    OBJECTS,
    OCTET,
    VIEWER,
    ArrayClient,
    assert_error,
)


def test_backup__success_headers(client: ArrayClient) -> None:
    """A backup answers 200 with the documented headers and the file as body."""
    session = client.login()

    reply = client.backup(session)

    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == OCTET
    assert reply.headers["Content-Disposition"].startswith("attachment")
    assert 'filename="' in reply.headers["Content-Disposition"]
    assert int(reply.headers["Content-Length"]) == len(reply.content) > 0
    assert BACKUP_PASSWORD.encode() not in reply.content


def test_backup__file_opens_with_password(client: ArrayClient) -> None:
    """The file holds every key of the array, material included."""
    session = client.login()

    data = client.backup(session).content

    keys = backup_file.open_backup(data, BACKUP_PASSWORD)
    assert {k.key_id for k in keys} == set(client.array.keys)
    for record in keys:
        assert record.material == client.array.keys[record.key_id].material
    with pytest.raises(backup_file.WrongPassword):
        backup_file.open_backup(data, "another-password")


def test_backup__counts_num_of_backups(client: ArrayClient) -> None:
    """Each successful backup adds one to every key's numOfBackups."""
    session = client.login()
    client.backup(session)
    client.backup(session)
    client.backup(session, password="x")

    reply = client.request(
        "GET", f"{OBJECTS}/encryption-keys/0", headers=client.auth(session)
    )

    assert reply.json()["numOfBackups"] == 2


def test_backup__put_is_the_same(client: ArrayClient) -> None:
    """PUT on the invoke URL backs up like POST."""
    session = client.login()

    reply = client.backup(session, method="PUT")

    assert reply.status_code == 200
    assert backup_file.open_backup(reply.content, BACKUP_PASSWORD)


def test_backup__reproducible_under_seed(make_client) -> None:
    """Two emulators of one seeded profile write identical first backup files."""
    first, second = make_client(), make_client()
    files = []
    for each in (first, second):
        each.array.clock.freeze()
        files.append(each.backup(each.login()).content)

    assert files[0] == files[1]


@pytest.mark.parametrize(
    "authorization",
    [None, "Session 00000000000000000000000000000000", "Session", "Bearer abc", "junk"],
)
def test_backup__token_invalid(client: ArrayClient, authorization: str | None) -> None:
    """A missing, unknown or malformed token gets 401 with the Session realm."""
    headers = {"Accept": OCTET}
    if authorization is not None:
        headers["Authorization"] = authorization

    reply = client.request("POST", BACKUP, headers=headers, json={})

    body = assert_error(reply, 401, "KART40047-E")
    assert body["message"].startswith("The specified token is invalid")
    assert reply.headers["WWW-Authenticate"] == 'Session realm="Block storage"'


def test_backup__discarded_token(client: ArrayClient) -> None:
    """A token whose session was discarded is refused like an unknown one."""
    session = client.login()
    path = f"{OBJECTS}/sessions/{session['sessionId']}"
    assert client.request("DELETE", path, headers=client.auth(session)).ok

    reply = client.backup(session)

    assert_error(reply, 401, "KART40047-E")


def test_backup__expired_token(client: ArrayClient) -> None:
    """A session idle longer than its aliveTime is gone."""
    client.array.clock.freeze()
    session = client.login(aliveTime=10)
    client.array.clock.advance(11)

    reply = client.backup(session)

    assert_error(reply, 401, "KART40047-E")


def test_backup__basic_auth_accepted(client: ArrayClient) -> None:
    """Basic credentials work on the backup too, as seen on a real array."""
    reply = client.request(
        "PUT",
        BACKUP,
        auth=("secadmin", "secadmin-pass"),
        headers={"Accept": OCTET},
        json={"parameters": {"password": BACKUP_PASSWORD}},
    )

    assert reply.status_code == 200
    assert not client.array.sessions


def test_backup__wrong_basic_credentials(client: ArrayClient) -> None:
    """Wrong Basic credentials get 401 with the Basic realm."""
    reply = client.request(
        "POST", BACKUP, auth=("secadmin", "nope-nope"), headers={"Accept": OCTET}
    )

    assert_error(reply, 401)
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="Block storage"'


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/*",
        OCTET,
        "application/json, application/octet-stream;q=0.5",
        "text/html;q=0.9, */*;q=0.1",
    ],
)
def test_backup__accept_admits_octet_stream(client: ArrayClient, accept) -> None:
    """Any Accept that admits application/octet-stream gets the file."""
    reply = client.backup(client.login(), accept=accept)

    assert reply.status_code == 200


@pytest.mark.parametrize(
    "accept",
    ["application/json", "text/plain", "application/octet-stream;q=0", "image/*"],
)
def test_backup__not_acceptable(client: ArrayClient, accept: str) -> None:
    """An Accept that refuses application/octet-stream gets a JSON 406."""
    reply = client.backup(client.login(), accept=accept)

    assert_error(reply, 406)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded"],
)
def test_backup__unsupported_media_type(client: ArrayClient, content_type) -> None:
    """A body that is not JSON by its Content-Type gets 415."""
    session = client.login()
    body = json.dumps({"parameters": {"password": BACKUP_PASSWORD}})

    reply = client.request(
        "POST",
        BACKUP,
        data=body,
        headers={**client.auth(session), "Accept": OCTET, "Content-Type": content_type},
    )

    assert_error(reply, 415)


def test_backup__missing_content_type_means_json(client: ArrayClient) -> None:
    """A JSON body without Content-Type is taken as JSON."""
    session = client.login()
    body = json.dumps({"parameters": {"password": BACKUP_PASSWORD}}).encode()
    prepared = requests.Request(
        "POST", client.url(BACKUP), data=body, headers=client.auth(session)
    ).prepare()
    prepared.headers.pop("Content-Type", None)

    reply = client.http.send(prepared, timeout=30, verify=client.ca)

    assert "Content-Type" not in prepared.headers
    assert reply.status_code == 200


def test_backup__role_lacking(client: ArrayClient) -> None:
    """A user without Security Administrator (View & Modify) gets 403."""
    reply = client.backup(client.login(VIEWER))

    body = assert_error(reply, 403)
    assert "Security Administrator (View & Modify)" in body["message"]


@pytest.mark.parametrize(
    ("body", "message_id"),
    [
        ({}, "KART40046-E"),
        ({"parameters": {}}, "KART40046-E"),
        ({"password": BACKUP_PASSWORD}, "KART40038-E"),
        ({"parameters": {"password": BACKUP_PASSWORD, "x": 1}}, "KART40038-E"),
        ({"parameters": {"password": 123456}}, None),
        ({"parameters": {"password": None}}, None),
        ({"parameters": {"password": ["abcdefg"]}}, None),
        ({"parameters": {"password": "short"}}, None),
        ({"parameters": {"password": "a" * 256}}, None),
        ({"parameters": {"password": "has space"}}, None),
        ({"parameters": {"password": "pässwörd"}}, None),
        ({"parameters": "backuppassword"}, None),
        ([], None),
    ],
)
def test_backup__invalid_body(client: ArrayClient, body, message_id) -> None:
    """Missing, unknown or badly typed attributes and bad passwords get 400."""
    session = client.login()

    reply = client.request(
        "POST", BACKUP, headers={**client.auth(session), "Accept": OCTET}, json=body
    )

    assert_error(reply, 400, message_id)


@pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe{}", b'{"parameters":'])
def test_backup__malformed_json(client: ArrayClient, raw: bytes) -> None:
    """A body that does not parse gets 400, never 500."""
    session = client.login()
    headers = {**client.auth(session), "Accept": OCTET}
    headers["Content-Type"] = "application/json"

    reply = client.request("POST", BACKUP, headers=headers, data=raw)

    assert_error(reply, 400)


def test_backup__empty_body(client: ArrayClient) -> None:
    """No body at all is a missing parameter."""
    session = client.login()

    reply = client.request(
        "POST", BACKUP, headers={**client.auth(session), "Accept": OCTET}
    )

    assert_error(reply, 400, "KART40046-E")


def test_backup__valid_password_edges(client: ArrayClient) -> None:
    """Passwords of 6 and 255 characters from the documented set are accepted."""
    session = client.login()
    symbols = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

    for password in ("abcdef", "Z" * 255, symbols, "aZ09" + symbols[:20]):
        assert client.backup(session, password=password).status_code == 200


@pytest.mark.parametrize("profile", ["vsp-g900-old", "vsp-g1500"])
def test_backup__microcode_unsupported(make_client, profile: str) -> None:
    """An array whose model or microcode lacks the backup answers 412."""
    client = make_client(profile)

    reply = client.backup(client.login())

    body = assert_error(reply, 412)
    assert client.array.profile.storage.model in body["message"]


def test_backup__locked_by_other_session(client: ArrayClient) -> None:
    """A lock held by another session gets 409 with a lock-family ID naming it."""
    holder, caller = client.login(), client.login()
    assert client.lock(holder).status_code == 202

    reply = client.backup(caller)

    body = assert_error(reply, 409)
    assert body["messageId"] in LOCK_FAMILY
    assert body["solutionType"] == "RETRY"
    assert str(holder["sessionId"]) in body["message"]


def test_backup__locked_by_own_session(client: ArrayClient) -> None:
    """A lock held by the caller's own session gets 409 with an ID not retried."""
    session = client.login()
    client.lock(session)

    reply = client.backup(session)

    body = assert_error(reply, 409)
    assert body["messageId"] not in LOCK_FAMILY
    assert body["solutionType"] == "SEE_ERROR_DETAIL"
    assert str(session["sessionId"]) in body["message"]


def test_backup__after_unlock(client: ArrayClient) -> None:
    """Once unlocked, the backup runs again."""
    session = client.login()
    client.lock(session)
    client.unlock(session)

    assert client.backup(session).status_code == 200


def test_backup__lock_released_by_discard(client: ArrayClient) -> None:
    """Discarding the holding session releases the lock."""
    holder, caller = client.login(), client.login()
    client.lock(holder)
    path = f"{OBJECTS}/sessions/{holder['sessionId']}"
    client.request("DELETE", path, headers=client.auth(holder))

    assert client.backup(caller).status_code == 200


def test_backup__body_too_large(client: ArrayClient) -> None:
    """A body past the limit gets 413 with the error object."""
    session = client.login()
    big = b'{"parameters": {"password": "' + b"a" * 2_000_000 + b'"}}'

    reply = client.request(
        "POST",
        BACKUP,
        data=big,
        headers={
            **client.auth(session),
            "Accept": OCTET,
            "Content-Type": "application/json",
        },
    )

    assert_error(reply, 413)


def test_backup__get_action_template_not_found(client: ArrayClient) -> None:
    """The backup has no action template: GET on the action is a JSON 404."""
    session = client.login()
    path = BACKUP.removesuffix("/invoke")

    reply = client.request("GET", path, headers=client.auth(session))

    assert_error(reply, 404, "KART30013-E")


def test_backup__wrong_method(client: ArrayClient) -> None:
    """GET on the invoke URL is a JSON 405 naming the allowed methods."""
    reply = client.request("GET", BACKUP)

    assert_error(reply, 405)
    assert {"POST", "PUT"} <= set(reply.headers["Allow"].replace(" ", "").split(","))


def test_backup__order_auth_before_negotiation(client: ArrayClient) -> None:
    """With no token and a JSON-only Accept, authentication fails first (401)."""
    reply = client.request(
        "POST", BACKUP, headers={"Accept": "application/json"}, data=b"{"
    )

    assert_error(reply, 401)


def test_backup__order_negotiation_before_role(client: ArrayClient) -> None:
    """A viewer with a JSON-only Accept gets 406 before 403."""
    reply = client.backup(client.login(VIEWER), accept="application/json")

    assert_error(reply, 406)


def test_backup__order_role_before_validation(client: ArrayClient) -> None:
    """A viewer with a bad password gets 403 before 400."""
    reply = client.backup(client.login(VIEWER), password="x")

    assert_error(reply, 403)


def test_backup__order_validation_before_state(make_client) -> None:
    """A bad password on an unsupported, locked array gets 400 first."""
    client = make_client("vsp-g900-old")
    session = client.login()
    client.lock(session)

    reply = client.backup(session, password="x")

    assert_error(reply, 400)


def test_backup__order_microcode_before_lock(make_client) -> None:
    """On old microcode with the lock held, 412 comes before 409."""
    client = make_client("vsp-g900-old")
    session = client.login()
    client.lock(session)

    assert_error(client.backup(session), 412)
