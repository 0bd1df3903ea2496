"""Unit tests of the model: the array's rules without HTTP."""

from __future__ import annotations

import pytest

from emulator.errors import (
    CredentialsInvalid,
    Forbidden,
    KeyLimit,
    LockBusy,
    LockedByOther,
    LockedBySelf,
    MicrocodeUnsupported,
    SessionLimit,
    TokenInvalid,
)
from emulator.model.array import Array, RequestInfo
from emulator.model.clock import Clock, iso_time, parse_iso_time
from emulator.model.jobs import Job, JobPolicy
from emulator.model.keys import Entropy, select_keys
from emulator.model.sessions import Principal
from emulator.model.support import encryption_supported, microcode_tuple
from emulator.profile import ProfileError, load_profile, parse_profile, support_matrix

REQUEST = RequestInfo("POST", "/test")


class FakeTime:
    """A time source the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1_000_000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def array() -> Array:
    """A default-profile array on a frozen clock."""
    clock = Clock(FakeTime())
    clock.freeze()

    return Array(load_profile(), clock)


def login(array: Array, name: str = "secadmin", **kwargs) -> Principal:
    """A principal with a fresh session."""
    password = f"{name}-pass"
    session = array.create_session(array.authenticate(name, password), "::1", **kwargs)

    return Principal(session.user, session)


def test_clock__freeze_and_advance() -> None:
    """A frozen clock stands still and moves only when advanced."""
    source = FakeTime()
    clock = Clock(source)
    clock.freeze()
    source.value += 100

    clock.advance(5)

    assert clock.now() == 1_000_005.0


def test_clock__resume_keeps_offset() -> None:
    """After resuming, the clock runs on from where it stood."""
    source = FakeTime()
    clock = Clock(source)
    clock.freeze()
    clock.advance(60)
    clock.resume()
    source.value += 1

    assert clock.now() == 1_000_061.0


def test_clock__no_going_back() -> None:
    """The clock refuses to move backwards."""
    with pytest.raises(ValueError):
        Clock().advance(-1)


def test_iso_time__round_trip() -> None:
    """Times print as the array does and parse back."""
    text = iso_time(1_700_000_000)

    assert text == "2023-11-14T22:13:20Z"
    assert parse_iso_time(text) == 1_700_000_000


def test_authenticate__wrong_password(array: Array) -> None:
    """A wrong password is refused."""
    with pytest.raises(CredentialsInvalid):
        array.authenticate("secadmin", "viewer-pass")


def test_roles__inclusion(array: Array) -> None:
    """View & Modify includes View Only; a viewer has neither."""
    secadmin = array.authenticate("secadmin", "secadmin-pass")
    viewer = array.authenticate("viewer", "viewer-pass")

    array.require_role(secadmin, "Security Administrator (View Only)")
    with pytest.raises(Forbidden):
        array.require_role(viewer, "Security Administrator (View Only)")


def test_sessions__cap(array: Array) -> None:
    """The profile's cap holds exactly."""
    for _ in range(64):
        login(array)

    with pytest.raises(SessionLimit) as raised:
        login(array)

    assert raised.value.headers["Retry-After"] == "5"
    assert len(array.sessions) == 64


def test_sessions__idle_expiry(array: Array) -> None:
    """A token dies once idle longer than aliveTime, and lives while used."""
    principal = login(array, alive_time=30)
    assert principal.session is not None
    token = principal.session.token
    array.clock.advance(29)
    array.principal_for_token(token)
    array.clock.advance(29)
    array.principal_for_token(token)

    array.clock.advance(31)

    with pytest.raises(TokenInvalid):
        array.principal_for_token(token)


def test_sessions__ids_increase(array: Array) -> None:
    """Session IDs are integers that grow and are not reused."""
    first, second = login(array), login(array)
    assert first.session_id is not None and second.session_id is not None

    array.discard_session(first, first.session_id)

    assert login(array).session_id == second.session_id + 1


def test_session__repr_hides_token(array: Array) -> None:
    """A session's repr never shows its token."""
    principal = login(array)
    assert principal.session is not None

    assert principal.session.token not in repr(principal.session)


def test_lock__busy_after_wait(array: Array) -> None:
    """A lock held elsewhere is refused once the wait runs out."""
    holder, other = login(array), login(array)
    array.lock(holder, 0, REQUEST)

    with pytest.raises(LockBusy):
        array.lock(other, 0, REQUEST)


def test_lock__blocks_changes(array: Array) -> None:
    """While locked, the holder and the others are refused differently."""
    holder, other = login(array), login(array)
    array.lock(holder, 0, REQUEST)

    with pytest.raises(LockedBySelf):
        array.check_unlocked(holder)
    with pytest.raises(LockedByOther):
        array.check_unlocked(other)


def test_jobs__retention() -> None:
    """Jobs past the profile's retention are dropped, oldest first."""
    profile = load_profile()
    profile.settings["jobs"] = {**profile.settings["jobs"], "retention": 3}
    array = Array(profile)
    principal = login(array)

    ids = [array.create_keys(principal, 1, REQUEST).job_id for _ in range(5)]

    assert list(array.jobs) == ids[2:]


