"""Array profiles, the message catalogue, roles and the support matrix, loaded from
the fixtures.

A profile is a TOML file describing one array: its model, serial, microcode, users
and starting keys. Every profile is laid over ``fixtures/defaults.toml``, which holds
the settings where the emulator had to choose. ``load_profile`` takes the name of a
bundled profile or the path of a user's own file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

FIXTURES_PACKAGE = "emulator.fixtures"
DEFAULT_PROFILE = "vsp-e990"


class ProfileError(ValueError):
    """A profile that cannot be found or does not describe an array."""


@dataclass(frozen=True)
class User:
    """A user of the array, as the profile lists it."""

    name: str
    password: str
    roles: tuple[str, ...]
    administrator: bool = False


@dataclass(frozen=True)
class Storage:
    """The array's identity as the storage objects report it."""

    model: str
    serial_number: int
    storage_device_id: str
    dkc_micro_version: str
    ctl1_micro_version: str
    ctl2_micro_version: str
    svp_ip: str
    ctl1_ip: str
    ctl2_ip: str
    is_secure: bool
    target_ctl: str
    uses_svp: bool
    lan_connection_protocol: str


@dataclass(frozen=True)
class Profile:
    """One array to emulate: its settings merged over the defaults."""

    name: str
    description: str
    seed: int
    storage: Storage
    users: tuple[User, ...]
    settings: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """Return one settings table (``sessions``, ``locks``, ``jobs`` ...)."""
        table: dict[str, Any] = self.settings[name]

        return table


def _fixture_text(relative: str) -> str:
    return resources.files(FIXTURES_PACKAGE).joinpath(relative).read_text("utf-8")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value

    return merged


def bundled_profiles() -> list[str]:
    """Names of the profiles shipped with the emulator."""
    folder = resources.files(FIXTURES_PACKAGE).joinpath("profiles")
    names = [p.name.removesuffix(".toml") for p in folder.iterdir()]

    return sorted(n for n in names if not n.startswith("_") and n != "__init__.py")


def _read_profile_source(name_or_path: str) -> str:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            return path.read_text("utf-8")
        except OSError as exc:
            raise ProfileError(f"cannot read profile file {path}: {exc}") from exc

    if name_or_path not in bundled_profiles():
        known = ", ".join(bundled_profiles())
        raise ProfileError(f"no profile named {name_or_path!r} (known: {known})")

    return _fixture_text(f"profiles/{name_or_path}.toml")


def _build_users(raw: list[dict[str, Any]]) -> tuple[User, ...]:
    users = []
    for entry in raw:
        users.append(
            User(
                name=str(entry["name"]),
                password=str(entry["password"]),
                roles=tuple(str(r) for r in entry.get("roles", ())),
                administrator=bool(entry.get("administrator", False)),
            )
        )

    return tuple(users)


def parse_profile(text: str, *, source: str = "<profile>") -> Profile:
    """Build a profile from TOML text laid over the defaults.

    Raises:
        ProfileError: the text is not TOML or lacks a required field.
    """
    try:
        own = tomllib.loads(text)
        merged = _merge(tomllib.loads(_fixture_text("defaults.toml")), own)
        storage = Storage(**merged["storage"])
        users = _build_users(merged.get("users", []))
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ProfileError(f"{source}: not a valid profile: {exc}") from exc

    if not users:
        raise ProfileError(f"{source}: a profile needs at least one user")

    return Profile(
        name=str(merged.get("name", Path(source).stem)),
        description=str(merged.get("description", "")),
        seed=int(merged.get("seed", 0)),
        storage=storage,
        users=users,
        settings=merged,
    )


def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    """Load a bundled profile by name, or a profile file by path."""
    return parse_profile(_read_profile_source(name_or_path), source=name_or_path)


@cache
def message_catalogue() -> dict[str, dict[str, Any]]:
    """The message catalogue: situation name to status and error-object fields."""
    return tomllib.loads(_fixture_text("messages.toml"))


@cache
def role_inclusions() -> dict[str, tuple[str, ...]]:
    """Each role name and the roles it includes."""
    table = tomllib.loads(_fixture_text("roles.toml"))["includes"]

    return {role: tuple(included) for role, included in table.items()}


@cache
def support_matrix() -> list[dict[str, Any]]:
    """Models that run the encryption-key calls and their minimum microcode."""
    models: list[dict[str, Any]] = tomllib.loads(_fixture_text("support.toml"))[
        "models"
    ]

    return models
