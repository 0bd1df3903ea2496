"""The emulated array: all of its state and the rules that change it.

``Array`` is the one object the views talk to. Every public method takes the array's
guard, so concurrent requests see the state change one operation at a time. Nothing
here knows of HTTP: methods take plain values and raise ``ArrayError`` subclasses.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from emulator import backup_file
from emulator.errors import (
    CredentialsInvalid,
    Forbidden,
    InvalidValue,
    KeyLimit,
    KeyNotFree,
    LockAlreadyHeld,
    LockBusy,
    LockedByOther,
    LockedBySelf,
    LockNeedsSession,
    MicrocodeUnsupported,
    NotFound,
    NotLockHolder,
    SessionLimit,
    TokenInvalid,
)
from emulator.model.backups import (
    backup_file_name,
    kdf_params,
    key_from_record,
    open_backup,
)
from emulator.model.clock import Clock
from emulator.model.jobs import Job, JobPolicy, JobStatus, policy_from_settings
from emulator.model.keys import (
    BackupTally,
    Entropy,
    Key,
    free_key_ids,
    initial_keys,
    new_key,
)
from emulator.model.passwords import check_backup_password
from emulator.model.sessions import Principal, Session
from emulator.model.support import encryption_supported
from emulator.profile import Profile, User, role_inclusions, support_matrix

logger = logging.getLogger(__name__)

WAIT_SLICE_SECONDS = 0.05


@dataclass(frozen=True)
class RequestInfo:
    """The request a job records. ``body`` must hold no secret."""

    method: str
    url: str
    body: str = ""


@dataclass(frozen=True)
class ResourceGroup:
    """A resource group and who holds the lock over it."""

    group_id: int
    name: str
    holder: Session | None


@dataclass(frozen=True)
class InstalledState:
    """Everything ``Array.install_state`` replaces."""

    sessions: list[Session]
    lock_holder: int | None
    jobs: list[Job]
    job_policy: JobPolicy
    keys: list[Key]
    backups_made: int
    microcode: str
    next_session_id: int
    next_job_id: int


@dataclass(frozen=True)
class BackupResult:
    """A backup file and the name the download offers."""

    data: bytes
    file_name: str
    key_count: int


class Array:
    """The state of one emulated array, built from a profile."""

    def __init__(self, profile: Profile, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._guard = threading.RLock()
        self._lock_released = threading.Condition(self._guard)
        self.load(profile)

    # -- state -------------------------------------------------------------------

    def load(self, profile: Profile) -> None:
        """Put the array in the profile's initial state; the clock keeps running."""
        with self._guard:
            self.profile = profile
            self.entropy = Entropy(profile.seed)
            self.sessions: dict[int, Session] = {}
            self._tokens: dict[str, int] = {}
            self._next_session_id = int(profile.section("sessions")["first_session_id"])
            self.lock_holder: int | None = None
            self.jobs: OrderedDict[int, Job] = OrderedDict()
            self._next_job_id = max(1, int(profile.section("jobs")["first_job_id"]))
            self.job_policy = policy_from_settings(profile.section("jobs"))
            self.tally = BackupTally()
            keys = initial_keys(profile.section("keys"), self.entropy)
            self.keys: dict[int, Key] = {i: self._adopt(k) for i, k in keys.items()}
            self.backups_made = 0
            self.microcode = profile.storage.dkc_micro_version
            self._lock_released.notify_all()

        logger.info("emulator.array_loaded", extra={"emulator.profile": profile.name})

    def reset(self) -> None:
        """Back to the current profile's initial state."""
        self.load(self.profile)

    def id_counters(self) -> tuple[int, int]:
        """The next session ID and the next job ID the array will hand out."""
        with self._guard:
            return self._next_session_id, self._next_job_id

    def install_state(self, state: InstalledState) -> None:
        """Replace sessions, lock, jobs and keys with a saved state (for tests).

        The profile and the clock stay as they are; the caller sets them first.
        """
        with self._guard:
            self.sessions = {s.session_id: s for s in state.sessions}
            self._tokens = {s.token: s.session_id for s in state.sessions}
            self.lock_holder = state.lock_holder
            self.jobs = OrderedDict((j.job_id, j) for j in state.jobs)
            self.job_policy = state.job_policy
            self.keys = {k.key_id: self._adopt(k) for k in state.keys}
            self.backups_made = state.backups_made
            self.microcode = state.microcode
            self._next_session_id = state.next_session_id
            self._next_job_id = state.next_job_id
            self._lock_released.notify_all()

    def session_for_token(self, token: str) -> Session | None:
        """The session a token names, if the array knows it; nothing is refreshed."""
        with self._guard:
            session_id = self._tokens.get(token)

            return self.sessions.get(session_id) if session_id is not None else None

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Hold the array's guard, for callers that read several things at once."""
        with self._guard:
            yield

    # -- users and roles ---------------------------------------------------------

    def authenticate(self, name: str, password: str) -> User:
        """The profile's user with these credentials.

        Raises:
            CredentialsInvalid: no such user, or the wrong password.
        """
        for user in self.profile.users:
            same_name = hmac.compare_digest(user.name.encode(), name.encode())
            same_password = hmac.compare_digest(
                user.password.encode(), password.encode()
            )
            if same_name and same_password:
                return user

        raise CredentialsInvalid()

    @staticmethod
    def require_role(user: User, role: str) -> None:
        """Check that ``user`` has ``role`` or a role that includes it.

        Raises:
            Forbidden: the user lacks the role.
        """
        inclusions = role_inclusions()
        held = set(user.roles)
        for own in user.roles:
            held.update(inclusions.get(own, ()))
        if role not in held:
            raise Forbidden(role=role)

    # -- sessions ----------------------------------------------------------------

    def create_session(
        self,
        user: User,
        ip_address: str,
        *,
        alive_time: int | None = None,
        authentication_timeout: int | None = None,
    ) -> Session:
        """Open a session for ``user``.

        Raises:
            SessionLimit: every session slot is taken.
        """
        settings = self.profile.section("sessions")
        with self._guard:
            self._purge_expired()
            limit = int(settings["max_sessions"])
            if len(self.sessions) >= limit:
                retry = str(settings["retry_after_seconds"])
                raise SessionLimit(limit=limit, headers={"Retry-After": retry})

            session = self._add_session(
                user, ip_address, alive_time, authentication_timeout
            )

        logger.info(
            "emulator.session_created",
            extra={
                "emulator.session_id": session.session_id,
                "emulator.user": user.name,
            },
        )

        return session

    def _add_session(
        self,
        user: User,
        ip_address: str,
        alive_time: int | None,
        authentication_timeout: int | None,
    ) -> Session:
        settings = self.profile.section("sessions")
        now = self.clock.now()
        session = Session(
            session_id=self._next_session_id,
            token=secrets.token_hex(16),
            user=user,
            ip_address=ip_address,
            created=now,
            last_access=now,
            alive_time=alive_time or int(settings["default_alive_time"]),
            authentication_timeout=authentication_timeout
            or int(settings["default_authentication_timeout"]),
        )
        self._next_session_id += 1
        self.sessions[session.session_id] = session
        self._tokens[session.token] = session.session_id

        return session

    def principal_for_token(self, token: str) -> Principal:
        """The principal a token stands for; the call refreshes the session.

        Raises:
            TokenInvalid: the token is unknown, expired or discarded.
        """
        with self._guard:
            self._purge_expired()
            session_id = self._tokens.get(token)
            if session_id is None:
                raise TokenInvalid()

            session = self.sessions[session_id]
            session.last_access = self.clock.now()

            return Principal(session.user, session)

    def visible_sessions(self, principal: Principal) -> list[Session]:
        """Sessions the principal may see: its user's, or all for an administrator."""
        with self._guard:
            self._purge_expired()

            return [s for s in self.sessions.values() if self._sees(principal, s)]

    def find_session(self, principal: Principal, session_id: int) -> Session:
        """One session the principal may see.

        Raises:
            NotFound: no such session, or one of another user.
        """
        with self._guard:
            self._purge_expired()
            session = self.sessions.get(session_id)
            if session is None or not self._sees(principal, session):
                raise NotFound(object=f"sessions/{session_id}")

            return session

    def keep_alive(self, principal: Principal, session_id: int) -> Session:
        """Refresh a session the principal may see."""
        with self._guard:
            session = self.find_session(principal, session_id)
            session.last_access = self.clock.now()

            return session

    def discard_session(
        self, principal: Principal, session_id: int, *, force: bool = False
    ) -> None:
        """Discard a session and release its lock.

        Another user's session needs ``force`` and an administrator.

        Raises:
            NotFound: no such session, or one the principal may not see.
            InvalidValue: an administrator discarding another user's session
                without ``force``.
        """
        with self._guard:
            session = self.find_session(principal, session_id)
            if session.user.name != principal.user.name and not force:
                raise InvalidValue(
                    parameter="force",
                    reason="discarding another user's session needs force=true",
                )

            self._end_session(session)

        logger.info(
            "emulator.session_discarded", extra={"emulator.session_id": session_id}
        )

    def expire_session(self, session_id: int) -> None:
        """End a session as if its aliveTime had run out (for tests).

        Raises:
            NotFound: no such session.
        """
        with self._guard:
            session = self.sessions.get(session_id)
            if session is None:
                raise NotFound(object=f"sessions/{session_id}")

            self._end_session(session)

    @staticmethod
    def _sees(principal: Principal, session: Session) -> bool:
        return principal.user.administrator or session.user.name == principal.user.name

    def _end_session(self, session: Session) -> None:
        self.sessions.pop(session.session_id, None)
        self._tokens.pop(session.token, None)
        if self.lock_holder == session.session_id:
            self.lock_holder = None
            self._lock_released.notify_all()

    def _purge_expired(self) -> None:
        now = self.clock.now()
        idle = bool(self.profile.section("sessions")["idle_expiry"])
        for session in list(self.sessions.values()):
            if session.expired(now, idle_expiry=idle):
                self._end_session(session)

    # -- locks -------------------------------------------------------------------

    def lock(self, principal: Principal, wait_time: int, request: RequestInfo) -> Job:
        """Take the resource lock for the principal's session.

        While another session holds it, wait up to ``wait_time`` seconds (capped by
        the profile's ``real_wait_cap_seconds``) for it to be released.

        Raises:
            LockNeedsSession: a Basic-only request.
            LockAlreadyHeld: the session holds the lock already.
            LockBusy: another session held the lock for the whole wait.
        """
        session = self._session_of(principal)
        cap = float(self.profile.section("locks")["real_wait_cap_seconds"])
        deadline = time.monotonic() + min(float(wait_time), cap)
        with self._guard:
            if self.lock_holder == session.session_id:
                raise LockAlreadyHeld(session_id=session.session_id)

            self._wait_for_lock(deadline)
            job = self._new_job(principal, request, [])
            if not job.fails:
                self.lock_holder = session.session_id

        return job

    def _wait_for_lock(self, deadline: float) -> None:
        while True:
            self._purge_expired()
            if self.lock_holder is None:
                return

            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockBusy(session_id=self.lock_holder)

            self._lock_released.wait(min(remaining, WAIT_SLICE_SECONDS))

    def unlock(self, principal: Principal, request: RequestInfo) -> Job:
        """Release the resource lock held by the principal's session.

        Raises:
            LockNeedsSession: a Basic-only request.
            NotLockHolder: the session does not hold the lock.
        """
        session = self._session_of(principal)
        with self._guard:
            self._purge_expired()
            if self.lock_holder != session.session_id:
                raise NotLockHolder()

            job = self._new_job(principal, request, [])
            if not job.fails:
                self.lock_holder = None
                self._lock_released.notify_all()

        return job

    def resource_groups(self) -> list[ResourceGroup]:
        """The profile's resource groups and the lock's holder over them.

        The lock covers every group: each user of the profile is given all of them.
        """
        with self._guard:
            self._purge_expired()
            holder = self.sessions.get(self.lock_holder) if self.lock_holder else None
            groups = self.profile.settings.get("resource_groups", [])

            return [ResourceGroup(int(g["id"]), str(g["name"]), holder) for g in groups]

    def check_unlocked(self, principal: Principal) -> None:
        """Refuse an operation the documentation forbids while resources are locked.

        Raises:
            LockedBySelf: the principal's own session holds the lock.
            LockedByOther: another session holds it.
        """
        with self._guard:
            self._purge_expired()
            if self.lock_holder is None:
                return

            if self.lock_holder == principal.session_id:
                raise LockedBySelf(session_id=self.lock_holder)

            raise LockedByOther(session_id=self.lock_holder)

    @staticmethod
    def _session_of(principal: Principal) -> Session:
        if principal.session is None:
            raise LockNeedsSession()

        return principal.session

    # -- jobs --------------------------------------------------------------------

    def _new_job(
        self, principal: Principal, request: RequestInfo, resources: list[str]
    ) -> Job:
        job = Job(
            job_id=self._next_job_id,
            user_name=principal.user.name,
            created=self.clock.now(),
            request_method=request.method,
            request_url=request.url,
            request_body=request.body,
            policy=self.job_policy,
            resources=resources,
        )
        self._next_job_id += 1
        self.jobs[job.job_id] = job
        retention = int(self.profile.section("jobs")["retention"])
        while len(self.jobs) > retention:
            self.jobs.popitem(last=False)

        return job

    def read_job(self, principal: Principal, job_id: int) -> tuple[Job, JobStatus]:
        """A job of the principal's user, counted as one poll.

        Raises:
            NotFound: no such job, or one of another user.
        """
        with self._guard:
            job = self.jobs.get(job_id)
            if job is None or job.user_name != principal.user.name:
                raise NotFound(object=f"jobs/{job_id}")

            job.reads += 1

            return job, job.status_at(self.clock.now())

    def job_status(self, job: Job) -> JobStatus:
        """The job as it stands now."""
        with self._guard:
            return job.status_at(self.clock.now())

    def wait_for_job(self, job: Job, max_wait: float | None) -> JobStatus:
        """Wait until the job completes or ``max_wait`` real seconds pass.

        The wait is capped by the profile's ``max_wait_cap_seconds``.
        """
        cap = float(self.profile.section("jobs")["max_wait_cap_seconds"])
        limit = cap if max_wait is None else min(max_wait, cap)
        deadline = time.monotonic() + limit
        while True:
            status = self.job_status(job)
            if status.completed is not None or time.monotonic() >= deadline:
                return status

            time.sleep(WAIT_SLICE_SECONDS)

    def set_job_policy(self, policy: JobPolicy) -> None:
        """How jobs accepted from now on progress, and whether they fail."""
        with self._guard:
            self.job_policy = policy

    # -- storage and microcode ---------------------------------------------------

    def set_microcode(self, version: str) -> None:
        """Report a different microcode version (for tests)."""
        with self._guard:
            self.microcode = version

    def check_encryption_supported(self) -> None:
        """Refuse the encryption-key calls on a model or microcode that lacks them.

        Raises:
            MicrocodeUnsupported: the support matrix excludes the array.
        """
        model = self.profile.storage.model
        if not encryption_supported(model, self.microcode, support_matrix()):
            raise MicrocodeUnsupported(model=model, microcode=self.microcode)

    # -- encryption keys ---------------------------------------------------------

    def key_list(self) -> list[Key]:
        """Every key, in ID order."""
        with self._guard:
            return [self.keys[k] for k in sorted(self.keys)]

    def get_key(self, key_id: int) -> Key:
        """A DEK or FREE key; CEKs and KEKs are only listed, as documented.

        Raises:
            NotFound: no such key, or a CEK or KEK.
        """
        with self._guard:
            key = self.keys.get(key_id)
            if key is None or key.key_type not in ("DEK", "FREE"):
                raise NotFound(object=f"encryption-keys/{key_id}")

            return key

    def key_counts(self) -> dict[str, int]:
        """How many keys of each type the array holds, and how many it could."""
        with self._guard:
            counts = {t: 0 for t in ("DEK", "CEK", "KEK", "FREE")}
            for key in self.keys.values():
                counts[key.key_type] += 1

            return {
                "numOfKeys": len(self.keys),
                "numOfDeks": counts["DEK"],
                "numOfCeks": counts["CEK"],
                "numOfKeks": counts["KEK"],
                "numOfFreeKeys": counts["FREE"],
                "maxNumOfKeys": self._max_keys(),
            }

    def _adopt(self, key: Key) -> Key:
        """Make a key count this array's backups from now on."""
        key.join(self.tally)

        return key

    def _max_keys(self) -> int:
        return int(self.profile.section("keys")["max_keys"])

    def create_keys(
        self, principal: Principal, count: int, request: RequestInfo
    ) -> Job:
        """Add ``count`` FREE keys at the lowest free IDs.

        Raises:
            MicrocodeUnsupported, LockedBySelf, LockedByOther: see above.
            KeyLimit: the keys would pass the maximum; nothing is created.
        """
        self.check_encryption_supported()
        with self._guard:
            self.check_unlocked(principal)
            existing, maximum = len(self.keys), self._max_keys()
            if existing + count > maximum:
                raise KeyLimit(
                    existing=existing,
                    requested=count,
                    maximum=maximum,
                    available=maximum - existing,
                )

            job = self._new_job(principal, request, [])
            if not job.fails:
                now = self.clock.now()
                for key_id in free_key_ids(self.keys, count, maximum):
                    key = new_key(key_id, "FREE", now, self.entropy)
                    self.keys[key_id] = self._adopt(key)

        return job

    def delete_key(
        self, principal: Principal, key_id: int, request: RequestInfo
    ) -> Job:
        """Delete a FREE key.

        Raises:
            NotFound: no such key.
            KeyNotFree: the key is in use.
            MicrocodeUnsupported, LockedBySelf, LockedByOther: see above.
        """
        with self._guard:
            key = self.keys.get(key_id)
            if key is None:
                raise NotFound(object=f"encryption-keys/{key_id}")
            if key.key_type != "FREE":
                raise KeyNotFree(key_id=key_id, key_type=key.key_type)

            self.check_encryption_supported()
            self.check_unlocked(principal)
            job = self._new_job(principal, request, [f"encryption-keys/{key_id}"])
            if not job.fails:
                del self.keys[key_id]

        return job

    # -- backup and restore ------------------------------------------------------

    def backup(self, principal: Principal, password: object) -> BackupResult:
        """Write every key into an encrypted backup file.

        Each key written counts one more backup in its ``numOfBackups``.

        Raises:
            InvalidValue: the password breaks the documented rules.
            MicrocodeUnsupported, LockedBySelf, LockedByOther: see above.
        """
        checked = check_backup_password(password)
        self.check_encryption_supported()
        with self._guard:
            self.check_unlocked(principal)
            records = [k.backup_record for k in self.key_list()]
            self.tally.made += 1
            label = f"backup/{self.backups_made}"
            self.backups_made += 1
            file_name = backup_file_name(self.profile, self.clock.now())

        # Sealing runs the key derivation: outside the guard, so a costly profile
        # slows only this request.
        data = backup_file.seal(
            records,
            checked,
            kdf_params(self.profile),
            salt=self.entropy.bytes(f"{label}/salt", backup_file.SALT_SIZE),
            nonce=self.entropy.bytes(f"{label}/nonce", backup_file.NONCE_SIZE),
        )
        logger.info("emulator.backup_made", extra={"emulator.key_count": len(records)})

        return BackupResult(data, file_name, len(records))

    def restore(
        self, principal: Principal, data: bytes, password: object, request: RequestInfo
    ) -> Job:
        """Put back the keys of a backup file that the array no longer holds.

        Keys whose ID the array still uses are left as they are: restore brings back
        keys whose information was lost (the emulator's reading of the vendor's
        description).

        Raises:
            InvalidValue: the password breaks the documented rules.
            MicrocodeUnsupported, LockedBySelf, LockedByOther: see above.
            BackupFileInvalid: the file is damaged, not a backup file, or the
                password does not open it.
        """
        checked = check_backup_password(password)
        self.check_encryption_supported()
        self.check_unlocked(principal)
        records = open_backup(data, checked)
        with self._guard:
            self.check_unlocked(principal)
            missing = [r for r in records if r.key_id not in self.keys]
            resources = [f"encryption-keys/{r.key_id}" for r in missing]
            job = self._new_job(principal, request, resources)
            if not job.fails:
                for record in missing:
                    self.keys[record.key_id] = self._adopt(key_from_record(record))

        logger.info(
            "emulator.keys_restored", extra={"emulator.key_count": len(missing)}
        )

        return job
