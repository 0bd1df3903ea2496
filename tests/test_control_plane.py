"""The control plane over real HTTP: state, profile, clock, lock, sessions, jobs."""

from __future__ import annotations

import json

import pytest
import requests

from emulator.control import ControlSettings
from emulator.control.client import ControlClient, ControlError
from emulator.pytest_plugin import ArrayEmulator
from emulator.server import EmulatorServer, create_app
from tests.control_support import OBJECTS, ArrayUser


def test_index__lists_endpoints_and_profile(array_emulator: ArrayEmulator) -> None:
    """GET /_emulator names the profile and every control endpoint."""
    body = array_emulator.control.request("GET", "")

    assert body["profile"] == "vsp-e990"
    assert "POST /_emulator/faults" in body["endpoints"]


def test_reset__back_to_initial_state(array_emulator: ArrayEmulator) -> None:
    """Reset discards sessions, faults, the journal, and unfreezes the clock."""
    control = array_emulator.control
    ArrayUser(array_emulator).login()
    control.add_fault(path="/nowhere", status=503)
    control.freeze_clock()

    control.reset()

    assert control.sessions() == []
    assert control.faults() == []
    assert control.journal() == []
    assert control.clock()["frozen"] is False


def test_reset__needs_post(array_emulator: ArrayEmulator) -> None:
    """A GET on a state-changing call is refused with the array's 405 error object."""
    reply = requests.get(
        f"{array_emulator.url}/_emulator/reset", verify=array_emulator.ca_file
    )

    assert reply.status_code == 405
    assert reply.json()["messageId"] == "KART40036-E"


def test_state__snapshot_holds_no_secrets(array_emulator: ArrayEmulator) -> None:
    """By default a snapshot names sessions and keys but holds no token or material."""
    user = ArrayUser(array_emulator)
    user.login()
    snapshot = array_emulator.control.snapshot()
    text = json.dumps(snapshot)
    material = array_emulator.server.array.keys[0].material.hex()

    assert [s["sessionId"] for s in snapshot["sessions"]] == [user.session_id]
    assert user.token is not None and user.token not in text
    assert material not in text
    assert "secadmin-pass" not in text


def test_state__load_brings_back_sessions_lock_and_keys(
    array_emulator: ArrayEmulator,
) -> None:
    """A loaded snapshot restores the lock holder, backup counts and key material."""
    user = ArrayUser(array_emulator)
    user.login()
    assert user.backup().status_code == 200
    assert user.lock().status_code == 202
    array = array_emulator.server.array
    materials = {k: key.material for k, key in array.keys.items()}
    snapshot = array_emulator.control.snapshot()

    array_emulator.control.reset()
    array_emulator.control.load_state(snapshot)

    sessions = array_emulator.control.sessions()
    assert [s["sessionId"] for s in sessions] == [user.session_id]
    assert sessions[0]["holdsLock"] is True
    assert array.keys[0].num_of_backups == 1
    assert {k: key.material for k, key in array.keys.items()} == materials
    assert user.call("GET", f"{OBJECTS}/sessions").status_code == 401


def test_state__key_material_and_tokens_when_profile_asks(
    array_emulator: ArrayEmulator,
) -> None:
    """A profile with include_key_material and include_tokens saves both."""
    profile = (
        'name = "with-secrets"\nseed = 0\n'
        '[storage]\nmodel = "VSP E990"\nserial_number = 1\n'
        'storage_device_id = "936000000001"\ndkc_micro_version = "93-07-23/00"\n'
        'ctl1_micro_version = "x"\nctl2_micro_version = "x"\nsvp_ip = ""\n'
        'ctl1_ip = "auto"\nctl2_ip = "auto"\nis_secure = true\ntarget_ctl = "CTL1"\n'
        'uses_svp = false\nlan_connection_protocol = "IPv4"\n'
        '[[users]]\nname = "secadmin"\npassword = "secadmin-pass"\n'
        'roles = ["Security Administrator (View & Modify)",'
        ' "Storage Administrator (View Only)"]\n'
        "[state]\ninclude_key_material = true\ninclude_tokens = true\n"
    )
    array_emulator.control.set_profile_toml(profile)
    user = ArrayUser(array_emulator)
    user.login()
    material = array_emulator.server.array.keys[3].material
    snapshot = array_emulator.control.snapshot()

    array_emulator.control.load_state(snapshot)

    assert snapshot["keys"][3]["material"] == material.hex()
    assert array_emulator.server.array.keys[3].material == material
    assert user.call("GET", f"{OBJECTS}/sessions").status_code == 200