def test_jobs__policy_polls() -> None:
    """A polls job completes at the given read and stays completed."""
    job = Job(1, "u", 0.0, "POST", "/x", "", JobPolicy(progress="polls", polls=2))

    states = []
    for _ in range(3):
        job.reads += 1
        states.append(job.status_at(0.0).status)

    assert states == ["Initializing", "Completed", "Completed"]


def test_keys__create_limit(array: Array) -> None:
    """Creating past the maximum raises and creates nothing."""
    principal = login(array)

    with pytest.raises(KeyLimit):
        array.create_keys(principal, 4096, REQUEST)

    assert len(array.keys) == 64


def test_keys__lowest_free_ids(array: Array) -> None:
    """New keys take the lowest unused IDs."""
    principal = login(array)
    array.delete_key(principal, 20, REQUEST)

    array.create_keys(principal, 2, REQUEST)

    assert 20 in array.keys and 64 in array.keys and 65 not in array.keys


def test_keys__select_dek_and_free(array: Array) -> None:
    """DEKANDFREE lists both types in ID order, within count."""
    chosen = select_keys(array.key_list(), "DEKANDFREE", start_key_id=6, count=4)

    assert [(k.key_id, k.key_type) for k in chosen] == [
        (6, "DEK"),
        (7, "DEK"),
        (11, "FREE"),
        (12, "FREE"),
    ]


def test_keys__seeded_material_reproducible() -> None:
    """Two arrays of one seeded profile hold the same key material."""
    first, second = Array(load_profile()), Array(load_profile())

    assert [k.material for k in first.key_list()] == [
        k.material for k in second.key_list()
    ]


def test_entropy__unseeded_differs() -> None:
    """Without a seed, bytes come from the system and differ."""
    entropy = Entropy(0)

    assert entropy.bytes("x", 16) != entropy.bytes("x", 16)


def test_backup__old_microcode() -> None:
    """The backup on an unsupported microcode raises before anything changes."""
    array = Array(load_profile("vsp-g900-old"))
    principal = login(array)

    with pytest.raises(MicrocodeUnsupported):
        array.backup(principal, "backuppassword")

    assert all(k.num_of_backups == 0 for k in array.key_list())


def test_backup__microcode_switch(array: Array) -> None:
    """Switching the microcode below the minimum turns the backup off."""
    principal = login(array)
    array.set_microcode("93-01-01/00")

    with pytest.raises(MicrocodeUnsupported):
        array.backup(principal, "backuppassword")


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("88-02-00/20", "88-03-21/00"),
        ("93-07-23/00", "93-07-23/01"),
        ("9-1-1", "10-0-0"),
    ],
)
def test_microcode__ordering(older: str, newer: str) -> None:
    """Versions order field by field, numerically."""
    assert microcode_tuple(older) < microcode_tuple(newer)


@pytest.mark.parametrize(
    ("model", "microcode", "expected"),
    [
        ("VSP E990", "93-07-23/00", True),
        ("VSP E590H", "93-03-01/00", True),
        ("VSP G900", "88-02-00/20", False),
        ("VSP G900", "88-08-01/00", True),
        ("VSP G1500", "99-99-99/99", False),
    ],
)
def test_support__matrix(model: str, microcode: str, expected: bool) -> None:
    """The support matrix decides by model prefix and minimum microcode."""
    assert encryption_supported(model, microcode, support_matrix()) is expected


def test_profile__unknown_name() -> None:
    """An unknown profile name lists the known ones."""
    with pytest.raises(ProfileError, match="vsp-e990"):
        load_profile("vsp-nothing")


def test_profile__invalid_text() -> None:
    """A profile without storage or users is refused with the reason."""
    with pytest.raises(ProfileError):
        parse_profile("name = 'x'")
    with pytest.raises(ProfileError):
        parse_profile("[[[ not toml")


def test_profile__from_file(tmp_path) -> None:
    """A user's profile file is laid over the defaults."""
    path = tmp_path / "mine.toml"
    source = load_profile().settings
    storage = "\n".join(
        f"{k} = {v!r}".replace("'", '"')
        .replace("True", "true")
        .replace("False", "false")
        for k, v in source["storage"].items()
    )
    path.write_text(
        f'name = "mine"\n[storage]\n{storage}\n[[users]]\nname = "a"\n'
        'password = "a-password"\nroles = []\n[keys]\nfree = 2\n'
    )

    profile = load_profile(str(path))

    assert profile.name == "mine"
    assert profile.section("keys")["free"] == 2
    assert profile.section("sessions")["max_sessions"] == 64


def test_backups__counted_per_key_from_when_it_joined(array: Array) -> None:
    """A key counts only the backups made since it joined the array."""
    principal = login(array)
    array.backup(principal, "backuppassword")
    array.delete_key(principal, 20, REQUEST)
    array.create_keys(principal, 1, REQUEST)

    array.backup(principal, "backuppassword")

    assert array.keys[0].num_of_backups == 2
    assert array.keys[20].num_of_backups == 1


def test_backups__count_kept_when_set(array: Array) -> None:
    """A count set on a key (from a state file) goes on from that value."""
    principal = login(array)
    array.keys[0].num_of_backups = 7

    array.backup(principal, "backuppassword")

    assert array.keys[0].num_of_backups == 8
    assert array.keys[1].num_of_backups == 1
