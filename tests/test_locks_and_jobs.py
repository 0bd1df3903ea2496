"""Resource locks and jobs over real HTTPS."""

from __future__ import annotations

import threading

from emulator.model.jobs import JobPolicy
from tests.support import (
    LOCK,
    OBJECTS,
    SECADMIN,
    VIEWER,
    ArrayClient,
    assert_error,
)

GROUPS = f"{OBJECTS}/resource-groups"


def groups(client: ArrayClient, session) -> list[dict]:
    """The resource groups as the session sees them."""
    return client.request("GET", GROUPS, headers=client.auth(session)).json()["data"]


def test_lock__job_and_groups(client: ArrayClient) -> None:
    """Locking answers 202 with a job, and resource groups show the lock."""
    session = client.login()

    reply = client.lock(session)

    assert reply.status_code == 202
    job = reply.json()
    assert isinstance(job["jobId"], int) and job["jobId"] > 0
    assert job["self"].endswith(f"/jobs/{job['jobId']}")
    assert (job["status"], job["state"]) == ("Completed", "Succeeded")
    group = groups(client, session)[0]
    assert group["lockStatus"] == "Locked"
    assert group["lockSessionId"] == session["sessionId"]


def test_lock__empty_body_means_no_wait(client: ArrayClient) -> None:
    """A lock with no body, as some clients send it, is a lock with waitTime 0."""
    session = client.login()

    reply = client.request("PUT", LOCK, headers=client.auth(session))

    assert reply.status_code == 202
    assert client.array.lock_holder == session["sessionId"]


def test_lock__held_by_other(client: ArrayClient) -> None:
    """A second session cannot lock; it gets a lock-family 409 after waitTime 0."""
    holder, other = client.login(), client.login()
    client.lock(holder)

    reply = client.lock(other)

    body = assert_error(reply, 409, "KART40050-E")
    assert str(holder["sessionId"]) in body["message"]
    assert client.array.lock_holder == holder["sessionId"]


def test_lock__same_user_other_session(client: ArrayClient) -> None:
    """Even the same user's other session cannot lock while one holds it."""
    first, second = client.login(SECADMIN), client.login(SECADMIN)
    client.lock(first)

    assert client.lock(second).status_code == 409


def test_lock__wait_time_waits_for_release(client: ArrayClient) -> None:
    """A waiting lock is granted when the holder unlocks within waitTime."""
    holder, waiter = client.login(), client.login()
    client.lock(holder)
    results = []
    thread = threading.Thread(target=lambda: results.append(client.lock(waiter, 5)))
    thread.start()

    client.unlock(holder)
    thread.join(timeout=10)

    assert results[0].status_code == 202
    assert client.array.lock_holder == waiter["sessionId"]


def test_lock__wait_time_range(client: ArrayClient) -> None:
    """waitTime outside 0-7200 or of the wrong type gets 400."""
    session = client.login()
    for value in (-1, 7201, "10", None, 1.5):
        body = {"parameters": {"waitTime": value}}
        reply = client.request("POST", LOCK, headers=client.auth(session), json=body)
        assert_error(reply, 400)


def test_lock__twice(client: ArrayClient) -> None:
    """A session asking for the lock it holds gets 409."""
    session = client.login()
    client.lock(session)

    assert_error(client.lock(session), 409)


def test_lock__basic_needs_session(client: ArrayClient) -> None:
    """A lock with Basic credentials alone is refused: it needs a session."""
    reply = client.request("POST", LOCK, auth=SECADMIN)

    assert_error(reply, 400)
    assert client.array.lock_holder is None


def test_unlock__only_holder(client: ArrayClient) -> None:
    """Only the locking session can unlock."""
    holder, other = client.login(), client.login()
    client.lock(holder)

    refused = client.unlock(other)
    done = client.unlock(holder)

    assert_error(refused, 409)
    assert done.status_code == 202
    assert groups(client, holder)[0]["lockStatus"] == "Unlocked"


def test_lock__expiry_releases(client: ArrayClient) -> None:
    """A holder whose session expires releases the lock."""
    client.array.clock.freeze()
    holder = client.login(aliveTime=5)
    client.lock(holder)
    other = client.login()
    client.array.clock.advance(6)
    client.request("GET", GROUPS, headers=client.auth(other))

    assert client.lock(other).status_code == 202


