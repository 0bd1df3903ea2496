"""Tests for the emulator's encryption-key backup file format."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.backup_file import (
    HEADER_SIZE,
    KEY_TYPES,
    NONCE_SIZE,
    SALT_SIZE,
    BackupFileError,
    BackupKey,
    DamagedBackupFile,
    KdfParams,
    NotABackupFile,
    WrongPassword,
    check_kdf_params,
    open_backup,
    read_header,
    seal,
)

CHEAP_KDF = KdfParams(log2_n=4, r=8, p=1)
PASSWORD = "Correct-Horse-7"
SALT = bytes(range(SALT_SIZE))
NONCE = bytes(range(100, 100 + NONCE_SIZE))

# Byte offsets of the header fields, written out from docs/backup-file.md rather
# than taken from the module, so that the tests also hold the module to the doc.
MAGIC_OFFSET = 0
VERSION_OFFSET = 8
KDF_ID_OFFSET = 10
LOG2_N_OFFSET = 11
R_OFFSET = 12
P_OFFSET = 13
SALT_OFFSET = 14
NONCE_OFFSET = 30
KEY_COUNT_OFFSET = 42
VERIFIER_OFFSET = 46
DOCUMENTED_HEADER_SIZE = 78

# The tests run scrypt often; Hypothesis' default deadline would trip on a slow
# machine even though the cost is bounded.
PROPERTY_SETTINGS = settings(deadline=None, max_examples=60)

printable_ascii = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=255
)

backup_keys = st.builds(
    BackupKey,
    key_id=st.integers(min_value=0, max_value=4095),
    key_type=st.sampled_from(KEY_TYPES),
    created_time=st.integers(min_value=0, max_value=2**64 - 1),
    generated_location=st.sampled_from(("DKC", "KMS")),
    target_device_location=printable_ascii,
    material=st.binary(min_size=32, max_size=32),
)

key_sets = st.lists(backup_keys, max_size=50, unique_by=lambda key: key.key_id)

# Long enough that finding one by chance inside random ciphertext is negligible.
passwords = st.text(min_size=8, max_size=40).filter(lambda text: "\x00" not in text)


def make_key(key_id: int = 1, **changes: object) -> BackupKey:
    """Builds a valid key, with any fields overridden by changes."""
    key = BackupKey(
        key_id=key_id,
        key_type="DEK",
        created_time=1_700_000_000,
        generated_location="DKC",
        target_device_location="HDD00-09",
        material=bytes([key_id % 256]) * 32,
    )
    return dataclasses.replace(key, **changes)  # type: ignore[arg-type]


SAMPLE_KEYS = [
    make_key(0),
    make_key(7, key_type="KEK", generated_location="KMS", target_device_location="-"),
    make_key(4095, key_type="FREE", created_time=0, target_device_location=""),
]
SAMPLE_FILE = seal(SAMPLE_KEYS, PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)


def with_bytes(data: bytes, offset: int, replacement: bytes) -> bytes:
    """Returns data with the bytes at offset replaced."""
    return data[:offset] + replacement + data[offset + len(replacement) :]


def documented_keys(password: str, salt: bytes, kdf: KdfParams) -> tuple[bytes, bytes]:
    """Derives the AES key and verifier key the way the doc describes."""
    derived = Scrypt(salt=salt, length=64, n=2**kdf.log2_n, r=kdf.r, p=kdf.p).derive(
        password.encode("utf-8")
    )
    return derived[:32], derived[32:]


def reseal_plaintext(data: bytes, plaintext: bytes) -> bytes:
    """Re-seals a file's header over a new plaintext, following the doc only."""
    header = data[:DOCUMENTED_HEADER_SIZE]
    aes_key, _ = documented_keys(PASSWORD, SALT, CHEAP_KDF)
    return header + AESGCM(aes_key).encrypt(NONCE, plaintext, header)


def flip_bit(data: bytes, bit: int) -> bytes:
    """Returns data with one bit inverted."""
    index, shift = divmod(bit, 8)
    return with_bytes(data, index, bytes([data[index] ^ (1 << shift)]))


