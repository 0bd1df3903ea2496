"""Many real clients at once: no lost update, the cap and the lock hold exactly."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support import OBJECTS, SECADMIN, ArrayClient

CLIENTS = 16
ROUNDS = 6


def test_concurrent__session_cap_exact(client: ArrayClient) -> None:
    """Of 80 simultaneous logins exactly 64 succeed and 16 get 503."""
    barrier = threading.Barrier(20)

    def attempt(_: int) -> int:
        if _ < 20:
            barrier.wait(timeout=10)
        reply = client.request("POST", f"{OBJECTS}/sessions", auth=SECADMIN)

        return reply.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(attempt, range(80)))

    assert statuses == {200: 64, 503: 16}
    assert len(client.array.sessions) == 64


def test_concurrent__backups_and_locks(client: ArrayClient) -> None:
    """Backups, locks and unlocks from many clients lose no update."""
    outcomes: Counter[str] = Counter()
    guard = threading.Lock()
    seen_holders: list[tuple[int, int]] = []

    def worker(_: int) -> None:
        session = client.login()
        for _round in range(ROUNDS):
            backup = client.backup(session)
            locked = client.lock(session)
            if locked.status_code == 202:
                groups = client.request(
                    "GET", f"{OBJECTS}/resource-groups", headers=client.auth(session)
                ).json()["data"]
                with guard:
                    seen_holders.append(
                        (session["sessionId"], groups[0]["lockSessionId"])
                    )
                assert client.unlock(session).status_code == 202
            with guard:
                outcomes[f"backup {backup.status_code}"] += 1
                outcomes[f"lock {locked.status_code}"] += 1
        path = f"{OBJECTS}/sessions/{session['sessionId']}"
        client.request("DELETE", path, headers=client.auth(session))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(worker, range(CLIENTS)))

    assert set(outcomes) <= {"backup 200", "backup 409", "lock 202", "lock 409"}
    assert outcomes["backup 200"] + outcomes["backup 409"] == CLIENTS * ROUNDS
    assert all(
        k.num_of_backups == outcomes["backup 200"] for k in client.array.key_list()
    )
    assert all(own == holder for own, holder in seen_holders)
    assert outcomes["lock 202"] == len(seen_holders) > 0
    assert client.array.lock_holder is None
    assert client.array.sessions == {}
