"""The emulator's encryption-key backup file (.ekf): sealing and opening.

The array's own .ekf format is not published, so this module defines one of the
emulator's choosing; docs/backup-file.md describes it byte by byte. A file is a
fixed-size header followed by the key set, sealed with AES-256-GCM under a key
that scrypt derives from the backup password. The header travels in the clear
(so it can be read without the password) but is bound into the seal as
associated data, and a password verifier in the header tells a wrong password
apart from a damaged file.

seal() takes the salt and nonce from its caller and is therefore deterministic:
under a profile's seed the same key set yields the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_TYPES = ("DEK", "CEK", "KEK", "FREE")
GENERATED_LOCATIONS = ("DKC", "KMS")

SALT_SIZE = 16
NONCE_SIZE = 12

MAGIC = b"VSPEMUKF"
FORMAT_VERSION = 1
KDF_ID_SCRYPT = 1

MATERIAL_SIZE = 32
MIN_KEY_ID = 0
MAX_KEY_ID = 4095
MAX_KEY_COUNT = MAX_KEY_ID - MIN_KEY_ID + 1
MAX_TARGET_LOCATION_SIZE = 255
MIN_CREATED_TIME = 0
MAX_CREATED_TIME = 2**64 - 1

# Bounds on the scrypt cost a file may ask for. A file is untrusted input, and
# without these a crafted header could make open_backup spend minutes of CPU or
# gigabytes of memory before it could tell the password is wrong.
MIN_LOG2_N = 1
MAX_LOG2_N = 20
MIN_R = 1
MAX_R = 32
MIN_P = 1
MAX_P = 16
SCRYPT_BLOCK_BYTES = 128
MAX_SCRYPT_MEMORY = 128 * 1024 * 1024
MAX_SCRYPT_WORK = 2**21
# RFC 7914 requires N < 2**(128 * r / 8); OpenSSL refuses parameters past it.
SCRYPT_LOG2_N_PER_R = 16

AES_KEY_SIZE = 32
VERIFIER_KEY_SIZE = 32
DERIVED_SIZE = AES_KEY_SIZE + VERIFIER_KEY_SIZE
VERIFIER_SIZE = hashlib.sha256().digest_size
GCM_TAG_SIZE = 16

# Big-endian throughout. The prefix is parsed on its own first so that a file
# of another kind or version is rejected before any later field is trusted.
_PREFIX = struct.Struct(">8sH")
_HEADER_FIELDS = struct.Struct(f">8sHBBBB{SALT_SIZE}s{NONCE_SIZE}sI")
HEADER_SIZE = _HEADER_FIELDS.size + VERIFIER_SIZE

# One key record: key id, key type code, generated location code, created time,
# target location length; then the target location bytes and the material.
_RECORD_FIXED = struct.Struct(">HBBQB")


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost: n = 2**log2_n, r, p."""

    log2_n: int
    r: int
    p: int


@dataclass(frozen=True)
class BackupKey:
    """One encryption key as it is stored in a backup file.

    Attributes:
        key_id: Key number, 0..4095; unique within a backup file.
        key_type: One of KEY_TYPES.
        created_time: Creation time in epoch seconds, UTC; 0..2**64-1.
        generated_location: Where the key was made, "DKC" or "KMS".
        target_device_location: The device the key protects (e.g. "HDD00-09"),
            or "-"; printable ASCII of at most 255 bytes.
        material: The 32 bytes of key material.
    """

    key_id: int
    key_type: str
    created_time: int
    generated_location: str
    target_device_location: str
    # Left out of the repr so that logging a key never prints its material.
    material: bytes = field(repr=False)

    @cached_property
    def record(self) -> bytes:
        """The key packed as a record of the sealed key set.

        Checked and packed once per key: an array seals the same keys into every
        backup, so the cost of a backup does not grow with Python work per key.

        Raises:
            ValueError: the key does not fit the record format.
        """
        _check_key(self)

        return _pack_record(self)


@dataclass(frozen=True)
class BackupHeader:
    """The clear-text header of a backup file, readable without the password."""

    version: int
    kdf: KdfParams
    salt: bytes
    nonce: bytes
    key_count: int


class BackupFileError(Exception):
    """Base: the file cannot be opened."""


class NotABackupFile(BackupFileError):
    """Bad magic, unsupported version, truncated or malformed header."""


class WrongPassword(BackupFileError):
    """The password does not open this file."""


class DamagedBackupFile(BackupFileError):
    """The header checks out for this password but the sealed key set fails.

    Raised when authentication of the sealed key set fails (a flipped bit, a
    truncated or extended body).
    """