@PROPERTY_SETTINGS
@given(keys=key_sets, password=passwords)
def test_open__round_trip(keys: list[BackupKey], password: str) -> None:
    """Opening a sealed file with its password gives back the same keys in order."""
    data = seal(keys, password, CHEAP_KDF, salt=SALT, nonce=NONCE)

    assert open_backup(data, password) == keys


def test_seal__reproducible() -> None:
    """The same keys, password, parameters, salt and nonce give identical bytes."""
    again = seal(list(SAMPLE_KEYS), PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)

    assert again == SAMPLE_FILE


def test_seal__different_salt_changes_bytes() -> None:
    """A different salt changes the derived key and so the sealed key set too."""
    other_salt = bytes(SALT_SIZE)

    other = seal(SAMPLE_KEYS, PASSWORD, CHEAP_KDF, salt=other_salt, nonce=NONCE)

    assert other[HEADER_SIZE:] != SAMPLE_FILE[HEADER_SIZE:]
    assert open_backup(other, PASSWORD) == SAMPLE_KEYS


def test_seal__different_nonce_changes_bytes() -> None:
    """A different nonce changes the sealed key set."""
    other_nonce = bytes(NONCE_SIZE)

    other = seal(SAMPLE_KEYS, PASSWORD, CHEAP_KDF, salt=SALT, nonce=other_nonce)

    assert other[HEADER_SIZE:] != SAMPLE_FILE[HEADER_SIZE:]


def test_seal__header_layout_matches_doc() -> None:
    """The header fields sit at the offsets docs/backup-file.md gives."""
    data = SAMPLE_FILE

    assert HEADER_SIZE == DOCUMENTED_HEADER_SIZE
    assert data[MAGIC_OFFSET:VERSION_OFFSET] == b"VSPEMUKF"
    assert data[VERSION_OFFSET:KDF_ID_OFFSET] == b"\x00\x01"
    assert data[KDF_ID_OFFSET:SALT_OFFSET] == bytes([1, 4, 8, 1])
    assert data[SALT_OFFSET:NONCE_OFFSET] == SALT
    assert data[NONCE_OFFSET:KEY_COUNT_OFFSET] == NONCE
    assert data[KEY_COUNT_OFFSET:VERIFIER_OFFSET] == struct.pack(">I", 3)


def test_seal__body_length_matches_doc() -> None:
    """The sealed body is the records' length plus the 16-byte GCM tag."""
    record_sizes = [13 + len(key.target_device_location) + 32 for key in SAMPLE_KEYS]

    assert len(SAMPLE_FILE) == DOCUMENTED_HEADER_SIZE + sum(record_sizes) + 16


@PROPERTY_SETTINGS
@given(password=passwords, wrong=passwords)
def test_open__wrong_password(password: str, wrong: str) -> None:
    """Any password other than the sealing one raises WrongPassword."""
    data = seal(SAMPLE_KEYS, password, CHEAP_KDF, salt=SALT, nonce=NONCE)

    if wrong != password:
        with pytest.raises(WrongPassword):
            open_backup(data, wrong)


def test_open__wrong_password_message_has_no_secret() -> None:
    """The WrongPassword message quotes neither password."""
    with pytest.raises(WrongPassword) as caught:
        open_backup(SAMPLE_FILE, "Tried-Password-99")

    assert "Tried-Password-99" not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_open__unencodable_password() -> None:
    """A password with a lone surrogate is reported as wrong, not as a crash."""
    with pytest.raises(WrongPassword):
        open_backup(SAMPLE_FILE, "pass\ud800word")


@PROPERTY_SETTINGS
@given(bit=st.integers(min_value=0, max_value=len(SAMPLE_FILE) * 8 - 1))
def test_open__flipped_bit(bit: int) -> None:
    """Flipping any single bit of the file makes opening it fail."""
    damaged = flip_bit(SAMPLE_FILE, bit)

    with pytest.raises(BackupFileError):
        open_backup(damaged, PASSWORD)


def test_open__every_flipped_bit() -> None:
    """Flipping each bit of the file in turn never opens, checked exhaustively."""
    opened = []
    for bit in range(len(SAMPLE_FILE) * 8):
        try:
            open_backup(flip_bit(SAMPLE_FILE, bit), PASSWORD)
        except BackupFileError:
            continue
        opened.append(bit)

    assert opened == []


