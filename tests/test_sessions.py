"""Sessions over real HTTPS: generate, list, get, keep alive, discard, expire, cap."""

from __future__ import annotations

from importlib import resources

import requests

from tests.support import ADMIN, OBJECTS, SECADMIN, VIEWER, ArrayClient, assert_error

SESSIONS = f"{OBJECTS}/sessions"
SESSION_FIELDS = {"sessionId", "userId", "ipAddress", "createdTime", "lastAccessTime"}


def test_create__reply(client: ArrayClient) -> None:
    """A session reply holds a 32-hex token and an integer sessionId."""
    reply = client.request("POST", SESSIONS, auth=SECADMIN)

    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"token", "sessionId"}
    assert isinstance(body["sessionId"], int) and body["sessionId"] > 0
    assert len(body["token"]) == 32 and int(body["token"], 16) >= 0


def test_create__empty_json_body(client: ArrayClient) -> None:
    """An empty body under a JSON Content-Type is fine, as clients send it."""
    reply = client.request(
        "POST",
        SESSIONS,
        auth=SECADMIN,
        data=b"",
        headers={"Content-Type": "application/json"},
    )

    assert reply.status_code == 200


def test_create__trailing_slash(client: ArrayClient) -> None:
    """``sessions/`` names the same resource, without a redirect."""
    reply = client.request(
        "POST", f"{SESSIONS}/", auth=SECADMIN, json={}, allow_redirects=False
    )

    assert reply.status_code == 200


def test_create__alive_time(client: ArrayClient) -> None:
    """aliveTime and authenticationTimeout are taken within their ranges."""
    body = client.login(aliveTime=1, authenticationTimeout=900)

    assert client.array.sessions[body["sessionId"]].alive_time == 1


def test_create__out_of_range(client: ArrayClient) -> None:
    """aliveTime out of 1-300, a wrong type or an unknown field get 400."""
    for body in (
        {"aliveTime": 0},
        {"aliveTime": 301},
        {"aliveTime": "300"},
        {"authenticationTimeout": 901},
        {"unknown": 1},
    ):
        reply = client.request("POST", SESSIONS, auth=SECADMIN, json=body)
        assert_error(reply, 400)


def test_create__wrong_password(client: ArrayClient) -> None:
    """Wrong credentials at session creation get 401 with the Basic realm."""
    reply = client.request("POST", SESSIONS, auth=("secadmin", "wrong-pass"))

    assert_error(reply, 401)
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="Block storage"'


def test_create__token_is_not_enough(client: ArrayClient) -> None:
    """Session creation takes Basic credentials, not a token."""
    session = client.login()

    reply = client.request("POST", SESSIONS, headers=client.auth(session))

    assert_error(reply, 401)
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


def test_create__cap(client: ArrayClient) -> None:
    """The 65th session gets 503 with Retry-After and a RETRY solution."""
    for _ in range(64):
        client.login()

    reply = client.request("POST", SESSIONS, auth=SECADMIN)

    body = assert_error(reply, 503)
    assert body["solutionType"] == "RETRY"
    assert int(reply.headers["Retry-After"]) > 0
    assert "wait for a while and try again" in body["message"].lower()
    assert len(client.array.sessions) == 64


def test_create__cap_frees_on_discard(client: ArrayClient) -> None:
    """Discarding one session makes room for another."""
    sessions = [client.login() for _ in range(64)]
    first = sessions[0]
    client.request(
        "DELETE", f"{SESSIONS}/{first['sessionId']}", headers=client.auth(first)
    )

    assert client.request("POST", SESSIONS, auth=SECADMIN).status_code == 200


def test_list__own_sessions(client: ArrayClient) -> None:
    """A user lists its own sessions, without tokens."""
    mine = client.login()
    client.login(VIEWER)

    reply = client.request("GET", SESSIONS, headers=client.auth(mine))

    items = reply.json()["data"]
    assert [s["sessionId"] for s in items] == [mine["sessionId"]]
    assert set(items[0]) == SESSION_FIELDS
    assert mine["token"] not in reply.text


def test_list__administrator_sees_all(client: ArrayClient) -> None:
    """The administrator sees every user's sessions."""
    client.login(VIEWER)
    admin = client.login(ADMIN)

    reply = client.request("GET", SESSIONS, headers=client.auth(admin))

    assert {s["userId"] for s in reply.json()["data"]} == {"viewer", "maintenance"}


def test_get__one(client: ArrayClient) -> None:
    """GET sessions/{id} shows the session with ISO times in UTC."""
    session = client.login()

    reply = client.request(
        "GET", f"{SESSIONS}/{session['sessionId']}", headers=client.auth(session)
    )

    body = reply.json()
    assert body["userId"] == "secadmin"
    assert body["ipAddress"] == "127.0.0.1"
    assert body["createdTime"].endswith("Z")