def seal(
    keys: Sequence[BackupKey],
    password: str,
    kdf: KdfParams,
    *,
    salt: bytes,
    nonce: bytes,
) -> bytes:
    """Seals a key set into backup file bytes.

    The result depends only on the arguments. The salt and nonce should be
    fresh random bytes per file (or drawn from a profile's seeded generator);
    reusing a salt with the same password and nonce for a different key set
    would reuse an AES-GCM nonce under one key, which the caller must avoid.

    Args:
        keys: The keys to store, in the order they are to be read back.
        password: The backup password; its UTF-8 bytes are used as they are,
            without Unicode normalisation.
        kdf: The scrypt cost; must lie within the bounds open_backup accepts.
        salt: SALT_SIZE bytes of scrypt salt.
        nonce: NONCE_SIZE bytes of AES-GCM nonce.

    Returns:
        The complete backup file.

    Raises:
        ValueError: A key, the password, the KDF parameters, the salt or the
            nonce is not acceptable. The message never quotes a secret.
    """
    _check_seal_inputs(keys, password, kdf, salt, nonce)
    records = [key.record for key in keys]

    header_fields = _pack_header_fields(kdf, salt, nonce, len(keys))
    aes_key, verifier_key = _derive_keys(password.encode("utf-8"), salt, kdf)
    header = header_fields + _verifier(verifier_key, header_fields)

    plaintext = b"".join(records)
    return header + _cipher(aes_key).encrypt(nonce, plaintext, header)


def read_header(data: bytes) -> BackupHeader:
    """Reads and checks the clear-text header of a backup file.

    Only the header's form is checked; whether it was altered can only be told
    with the password, by open_backup.

    Args:
        data: The backup file bytes (the whole file, or at least its header).

    Returns:
        The header fields.

    Raises:
        NotABackupFile: The bytes are not a header this module can read.
    """
    if len(data) < _PREFIX.size:
        raise NotABackupFile("file is shorter than the format prefix")

    magic, version = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise NotABackupFile("not an emulator key backup file (bad magic)")
    if version != FORMAT_VERSION:
        raise NotABackupFile(f"unsupported backup file version {version}")
    if len(data) < HEADER_SIZE:
        raise NotABackupFile("file is shorter than the header")

    return _parse_header_fields(data)


def open_backup(data: bytes, password: str) -> list[BackupKey]:
    """Opens a backup file and returns its key set.

    Args:
        data: The backup file bytes.
        password: The backup password.

    Returns:
        The keys, in the order they were sealed.

    Raises:
        NotABackupFile: The header is missing, malformed or out of bounds.
        WrongPassword: The password does not match the header's verifier.
            A header altered after sealing also fails this check, since the
            verifier covers it and cannot tell the two causes apart.
        DamagedBackupFile: The password is right but the sealed key set fails
            authentication or does not parse.
    """
    header = read_header(data)
    header_bytes = data[:HEADER_SIZE]
    aes_key = _unlock(header_bytes, header, password)

    plaintext = _decrypt_body(aes_key, header, header_bytes, data[HEADER_SIZE:])
    return _parse_records(plaintext, header.key_count)


def check_kdf_params(kdf: KdfParams) -> str | None:
    """Checks scrypt parameters against the bounds this format accepts.

    Args:
        kdf: The parameters to check.

    Returns:
        None when acceptable, otherwise a short reason for refusing them.
    """
    if not MIN_LOG2_N <= kdf.log2_n <= MAX_LOG2_N:
        return f"scrypt log2_n must be {MIN_LOG2_N}..{MAX_LOG2_N}"
    if not MIN_R <= kdf.r <= MAX_R:
        return f"scrypt r must be {MIN_R}..{MAX_R}"
    if not MIN_P <= kdf.p <= MAX_P:
        return f"scrypt p must be {MIN_P}..{MAX_P}"
    if kdf.log2_n >= SCRYPT_LOG2_N_PER_R * kdf.r:
        return "scrypt n must be below 2**(16 * r)"

    n = 2**kdf.log2_n
    if SCRYPT_BLOCK_BYTES * kdf.r * n > MAX_SCRYPT_MEMORY:
        return "scrypt memory 128 * r * n exceeds the bound"
    if kdf.p * kdf.r * n > MAX_SCRYPT_WORK:
        return "scrypt work p * r * n exceeds the bound"
    return None