def test_open__flipped_body_bit_is_damage() -> None:
    """A bit flipped in the sealed key set is reported as damage, not a password."""
    with pytest.raises(DamagedBackupFile):
        open_backup(flip_bit(SAMPLE_FILE, (HEADER_SIZE + 5) * 8), PASSWORD)


def test_open__flipped_tag_bit_is_damage() -> None:
    """A bit flipped in the final GCM tag is reported as damage."""
    with pytest.raises(DamagedBackupFile):
        open_backup(flip_bit(SAMPLE_FILE, len(SAMPLE_FILE) * 8 - 1), PASSWORD)


def test_open__flipped_salt_bit_fails_verifier() -> None:
    """A bit flipped in the salt fails the password verifier."""
    with pytest.raises(WrongPassword):
        open_backup(flip_bit(SAMPLE_FILE, SALT_OFFSET * 8), PASSWORD)


@PROPERTY_SETTINGS
@given(length=st.integers(min_value=0, max_value=len(SAMPLE_FILE) - 1))
def test_open__truncated(length: int) -> None:
    """A file cut short at any length fails to open."""
    with pytest.raises(BackupFileError):
        open_backup(SAMPLE_FILE[:length], PASSWORD)


def test_open__every_truncation_classified() -> None:
    """Cuts inside the header are not a backup file; cuts after it are damage."""
    outcomes = {}
    for length in range(len(SAMPLE_FILE)):
        try:
            open_backup(SAMPLE_FILE[:length], PASSWORD)
        except BackupFileError as error:
            outcomes[length] = type(error)

    assert all(outcomes[n] is NotABackupFile for n in range(HEADER_SIZE))
    assert all(
        outcomes[n] is DamagedBackupFile for n in range(HEADER_SIZE, len(SAMPLE_FILE))
    )


def test_open__appended_bytes() -> None:
    """Bytes appended after the tag are detected as damage."""
    with pytest.raises(DamagedBackupFile):
        open_backup(SAMPLE_FILE + b"\x00", PASSWORD)


def test_seal__follows_documented_crypto() -> None:
    """The verifier and the sealed body can be checked from the doc alone."""
    aes_key, verifier_key = documented_keys(PASSWORD, SALT, CHEAP_KDF)
    fields = SAMPLE_FILE[:VERIFIER_OFFSET]
    header = SAMPLE_FILE[:DOCUMENTED_HEADER_SIZE]

    expected_verifier = hmac.new(verifier_key, fields, hashlib.sha256).digest()
    plaintext = AESGCM(aes_key).decrypt(
        NONCE, SAMPLE_FILE[DOCUMENTED_HEADER_SIZE:], header
    )

    assert header[VERIFIER_OFFSET:] == expected_verifier
    first_record = struct.pack(">HBBQB", 0, 0, 0, 1_700_000_000, 8)
    assert plaintext.startswith(first_record + b"HDD00-09" + bytes(32))


def test_open__authentic_trailing_plaintext_is_damage() -> None:
    """An authentic body with bytes after the last record is refused as damage."""
    aes_key, _ = documented_keys(PASSWORD, SALT, CHEAP_KDF)
    header = SAMPLE_FILE[:DOCUMENTED_HEADER_SIZE]
    plaintext = AESGCM(aes_key).decrypt(
        NONCE, SAMPLE_FILE[DOCUMENTED_HEADER_SIZE:], header
    )

    with pytest.raises(DamagedBackupFile):
        open_backup(reseal_plaintext(SAMPLE_FILE, plaintext + b"\x00"), PASSWORD)


def test_open__authentic_short_plaintext_is_damage() -> None:
    """An authentic body that ends inside a record is refused as damage."""
    with pytest.raises(DamagedBackupFile):
        open_backup(reseal_plaintext(SAMPLE_FILE, b"\x00" * 20), PASSWORD)