def test_lock__all_service_forms(client: ArrayClient) -> None:
    """The lock service answers under every services URL form."""
    device = client.array.profile.storage.storage_device_id
    session = client.login()
    suffix = "resource-group-service/actions"
    for base in (
        "/ConfigurationManager/v1/services",
        f"/ConfigurationManager/v1/{device}/services",
        f"/ConfigurationManager/v1/objects/storages/{device}/services",
    ):
        for method in ("POST", "PUT"):
            headers = client.auth(session)
            locked = client.request(
                method, f"{base}/{suffix}/lock/invoke", headers=headers
            )
            unlocked = client.request(
                method, f"{base}/{suffix}/unlock/invoke", headers=headers
            )
            assert (locked.status_code, unlocked.status_code) == (202, 202)


def test_job__readable_by_other_session_of_user(client: ArrayClient) -> None:
    """A job is readable by another session of the same user, not another user."""
    first, second, viewer = client.login(), client.login(), client.login(VIEWER)
    job_id = client.lock(first).json()["jobId"]
    path = f"{OBJECTS}/jobs/{job_id}"

    mine = client.request("GET", path, headers=client.auth(second))
    theirs = client.request("GET", path, headers=client.auth(viewer))

    assert mine.json()["jobId"] == job_id
    assert_error(theirs, 404)


def test_job__scoped_self_link(client: ArrayClient) -> None:
    """A job requested through a storage-scoped URL links back the same way."""
    device = client.array.profile.storage.storage_device_id
    session = client.login()
    base = f"{OBJECTS}/storages/{device}"

    reply = client.request(
        "POST",
        f"{base}/encryption-keys",
        headers=client.auth(session),
        json={"count": 1},
    )

    job = reply.json()
    assert job["self"] == f"{base}/jobs/{job['jobId']}"
    polled = client.request("GET", job["self"], headers=client.auth(session))
    assert polled.json()["jobId"] == job["jobId"]


def test_job__progress_after_polls(client: ArrayClient) -> None:
    """With a polls policy, the job completes after that many reads."""
    client.array.set_job_policy(JobPolicy(progress="polls", polls=2))
    session = client.login()
    job = client.lock(session).json()
    path = f"{OBJECTS}/jobs/{job['jobId']}"

    states = [
        client.request("GET", path, headers=client.auth(session)).json()["status"]
        for _ in range(3)
    ]

    assert job["status"] == "Initializing"
    assert states == ["Initializing", "Completed", "Completed"]


def test_job__progress_with_clock(client: ArrayClient) -> None:
    """With a seconds policy, the job completes when the clock has moved enough."""
    client.array.clock.freeze()
    client.array.set_job_policy(JobPolicy(progress="seconds", seconds=30))
    session = client.login()
    job = client.lock(session).json()
    path = f"{OBJECTS}/jobs/{job['jobId']}"

    before = client.request("GET", path, headers=client.auth(session)).json()
    client.array.clock.advance(30)
    after = client.request("GET", path, headers=client.auth(session)).json()

    assert (before["status"], before["state"]) == ("Initializing", "Queued")
    assert (after["status"], after["state"]) == ("Completed", "Succeeded")
    assert "completedTime" in after and "completedTime" not in before


def test_job__response_job_status_completed(client: ArrayClient) -> None:
    """With Response-Job-Status: Completed the 202 shows the finished job."""
    client.array.set_job_policy(JobPolicy(progress="seconds", seconds=0.2))
    session = client.login()
    headers = {
        **client.auth(session),
        "Response-Job-Status": "Completed;",
        "Response-Max-Wait": "10",
    }

    reply = client.request("POST", LOCK, headers=headers)

    assert reply.status_code == 202
    assert (reply.json()["status"], reply.json()["state"]) == ("Completed", "Succeeded")


def test_job__failed_with_ssb(client: ArrayClient) -> None:
    """A job told to fail ends Failed with the SSB codes, and changes nothing."""
    client.array.set_job_policy(JobPolicy(fail_ssb=("2E11", "2205")))
    session = client.login()

    job = client.request(
        "POST",
        f"{OBJECTS}/encryption-keys",
        headers=client.auth(session),
        json={"count": 2},
    ).json()

    assert (job["status"], job["state"]) == ("Completed", "Failed")
    assert job["error"]["errorCode"] == {"SSB1": "2E11", "SSB2": "2205"}
    assert job["error"]["messageId"].startswith("KART")
    assert len(client.array.keys) == 64


def test_job__unknown(client: ArrayClient) -> None:
    """An unknown job ID or a non-numeric one is a JSON 404."""
    session = client.login()
    for job_id in ("999999", "abc", "-1"):
        reply = client.request(
            "GET", f"{OBJECTS}/jobs/{job_id}", headers=client.auth(session)
        )
        assert_error(reply, 404)