def _check_seal_inputs(
    keys: Sequence[BackupKey],
    password: str,
    kdf: KdfParams,
    salt: bytes,
    nonce: bytes,
) -> None:
    """Raises ValueError unless seal()'s arguments can make a valid file."""
    if not password:
        raise ValueError("the backup password must not be empty")
    _check_password_encodable(password)

    kdf_problem = check_kdf_params(kdf)
    if kdf_problem is not None:
        raise ValueError(kdf_problem)
    if len(salt) != SALT_SIZE:
        raise ValueError(f"salt must be {SALT_SIZE} bytes")
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")

    _check_keys(keys)


def _check_password_encodable(password: str) -> None:
    """Raises ValueError if the password has no UTF-8 form (lone surrogates)."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the backup password is not valid Unicode text") from None


def _check_keys(keys: Sequence[BackupKey]) -> None:
    """Raises ValueError unless the key set fits the record format."""
    if len(keys) > MAX_KEY_COUNT:
        raise ValueError(f"a backup file holds at most {MAX_KEY_COUNT} keys")

    # Each key itself is checked as its record is packed (BackupKey.record).
    ids = [key.key_id for key in keys]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"key id {duplicate} appears more than once")


def _check_key(key: BackupKey) -> None:
    """Raises ValueError unless one key fits the record format."""
    if not _is_int_in(key.key_id, MIN_KEY_ID, MAX_KEY_ID):
        raise ValueError(f"key id must be an int {MIN_KEY_ID}..{MAX_KEY_ID}")
    if key.key_type not in KEY_TYPES:
        raise ValueError(f"key {key.key_id}: key type must be one of {KEY_TYPES}")
    if not _is_int_in(key.created_time, MIN_CREATED_TIME, MAX_CREATED_TIME):
        raise ValueError(
            f"key {key.key_id}: created time must be an int "
            f"{MIN_CREATED_TIME}..{MAX_CREATED_TIME}"
        )
    if key.generated_location not in GENERATED_LOCATIONS:
        raise ValueError(
            f"key {key.key_id}: generated location must be one of {GENERATED_LOCATIONS}"
        )
    if not _is_printable_ascii(key.target_device_location):
        raise ValueError(
            f"key {key.key_id}: target device location must be printable "
            f"ASCII of at most {MAX_TARGET_LOCATION_SIZE} bytes"
        )
    if not isinstance(key.material, bytes) or len(key.material) != MATERIAL_SIZE:
        raise ValueError(f"key {key.key_id}: material must be {MATERIAL_SIZE} bytes")


def _is_int_in(value: object, low: int, high: int) -> bool:
    """Tells whether value is a true int (not a bool) within low..high."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def _is_printable_ascii(text: object) -> bool:
    """Tells whether text is a str of printable ASCII that fits a length byte."""
    if not isinstance(text, str) or len(text) > MAX_TARGET_LOCATION_SIZE:
        return False
    # For ASCII text, isprintable() admits exactly 0x20-0x7E.
    return text.isascii() and text.isprintable()


def _pack_header_fields(
    kdf: KdfParams, salt: bytes, nonce: bytes, key_count: int
) -> bytes:
    """Packs the header up to, not including, the password verifier."""
    return _HEADER_FIELDS.pack(
        MAGIC,
        FORMAT_VERSION,
        KDF_ID_SCRYPT,
        kdf.log2_n,
        kdf.r,
        kdf.p,
        salt,
        nonce,
        key_count,
    )


def _parse_header_fields(data: bytes) -> BackupHeader:
    """Unpacks and bounds-checks the header fields after the prefix."""
    (_, version, kdf_id, log2_n, r, p, salt, nonce, key_count) = (
        _HEADER_FIELDS.unpack_from(data)
    )
    if kdf_id != KDF_ID_SCRYPT:
        raise NotABackupFile(f"unknown key derivation function id {kdf_id}")

    kdf = KdfParams(log2_n=log2_n, r=r, p=p)
    kdf_problem = check_kdf_params(kdf)
    if kdf_problem is not None:
        raise NotABackupFile(kdf_problem)
    if key_count > MAX_KEY_COUNT:
        raise NotABackupFile(f"key count {key_count} exceeds {MAX_KEY_COUNT}")

    return BackupHeader(
        version=version, kdf=kdf, salt=salt, nonce=nonce, key_count=key_count
    )


def _cipher(aes_key: bytes) -> AESGCM:
    """The AES-256-GCM cipher under a derived key.

    The cryptography primitives are imported on first use rather than with this
    module, so that an emulator starts without waiting for them.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(aes_key)


def _derive_keys(password: bytes, salt: bytes, kdf: KdfParams) -> tuple[bytes, bytes]:
    """Derives the AES-256-GCM key and the verifier's HMAC key from a password."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    derived = Scrypt(
        salt=salt, length=DERIVED_SIZE, n=2**kdf.log2_n, r=kdf.r, p=kdf.p
    ).derive(password)
    return derived[:AES_KEY_SIZE], derived[AES_KEY_SIZE:]