@pytest.mark.parametrize(
    "record",
    [
        struct.pack(">HBBQB", 4096, 0, 0, 0, 0) + bytes(32),
        struct.pack(">HBBQB", 1, 4, 0, 0, 0) + bytes(32),
        struct.pack(">HBBQB", 1, 0, 2, 0, 0) + bytes(32),
        struct.pack(">HBBQB", 1, 0, 0, 0, 1) + b"\x07" + bytes(32),
    ],
)
def test_open__authentic_out_of_range_record_is_damage(record: bytes) -> None:
    """An authentic record with an out-of-range field is refused as damage."""
    header = with_bytes(SAMPLE_FILE, KEY_COUNT_OFFSET, struct.pack(">I", 1))
    aes_key, verifier_key = documented_keys(PASSWORD, SALT, CHEAP_KDF)
    fields = header[:VERIFIER_OFFSET]
    verifier = hmac.new(verifier_key, fields, hashlib.sha256).digest()
    data = fields + verifier
    data += AESGCM(aes_key).encrypt(NONCE, record, data)

    with pytest.raises(DamagedBackupFile):
        open_backup(data, PASSWORD)


def test_open__empty_key_set() -> None:
    """A file with no keys opens to an empty list."""
    data = seal([], PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)

    assert open_backup(data, PASSWORD) == []


def test_read_header__bad_magic() -> None:
    """A file that does not start with the magic is not a backup file."""
    data = with_bytes(SAMPLE_FILE, MAGIC_OFFSET, b"NOTMAGIC")

    with pytest.raises(NotABackupFile):
        read_header(data)
    with pytest.raises(NotABackupFile):
        open_backup(data, PASSWORD)


@pytest.mark.parametrize("version", [0, 2, 0xFFFF])
def test_read_header__unknown_version(version: int) -> None:
    """A format version other than 1 is not a backup file this module reads."""
    data = with_bytes(SAMPLE_FILE, VERSION_OFFSET, struct.pack(">H", version))

    with pytest.raises(NotABackupFile):
        open_backup(data, PASSWORD)


def test_read_header__unknown_kdf() -> None:
    """A KDF id other than scrypt's is not a backup file this module reads."""
    data = with_bytes(SAMPLE_FILE, KDF_ID_OFFSET, b"\x02")

    with pytest.raises(NotABackupFile):
        open_backup(data, PASSWORD)


@pytest.mark.parametrize(
    ("log2_n", "r", "p"),
    [
        (0, 8, 1),
        (21, 8, 1),
        (255, 255, 255),
        (4, 0, 1),
        (4, 33, 1),
        (4, 8, 0),
        (4, 8, 17),
        (20, 8, 1),  # 1 GiB of memory
        (17, 8, 16),  # within memory, but far too much work
        (16, 1, 1),  # past scrypt's own rule n < 2**(16 * r)
    ],
)
def test_read_header__absurd_kdf_params(log2_n: int, r: int, p: int) -> None:
    """scrypt parameters outside the accepted bounds make the file unreadable."""
    data = with_bytes(SAMPLE_FILE, LOG2_N_OFFSET, bytes([log2_n, r, p]))

    with pytest.raises(NotABackupFile):
        read_header(data)
    with pytest.raises(NotABackupFile):
        open_backup(data, PASSWORD)


def test_read_header__absurd_key_count() -> None:
    """A key count above the 4096 possible key ids is not a backup file."""
    data = with_bytes(SAMPLE_FILE, KEY_COUNT_OFFSET, struct.pack(">I", 4097))

    with pytest.raises(NotABackupFile):
        read_header(data)


def test_read_header__without_password() -> None:
    """The header reads back the parameters, salt, nonce and count unopened."""
    header = read_header(SAMPLE_FILE)

    assert header.version == 1
    assert header.kdf == CHEAP_KDF
    assert header.salt == SALT
    assert header.nonce == NONCE
    assert header.key_count == len(SAMPLE_KEYS)


def test_read_header__header_only() -> None:
    """The header alone, without the sealed key set, is enough to read it."""
    assert read_header(SAMPLE_FILE[:HEADER_SIZE]).key_count == len(SAMPLE_KEYS)


@PROPERTY_SETTINGS
@given(keys=key_sets.filter(bool), password=passwords)
def test_seal__no_secret_in_bytes(keys: list[BackupKey], password: str) -> None:
    """Neither the password nor any key material appears in the file bytes."""
    data = seal(keys, password, CHEAP_KDF, salt=SALT, nonce=NONCE)

    assert password.encode("utf-8") not in data
    assert all(key.material not in data for key in keys)


