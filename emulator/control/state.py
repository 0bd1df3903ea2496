"""State snapshots: the emulated array's state as JSON, and back.

A snapshot holds the profile's name, the clock, the microcode, the sessions and the
lock, the jobs and their policy, and the keys. Whether it holds secrets is the
profile's choice (``[state]`` in ``fixtures/defaults.toml``, both off by default):

- without ``include_key_material``, keys are saved without their material and come
  back with material derived from the profile's seed, which under a seeded profile
  is the material the array started with (without a seed: fresh random bytes);
- without ``include_tokens``, sessions are saved without their tokens and come
  back under fresh tokens no client knows: they keep their slot and their lock.

Fault rules and the journal are not part of the array's state and are not saved.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from emulator.errors import InvalidValue
from emulator.model.array import Array, InstalledState
from emulator.model.jobs import PROGRESS_MODES, Job, JobPolicy
from emulator.model.keys import KEY_MATERIAL_SIZE, KEY_TYPES, Key, new_key
from emulator.model.sessions import Session
from emulator.profile import Profile, ProfileError, User, load_profile

FORMAT = "array-emulator-state"
VERSION = 1
Item = TypeVar("Item")


def dump(array: Array) -> dict[str, Any]:
    """The array's state as JSON-ready data."""
    settings = array.profile.section("state")
    with_material = bool(settings["include_key_material"])
    with_tokens = bool(settings["include_tokens"])
    with array.guarded():
        next_session_id, next_job_id = array.id_counters()

        return {
            "format": FORMAT,
            "version": VERSION,
            "profile": array.profile.name,
            "clock": {"now": array.clock.now(), "frozen": array.clock.frozen},
            "microcode": array.microcode,
            "nextSessionId": next_session_id,
            "nextJobId": next_job_id,
            "lockHolder": array.lock_holder,
            "jobPolicy": policy_body(array.job_policy),
            "sessions": [
                _session_body(s, with_tokens) for s in array.sessions.values()
            ],
            "jobs": [_job_body(j) for j in array.jobs.values()],
            "keys": [_key_body(k, with_material) for k in array.key_list()],
            "backupsMade": array.backups_made,
            "includesKeyMaterial": with_material,
            "includesTokens": with_tokens,
        }


def load(array: Array, data: object, *, profile: Profile | None = None) -> None:
    """Put the array in a saved state.

    Args:
        array: the array to change.
        data: a snapshot as ``dump`` made it.
        profile: the profile to load when the snapshot names the array's current
            one by name but the caller holds it (a profile file, for example).

    Raises:
        InvalidValue: the data is not a snapshot this emulator can load.
    """
    snapshot = _object(data, "state")
    if snapshot.get("format") != FORMAT or snapshot.get("version") != VERSION:
        raise InvalidValue(
            parameter="format",
            reason=f"must be {FORMAT!r} version {VERSION}",
        )

    chosen = _profile(array, _text(snapshot, "profile"), profile)
    if chosen is not array.profile:
        array.load(chosen)
    clock = _object(snapshot.get("clock"), "clock")
    array.clock.set(_real(clock, "now"), frozen=_flag(clock, "frozen"))
    array.install_state(_installed(array, snapshot))


def policy_body(policy: JobPolicy) -> dict[str, Any]:
    """A job policy as JSON."""
    return {
        "progress": policy.progress,
        "polls": policy.polls,
        "seconds": policy.seconds,
        "failSsb": list(policy.fail_ssb) if policy.fail_ssb else None,
    }


def parse_policy(data: object, name: str = "jobPolicy") -> JobPolicy:
    """A job policy from JSON.

    Raises:
        InvalidValue: an unknown progress mode, or a value of the wrong type.
    """
    body = _object(data, name)
    for key in body:
        if key not in ("progress", "polls", "seconds", "failSsb"):
            raise InvalidValue(parameter=f"{name}.{key}", reason="unknown attribute")
    progress = body.get("progress", "immediate")
    if progress not in PROGRESS_MODES:
        raise InvalidValue(
            parameter=f"{name}.progress", reason=f"must be one of {PROGRESS_MODES}"
        )

    return JobPolicy(
        progress=progress,
        polls=_whole(body.get("polls", 0), f"{name}.polls"),
        seconds=_positive(body.get("seconds", 0.0), f"{name}.seconds"),
        fail_ssb=_ssb(body.get("failSsb"), f"{name}.failSsb"),
    )


def write_file(array: Array, path: Path) -> None:
    """Save the array's state to a file, written whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(dump(array), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def read_file(array: Array, path: Path, *, profile: Profile | None = None) -> None:
    """Load a state file saved by ``write_file``.

    Raises:
        InvalidValue: the file is not JSON or not a snapshot.
        OSError: the file cannot be read.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidValue(parameter=str(path), reason=f"not JSON: {exc.msg}") from None

    load(array, data, profile=profile)


# -- saving ---------------------------------------------------------------------


def _session_body(session: Session, with_token: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sessionId": session.session_id,
        "user": session.user.name,
        "ipAddress": session.ip_address,
        "created": session.created,
        "lastAccess": session.last_access,
        "aliveTime": session.alive_time,
        "authenticationTimeout": session.authentication_timeout,
    }
    if with_token:
        body["token"] = session.token

    return body


def _job_body(job: Job) -> dict[str, Any]:
    return {
        "jobId": job.job_id,
        "user": job.user_name,
        "created": job.created,
        "requestMethod": job.request_method,
        "requestUrl": job.request_url,
        "requestBody": job.request_body,
        "policy": policy_body(job.policy),
        "resources": list(job.resources),
        "reads": job.reads,
        "completedAt": job.completed_at,
    }


