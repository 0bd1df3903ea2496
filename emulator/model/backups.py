"""Between the array's keys and its backup files: records, names and costs.

The file format itself lives in ``emulator.backup_file``; this module turns the
array's keys into the file's records and back, names the download, and reads the
key-derivation cost from the profile.
"""

from __future__ import annotations

from emulator import backup_file
from emulator.errors import BackupFileInvalid
from emulator.model.clock import iso_time
from emulator.model.keys import Key
from emulator.profile import Profile


def key_from_record(record: backup_file.BackupKey) -> Key:
    """The key a backup file's record puts back (its backup count starts at 0)."""
    return Key(
        key_id=record.key_id,
        key_type=record.key_type,
        created=float(record.created_time),
        generated_location=record.generated_location,
        target_device_location=record.target_device_location,
        material=record.material,
    )


def backup_file_name(profile: Profile, now: float) -> str:
    """The download's file name from the profile's template (the emulator's choice)."""
    template = str(profile.section("backup")["file_name"])
    stamp = iso_time(now).replace("-", "").replace(":", "")

    return template.format(
        serial=profile.storage.serial_number,
        time=stamp.removesuffix("Z").replace("T", ""),
    )


def kdf_params(profile: Profile) -> backup_file.KdfParams:
    """The scrypt cost the profile sets for backup files."""
    settings = profile.section("backup")

    return backup_file.KdfParams(
        log2_n=int(settings["kdf_log2_n"]),
        r=int(settings["kdf_r"]),
        p=int(settings["kdf_p"]),
    )


def open_backup(data: bytes, password: str) -> list[backup_file.BackupKey]:
    """The records of a backup file.

    Raises:
        BackupFileInvalid: the file does not open, with the reason.
    """
    try:
        return backup_file.open_backup(data, password)
    except backup_file.WrongPassword:
        raise BackupFileInvalid(reason="the password does not open the file") from None
    except backup_file.DamagedBackupFile:
        raise BackupFileInvalid(reason="the file is damaged") from None
    except backup_file.NotABackupFile:
        raise BackupFileInvalid(reason="the file is not a backup file") from None