def test_backup_key__repr_hides_material() -> None:
    """A key's repr leaves its material out."""
    key = make_key(3, material=b"\xab" * 32)

    assert "material" not in repr(key)
    assert repr(b"\xab" * 32) not in repr(key)


@pytest.mark.parametrize(
    "bad_key",
    [
        make_key(-1),
        make_key(4096),
        make_key(True),
        make_key(key_type="XEK"),
        make_key(created_time=-1),
        make_key(created_time=2**64),
        make_key(generated_location="HSM"),
        make_key(target_device_location="HDD\u00e9"),
        make_key(target_device_location="HDD\n"),
        make_key(target_device_location="x" * 256),
        make_key(material=b"\x00" * 31),
        make_key(material=b"\x00" * 33),
    ],
)
def test_seal__invalid_key(bad_key: BackupKey) -> None:
    """A key that does not fit the record format is refused with ValueError."""
    with pytest.raises(ValueError):
        seal([bad_key], PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)


def test_seal__invalid_material_message_has_no_secret() -> None:
    """Refusing a key with bad material does not quote the material."""
    material = b"SECRETSECRETSECRETSECRETSECRET!"

    with pytest.raises(ValueError) as caught:
        seal([make_key(material=material)], PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)

    assert "SECRET" not in str(caught.value)


def test_seal__duplicate_key_ids() -> None:
    """Two keys with one id are refused, since an id names one key."""
    with pytest.raises(ValueError):
        seal([make_key(5), make_key(5)], PASSWORD, CHEAP_KDF, salt=SALT, nonce=NONCE)


@pytest.mark.parametrize(
    ("salt", "nonce"),
    [
        (bytes(SALT_SIZE - 1), NONCE),
        (bytes(SALT_SIZE + 1), NONCE),
        (SALT, bytes(NONCE_SIZE - 1)),
        (SALT, bytes(NONCE_SIZE + 1)),
    ],
)
def test_seal__invalid_salt_or_nonce(salt: bytes, nonce: bytes) -> None:
    """A salt or nonce of the wrong size is refused with ValueError."""
    with pytest.raises(ValueError):
        seal(SAMPLE_KEYS, PASSWORD, CHEAP_KDF, salt=salt, nonce=nonce)


@pytest.mark.parametrize(
    "kdf",
    [KdfParams(0, 8, 1), KdfParams(20, 8, 1), KdfParams(4, 0, 1), KdfParams(4, 8, 17)],
)
def test_seal__invalid_kdf_params(kdf: KdfParams) -> None:
    """scrypt parameters that open_backup would refuse are refused by seal."""
    with pytest.raises(ValueError):
        seal(SAMPLE_KEYS, PASSWORD, kdf, salt=SALT, nonce=NONCE)


@pytest.mark.parametrize("password", ["", "pass\ud800word"])
def test_seal__invalid_password(password: str) -> None:
    """An empty password or one with no UTF-8 form is refused with ValueError."""
    with pytest.raises(ValueError):
        seal(SAMPLE_KEYS, password, CHEAP_KDF, salt=SALT, nonce=NONCE)


def test_check_kdf_params__largest_memory_derives() -> None:
    """Parameters at the memory bound are accepted and scrypt can run them."""
    kdf = KdfParams(log2_n=17, r=8, p=1)
    data = seal(SAMPLE_KEYS[:1], PASSWORD, kdf, salt=SALT, nonce=NONCE)

    assert check_kdf_params(kdf) is None
    assert open_backup(data, PASSWORD) == SAMPLE_KEYS[:1]


@given(
    log2_n=st.integers(min_value=1, max_value=20),
    r=st.integers(min_value=1, max_value=32),
    p=st.integers(min_value=1, max_value=16),
)
def test_check_kdf_params__bounds_hold(log2_n: int, r: int, p: int) -> None:
    """Any accepted parameters keep scrypt within 128 MiB and 2**21 work units."""
    accepted = check_kdf_params(KdfParams(log2_n, r, p)) is None

    n = 2**log2_n
    within = 128 * r * n <= 128 * 2**20 and p * r * n <= 2**21 and log2_n < 16 * r
    assert accepted == within