def _verifier(verifier_key: bytes, header_fields: bytes) -> bytes:
    """Computes the password verifier: HMAC-SHA256 over the header fields."""
    return hmac.new(verifier_key, header_fields, hashlib.sha256).digest()


def _unlock(header_bytes: bytes, header: BackupHeader, password: str) -> bytes:
    """Checks the password against the header's verifier; returns the AES key."""
    try:
        password_bytes = password.encode("utf-8")
    except UnicodeEncodeError:
        # seal() refuses such passwords, so no file can have been sealed with it.
        raise WrongPassword("the password does not open this backup file") from None

    aes_key, verifier_key = _derive_keys(password_bytes, header.salt, header.kdf)

    header_fields = header_bytes[: _HEADER_FIELDS.size]
    stored_verifier = header_bytes[_HEADER_FIELDS.size :]
    if not hmac.compare_digest(_verifier(verifier_key, header_fields), stored_verifier):
        raise WrongPassword("the password does not open this backup file")
    return aes_key


def _decrypt_body(
    aes_key: bytes, header: BackupHeader, header_bytes: bytes, body: bytes
) -> bytes:
    """Authenticates and decrypts the sealed key set."""
    if len(body) < GCM_TAG_SIZE:
        raise DamagedBackupFile("the sealed key set is truncated")

    from cryptography.exceptions import InvalidTag

    try:
        return _cipher(aes_key).decrypt(header.nonce, body, header_bytes)
    except InvalidTag:
        raise DamagedBackupFile("the sealed key set fails authentication") from None


def _pack_record(key: BackupKey) -> bytes:
    """Packs one key as a record of the sealed key set."""
    target = key.target_device_location.encode("ascii")
    fixed = _RECORD_FIXED.pack(
        key.key_id,
        KEY_TYPES.index(key.key_type),
        GENERATED_LOCATIONS.index(key.generated_location),
        key.created_time,
        len(target),
    )
    return fixed + target + key.material


def _parse_records(plaintext: bytes, key_count: int) -> list[BackupKey]:
    """Unpacks the decrypted key set, which must hold exactly key_count records.

    The key set has passed authentication by now, so a parse failure means the
    file was sealed by something other than seal() with the right password.
    """
    keys: list[BackupKey] = []
    offset = 0
    for _ in range(key_count):
        key, offset = _parse_record(plaintext, offset)
        keys.append(key)

    if offset != len(plaintext):
        raise DamagedBackupFile("the key set has bytes after its last record")
    return keys


def _parse_record(plaintext: bytes, offset: int) -> tuple[BackupKey, int]:
    """Unpacks the record at offset; returns it and the next record's offset."""
    if len(plaintext) - offset < _RECORD_FIXED.size:
        raise DamagedBackupFile("the key set ends inside a record")
    key_id, type_code, location_code, created_time, target_size = (
        _RECORD_FIXED.unpack_from(plaintext, offset)
    )
    offset += _RECORD_FIXED.size

    end = offset + target_size + MATERIAL_SIZE
    if len(plaintext) < end:
        raise DamagedBackupFile("the key set ends inside a record")
    target = plaintext[offset : offset + target_size]
    material = plaintext[offset + target_size : end]

    key = _record_to_key(
        key_id, type_code, location_code, created_time, target, material
    )
    return key, end


def _record_to_key(
    key_id: int,
    type_code: int,
    location_code: int,
    created_time: int,
    target: bytes,
    material: bytes,
) -> BackupKey:
    """Builds a BackupKey from decoded record fields, checking their ranges."""
    if key_id > MAX_KEY_ID or type_code >= len(KEY_TYPES):
        raise DamagedBackupFile("a key record holds an out-of-range field")
    if location_code >= len(GENERATED_LOCATIONS):
        raise DamagedBackupFile("a key record holds an out-of-range field")

    target_text = target.decode("ascii", errors="replace")
    if not _is_printable_ascii(target_text):
        raise DamagedBackupFile("a key record holds an out-of-range field")

    return BackupKey(
        key_id=key_id,
        key_type=KEY_TYPES[type_code],
        created_time=created_time,
        generated_location=GENERATED_LOCATIONS[location_code],
        target_device_location=target_text,
        material=material,
    )