@pytest.mark.parametrize(
    ("snapshot", "parameter"),
    [
        ({"format": "other", "version": 1}, "format"),
        (
            {"format": "array-emulator-state", "version": 1, "profile": "nope"},
            "profile",
        ),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_state__bad_snapshot_is_refused(
    array_emulator: ArrayEmulator, snapshot: dict[str, object], parameter: str
) -> None:
    """A snapshot the emulator cannot load gets a 400 error object naming the field."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.load_state(snapshot)

    assert caught.value.status == 400
    assert parameter in caught.value.error["message"]


def test_state__malformed_json_is_400(array_emulator: ArrayEmulator) -> None:
    """A body that is not JSON gets the array's invalid-JSON error object."""
    reply = requests.post(
        f"{array_emulator.url}/_emulator/state",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        verify=array_emulator.ca_file,
    )

    assert reply.status_code == 400
    assert reply.json()["messageId"] == "KART40035-E"


def test_profile__switch_to_old_microcode_gives_412(
    array_emulator: ArrayEmulator,
) -> None:
    """Switching to the old-microcode profile makes the backup answer 412."""
    array_emulator.control.set_profile("vsp-g900-old")
    user = ArrayUser(array_emulator)
    user.login()

    reply = user.backup()

    assert reply.status_code == 412
    assert reply.headers["Content-Type"].startswith("application/json")


def test_profile__unknown_name_is_400(array_emulator: ArrayEmulator) -> None:
    """An unknown profile name is refused and the array keeps its profile."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.set_profile("vsp-nonesuch")

    assert caught.value.status == 400
    assert array_emulator.control.request("GET", "")["profile"] == "vsp-e990"


def test_microcode__old_version_gives_412_and_back(
    array_emulator: ArrayEmulator,
) -> None:
    """Only the microcode changes: key calls answer 412, then 200 once restored."""
    user = ArrayUser(array_emulator)
    user.login()
    counts = f"{OBJECTS}/encryption-key-counts/instance"

    array_emulator.control.set_microcode("93-01-01/00")
    refused = user.call("GET", counts).status_code
    array_emulator.control.set_microcode("93-07-23/00")

    assert refused == 412
    assert user.call("GET", counts).status_code == 200


def test_clock__advance_expires_idle_session(array_emulator: ArrayEmulator) -> None:
    """Advancing a frozen clock past aliveTime turns the token into a 401."""
    user = ArrayUser(array_emulator)
    user.login()
    control = array_emulator.control

    frozen = control.freeze_clock()
    control.advance_clock(301)
    reply = user.call("GET", f"{OBJECTS}/sessions")

    assert control.clock()["now"] == pytest.approx(frozen["now"] + 301)
    assert reply.status_code == 401
    assert reply.json()["messageId"] == "KART40047-E"


def test_clock__resume_runs_again(array_emulator: ArrayEmulator) -> None:
    """After resume the clock moves on from where it stood."""
    control = array_emulator.control
    control.freeze_clock()
    control.advance_clock(1000)

    resumed = control.resume_clock()

    assert resumed["frozen"] is False
    assert control.clock()["now"] >= resumed["now"]


@pytest.mark.parametrize("seconds", [-1, "ten", None])
def test_clock__advance_bad_seconds_is_400(
    array_emulator: ArrayEmulator, seconds: object
) -> None:
    """Advancing by a negative or non-numeric amount is refused."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.request("POST", "/clock/advance", {"seconds": seconds})

    assert caught.value.status == 400


def test_lock__held_elsewhere_blocks_backup_and_lock(
    array_emulator: ArrayEmulator,
) -> None:
    """A lock held by another session: backup 409 (retryable), lock 409 after wait."""
    user = ArrayUser(array_emulator)
    user.login()
    holder = array_emulator.control.hold_lock()

    backup = user.backup()
    lock = user.lock(wait_time=0)

    assert holder != user.session_id
    assert backup.status_code == 409
    assert backup.json()["messageId"] == "KART40052-E"
    assert lock.status_code == 409
    assert lock.json()["messageId"] == "KART40050-E"


def test_lock__release_lets_backup_through(array_emulator: ArrayEmulator) -> None:
    """Releasing the held lock discards the holder session; the backup then works."""
    user = ArrayUser(array_emulator)
    user.login()
    holder = array_emulator.control.hold_lock()

    array_emulator.control.release_lock()

    assert user.backup().status_code == 200
    assert holder not in [s["sessionId"] for s in array_emulator.control.sessions()]


def test_lock__release_of_client_lock_keeps_session(
    array_emulator: ArrayEmulator,
) -> None:
    """Releasing a client's own lock keeps the client's session alive."""
    user = ArrayUser(array_emulator)
    user.login()
    user.lock()

    array_emulator.control.release_lock()

    assert array_emulator.control.sessions()[0]["holdsLock"] is False
    assert user.call("GET", f"{OBJECTS}/sessions").status_code == 200


def test_lock__release_without_holder_is_409(array_emulator: ArrayEmulator) -> None:
    """Releasing a lock nobody holds is a conflict."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.release_lock()

    assert caught.value.status == 409


def test_lock__hold_unknown_user_is_400(array_emulator: ArrayEmulator) -> None:
    """Holding the lock as a user the profile lacks is refused."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.hold_lock(user="nobody")

    assert caught.value.status == 400


def test_session__expire_gives_401(array_emulator: ArrayEmulator) -> None:
    """An expired session's token answers 401, also on the session probe."""
    user = ArrayUser(array_emulator)
    user.login()

    array_emulator.control.expire_session(user.session_id or 0)
    probe = user.call("GET", f"{OBJECTS}/sessions/{user.session_id}")

    assert probe.status_code == 401
    assert probe.headers["WWW-Authenticate"].startswith("Session")


def test_session__expire_unknown_is_404(array_emulator: ArrayEmulator) -> None:
    """Expiring a session that does not exist is a 404 error object."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.expire_session(999)

    assert caught.value.status == 404
    assert caught.value.error["messageId"] == "KART30013-E"


def test_jobs__complete_after_polls(array_emulator: ArrayEmulator) -> None:
    """With progress "polls", a job completes on its second read."""
    array_emulator.control.set_job_policy("polls", polls=2)
    user = ArrayUser(array_emulator)
    user.login()
    job_id = user.lock().json()["jobId"]

    first = user.job(job_id).json()["status"]
    second = user.job(job_id).json()

    assert first == "Initializing"
    assert (second["status"], second["state"]) == ("Completed", "Succeeded")


def test_jobs__complete_after_clock_seconds(array_emulator: ArrayEmulator) -> None:
    """With progress "seconds", a job completes once the clock moved that far."""
    control = array_emulator.control
    control.freeze_clock()
    control.set_job_policy("seconds", seconds=30)
    user = ArrayUser(array_emulator)
    user.login()
    job_id = user.lock().json()["jobId"]

    before = user.job(job_id).json()["status"]
    control.advance_clock(30)

    assert before == "Initializing"
    assert user.job(job_id).json()["status"] == "Completed"


def test_jobs__fail_with_ssb(array_emulator: ArrayEmulator) -> None:
    """A failing job ends Failed with the given SSB codes and changes nothing."""
    array_emulator.control.set_job_policy(fail_ssb=("2E11", "2205"))
    user = ArrayUser(array_emulator)
    user.login()

    job = user.lock().json()

    assert job["state"] == "Failed"
    assert job["error"]["errorCode"] == {"SSB1": "2E11", "SSB2": "2205"}
    assert array_emulator.control.sessions()[0]["holdsLock"] is False


@pytest.mark.parametrize(
    "body",
    [{"progress": "later"}, {"polls": -1}, {"failSsb": ["B96B"]}, {"speed": 1}],
)
def test_jobs__bad_policy_is_400(
    array_emulator: ArrayEmulator, body: dict[str, object]
) -> None:
    """A job policy with an unknown mode or a bad value is refused."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.request("POST", "/jobs/policy", body)

    assert caught.value.status == 400


def test_unknown_control_path_is_404(array_emulator: ArrayEmulator) -> None:
    """An unknown control path gets the array's 404 error object."""
    with pytest.raises(ControlError) as caught:
        array_emulator.control.request("GET", "/nothing-here")

    assert caught.value.status == 404


def test_token__required_when_configured(tmp_path: object) -> None:
    """With a control token, requests without it or with a wrong one get 403."""
    app = create_app(control_settings=ControlSettings(token="s3cret-token"))
    with EmulatorServer(app) as server:
        missing = ControlClient(server.url)
        wrong = ControlClient(server.url, token="s3cret-tokem")
        right = ControlClient(server.url, token="s3cret-token")

        with pytest.raises(ControlError) as no_token:
            missing.clock()
        with pytest.raises(ControlError) as bad_token:
            wrong.clock()

        assert no_token.value.status == 403
        assert bad_token.value.status == 403
        assert "s3cret" not in json.dumps(bad_token.value.error)
        assert right.clock()["frozen"] is False


def test_no_control__404_json() -> None:
    """With the control plane off, /_emulator/ is an unknown object."""
    app = create_app(control_settings=ControlSettings(enabled=False))
    with EmulatorServer(app) as server:
        reply = requests.post(f"{server.url}/_emulator/reset", timeout=10)

    assert reply.status_code == 404
    assert reply.json()["messageId"] == "KART30013-E"


def test_loopback_only__other_address_is_403() -> None:
    """Without a token, a client from outside loopback is refused."""
    app = create_app()
    client = app.test_client()

    reply = client.get("/_emulator", environ_base={"REMOTE_ADDR": "192.0.2.7"})

    assert reply.status_code == 403
    assert reply.get_json()["messageId"] == "KART90001-E"