def test_get__other_user_not_found(client: ArrayClient) -> None:
    """Another user's session is not found for a non-administrator."""
    other = client.login(VIEWER)
    mine = client.login()

    reply = client.request(
        "GET", f"{SESSIONS}/{other['sessionId']}", headers=client.auth(mine)
    )

    assert_error(reply, 404, "KART30013-E")


def test_get__dead_token_probe(client: ArrayClient) -> None:
    """A client probing its own session with a dead token gets 401, not 404."""
    session = client.login()
    client.array.expire_session(session["sessionId"])

    reply = client.request(
        "GET", f"{SESSIONS}/{session['sessionId']}", headers=client.auth(session)
    )

    assert_error(reply, 401, "KART40047-E")


def test_keep_alive__refreshes(client: ArrayClient) -> None:
    """PATCH on a session refreshes it, so it outlives its idle time."""
    client.array.clock.freeze()
    session = client.login(aliveTime=10)
    path = f"{SESSIONS}/{session['sessionId']}"
    for _ in range(3):
        client.array.clock.advance(8)
        assert client.request("PATCH", path, headers=client.auth(session)).ok

    client.array.clock.advance(11)

    assert_error(client.request("GET", path, headers=client.auth(session)), 401)


def test_idle_refresh_by_any_call(client: ArrayClient) -> None:
    """Any authenticated call refreshes the session's idle time."""
    client.array.clock.freeze()
    session = client.login(aliveTime=10)
    for _ in range(3):
        client.array.clock.advance(9)
        reply = client.request("GET", SESSIONS, headers=client.auth(session))
        assert reply.status_code == 200


def test_discard__reply_200(client: ArrayClient) -> None:
    """Discarding answers 200 (not 204) and the token dies."""
    session = client.login()
    path = f"{SESSIONS}/{session['sessionId']}"

    reply = client.request("DELETE", path, headers=client.auth(session))

    assert reply.status_code == 200
    assert_error(client.request("GET", SESSIONS, headers=client.auth(session)), 401)


def test_discard__force_other_user(client: ArrayClient) -> None:
    """The administrator discards another user's session with force."""
    victim = client.login(VIEWER)
    admin = client.login(ADMIN)
    path = f"{SESSIONS}/{victim['sessionId']}"

    refused = client.request(
        "DELETE", path, headers=client.auth(admin), json={"force": False}
    )
    forced = client.request(
        "DELETE", path, headers=client.auth(admin), json={"force": True}
    )

    assert_error(refused, 400)
    assert forced.status_code == 200
    assert victim["sessionId"] not in client.array.sessions


def test_discard__other_user_not_found(client: ArrayClient) -> None:
    """A non-administrator cannot even see another user's session to discard it."""
    victim = client.login(VIEWER)
    mine = client.login()

    reply = client.request(
        "DELETE",
        f"{SESSIONS}/{victim['sessionId']}",
        headers=client.auth(mine),
        json={"force": True},
    )

    assert_error(reply, 404)
    assert victim["sessionId"] in client.array.sessions


def test_discard__bad_force(client: ArrayClient) -> None:
    """force must be a boolean."""
    session = client.login()

    reply = client.request(
        "DELETE",
        f"{SESSIONS}/{session['sessionId']}",
        headers=client.auth(session),
        json={"force": "yes"},
    )

    assert_error(reply, 400)


def test_basic_on_any_request(client: ArrayClient) -> None:
    """Basic credentials work on a GET, and take no session slot."""
    reply = client.request("GET", SESSIONS, auth=SECADMIN)

    assert reply.status_code == 200
    assert client.array.sessions == {}


def test_basic_on_any_request__profile_off(make_client, tmp_path) -> None:
    """A profile may turn Basic-on-any-request off: then only tokens work."""
    profile = tmp_path / "strict.toml"
    source = client_profile_text() + "\n[sessions]\nbasic_auth_on_any_request = false\n"
    profile.write_text(source)
    client = make_client(profile)

    reply = client.request("GET", SESSIONS, auth=SECADMIN)

    assert_error(reply, 401, "KART40047-E")


def client_profile_text() -> str:
    """The default profile's TOML text."""
    path = resources.files("emulator.fixtures").joinpath("profiles/vsp-e990.toml")

    return path.read_text("utf-8")


def test_authorization_without_space(client: ArrayClient) -> None:
    """``Authorization:Session <token>`` as the vendor's curl writes it works."""
    session = client.login()
    prepared = requests.Request("GET", client.url(SESSIONS)).prepare()
    prepared.headers["Authorization"] = f"Session {session['token']}"

    reply = client.http.send(prepared, timeout=30, verify=client.ca)

    assert reply.status_code == 200