def _key_body(key: Key, with_material: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "keyId": key.key_id,
        "keyType": key.key_type,
        "created": key.created,
        "generatedLocation": key.generated_location,
        "targetDeviceLocation": key.target_device_location,
        "numOfBackups": key.num_of_backups,
    }
    if with_material:
        body["material"] = key.material.hex()

    return body


# -- loading --------------------------------------------------------------------


def _profile(array: Array, name: str, given: Profile | None) -> Profile:
    if name == array.profile.name:
        return array.profile

    if given is not None and given.name == name:
        return given

    try:
        return load_profile(name)
    except ProfileError as exc:
        raise InvalidValue(parameter="profile", reason=str(exc)) from None


def _installed(array: Array, snapshot: dict[str, Any]) -> InstalledState:
    users = {user.name: user for user in array.profile.users}
    sessions = _items(snapshot, "sessions", lambda d, n: _session(d, n, users))
    holder = snapshot.get("lockHolder")
    if holder is not None and holder not in {s.session_id for s in sessions}:
        raise InvalidValue(parameter="lockHolder", reason="names no saved session")

    return InstalledState(
        sessions=sessions,
        lock_holder=holder,
        jobs=_items(snapshot, "jobs", _job),
        job_policy=parse_policy(snapshot.get("jobPolicy", {})),
        keys=_items(snapshot, "keys", lambda d, n: _key(d, n, array)),
        backups_made=_whole(snapshot.get("backupsMade", 0), "backupsMade"),
        microcode=_text(snapshot, "microcode"),
        next_session_id=_whole(snapshot.get("nextSessionId"), "nextSessionId"),
        next_job_id=_whole(snapshot.get("nextJobId"), "nextJobId"),
    )


def _items(
    snapshot: dict[str, Any],
    name: str,
    build: Callable[[dict[str, Any], str], Item],
) -> list[Item]:
    raw = snapshot.get(name, [])
    if not isinstance(raw, list):
        raise InvalidValue(parameter=name, reason="must be a list")

    return [
        build(_object(d, f"{name}[{i}]"), f"{name}[{i}]") for i, d in enumerate(raw)
    ]


def _session(data: dict[str, Any], name: str, users: dict[str, User]) -> Session:
    user = users.get(str(data.get("user")))
    if user is None:
        raise InvalidValue(parameter=f"{name}.user", reason="no such user in profile")

    token = data.get("token")
    if not isinstance(token, str) or not token:
        token = secrets.token_hex(16)

    return Session(
        session_id=_whole(data.get("sessionId"), f"{name}.sessionId"),
        token=token,
        user=user,
        ip_address=_text(data, "ipAddress", name),
        created=_real(data, "created", name),
        last_access=_real(data, "lastAccess", name),
        alive_time=_whole(data.get("aliveTime"), f"{name}.aliveTime"),
        authentication_timeout=_whole(
            data.get("authenticationTimeout"), f"{name}.authenticationTimeout"
        ),
    )


def _job(data: dict[str, Any], name: str) -> Job:
    resources = data.get("resources", [])
    if not isinstance(resources, list) or not all(
        isinstance(r, str) for r in resources
    ):
        raise InvalidValue(parameter=f"{name}.resources", reason="must be strings")
    completed = data.get("completedAt")

    return Job(
        job_id=_whole(data.get("jobId"), f"{name}.jobId"),
        user_name=_text(data, "user", name),
        created=_real(data, "created", name),
        request_method=_text(data, "requestMethod", name),
        request_url=_text(data, "requestUrl", name),
        request_body=_text(data, "requestBody", name, empty_ok=True),
        policy=parse_policy(data.get("policy", {}), f"{name}.policy"),
        resources=list(resources),
        reads=_whole(data.get("reads", 0), f"{name}.reads"),
        completed_at=None if completed is None else _real(data, "completedAt", name),
    )


def _key(data: dict[str, Any], name: str, array: Array) -> Key:
    key_id = _whole(data.get("keyId"), f"{name}.keyId")
    key_type = _text(data, "keyType", name)
    if key_type not in KEY_TYPES:
        raise InvalidValue(parameter=f"{name}.keyType", reason=f"one of {KEY_TYPES}")
    created = _real(data, "created", name)
    key = new_key(key_id, key_type, created, array.entropy)
    key.generated_location = _text(data, "generatedLocation", name)
    key.target_device_location = _text(data, "targetDeviceLocation", name)
    key.num_of_backups = _whole(data.get("numOfBackups", 0), f"{name}.numOfBackups")
    if "material" in data:
        key.material = _material(data["material"], f"{name}.material")

    return key


def _material(value: object, name: str) -> bytes:
    try:
        material = bytes.fromhex(str(value))
    except ValueError:
        raise InvalidValue(parameter=name, reason="must be hexadecimal") from None
    if len(material) != KEY_MATERIAL_SIZE:
        raise InvalidValue(parameter=name, reason=f"must be {KEY_MATERIAL_SIZE} bytes")

    return material


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValue(parameter=name, reason="must be a JSON object")

    return value


def _text(
    data: dict[str, Any], key: str, where: str = "", *, empty_ok: bool = False
) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (not value and not empty_ok):
        name = f"{where}.{key}" if where else key
        raise InvalidValue(parameter=name, reason="must be a string")

    return value


def _real(data: dict[str, Any], key: str, where: str = "") -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        name = f"{where}.{key}" if where else key
        raise InvalidValue(parameter=name, reason="must be a number")

    return float(value)


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidValue(parameter=key, reason="must be true or false")

    return value


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(parameter=name, reason="must be a whole number")

    return value


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidValue(parameter=name, reason="must be a number, 0 or more")

    return float(value)


def _ssb(value: object, name: str) -> tuple[str, str] | None:
    if value is None:
        return None

    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidValue(parameter=name, reason="must be two SSB codes")

    return value[0], value[1]
