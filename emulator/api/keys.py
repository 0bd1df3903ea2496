"""Encryption keys: list, get, create, delete, count, and the backup file.

Every call here answers 412 on a model or microcode the support matrix leaves out,
and the calls that change keys (create, delete, backup, restore) refuse to run while
the resource lock is held, as the vendor documents.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from emulator.api.common import (
    MULTIPART,
    OCTET_STREAM,
    action_parameters,
    array,
    integer,
    json_object,
    operation,
    query_integer,
    reply,
    request_info,
)
from emulator.api.jobs import accepted
from emulator.errors import InvalidValue, MissingParameter, NotFound, UnknownAttribute
from emulator.model.clock import iso_time, parse_iso_time
from emulator.model.keys import Key, select_keys
from emulator.model.sessions import Principal

bp = Blueprint("keys", __name__)

SECURITY_VIEW = "Security Administrator (View Only)"
SECURITY_MODIFY = "Security Administrator (View & Modify)"
LISTED_TYPES = ("DEK", "CEK", "KEK", "FREE", "DEKANDFREE")
MAX_KEY_ID = 4095
MAX_LIST_COUNT = 1024
RESTORE_FIELDS = ("file", "password")
INVOKE_METHODS = ["POST", "PUT"]


def key_object(key: Key) -> dict[str, Any]:
    """A key as the array shows it; the key material is never shown."""
    return {
        "keyId": str(key.key_id),
        "createdTime": iso_time(key.created),
        "keyType": key.key_type,
        "uuid": "-",
        "targetDeviceLocation": key.target_device_location,
        "keyGeneratedLocation": key.generated_location,
        "numOfBackups": key.num_of_backups,
    }


def _key_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise NotFound(object=f"encryption-keys/{text}")

    if int(text) > MAX_KEY_ID:
        raise NotFound(object=f"encryption-keys/{text}")

    return int(text)


def _query_time(name: str) -> float | None:
    text = request.args.get(name)
    if text is None:
        return None

    try:
        return parse_iso_time(text)
    except ValueError:
        raise InvalidValue(parameter=name, reason="must be an ISO 8601 time") from None


@bp.get("/encryption-keys")
@operation(role=SECURITY_VIEW)
def list_keys(principal: Principal) -> Response:
    """Keys of one ``keyType``, filtered by ID, count and creation time."""
    key_type = request.args.get("keyType")
    if key_type is None:
        raise MissingParameter(parameter="keyType")
    if key_type not in LISTED_TYPES:
        raise InvalidValue(parameter="keyType", reason=f"must be one of {LISTED_TYPES}")

    start_key_id = query_integer("startKeyId", 0, 0, MAX_KEY_ID)
    count = query_integer("count", MAX_LIST_COUNT, 1, MAX_LIST_COUNT)
    start, end = _query_time("startCreatedTime"), _query_time("endCreatedTime")
    if start is not None and end is not None and start >= end:
        raise InvalidValue(
            parameter="startCreatedTime", reason="must be before endCreatedTime"
        )

    array().check_encryption_supported()
    keys = select_keys(
        array().key_list(),
        key_type,
        start_key_id=start_key_id,
        count=count,
        start_created=start,
        end_created=end,
    )

    return reply({"data": [key_object(k) for k in keys]})


@bp.get("/encryption-keys/<key_id>")
@operation(role=SECURITY_VIEW)
def get_key(principal: Principal, key_id: str) -> Response:
    """One DEK or FREE key."""
    number = _key_id(key_id)
    array().check_encryption_supported()

    return reply(key_object(array().get_key(number)))


@bp.post("/encryption-keys")
@operation(role=SECURITY_MODIFY)
def create_keys(principal: Principal) -> Response:
    """Create ``count`` FREE keys; 202 with a job without affectedResources."""
    body = json_object(allowed=("count",), empty_ok=False)
    if "count" not in body:
        raise MissingParameter(parameter="count")

    count = integer(body["count"], "count", 1, MAX_KEY_ID + 1)

    return accepted(array().create_keys(principal, count, request_info()))


@bp.delete("/encryption-keys/<key_id>")
@operation(role=SECURITY_MODIFY)
def delete_key(principal: Principal, key_id: str) -> Response:
    """Delete a FREE key; the job's affectedResources names it."""
    json_object(allowed=())

    return accepted(array().delete_key(principal, _key_id(key_id), request_info()))


@bp.get("/encryption-key-counts/instance")
@operation(role=SECURITY_VIEW)
def key_counts(principal: Principal) -> Response:
    """How many keys the array holds (the fields are the emulator's choice)."""
    array().check_encryption_supported()

    return reply(array().key_counts())


@bp.route("/encryption-keys/file/actions/backup/invoke", methods=INVOKE_METHODS)
@operation(role=SECURITY_MODIFY, produces=OCTET_STREAM)
def backup_keys(principal: Principal) -> Response:
    """Back up every key to an encrypted file, downloaded in the reply."""
    parameters = action_parameters(allowed=("password",), required=("password",))
    result = array().backup(principal, parameters["password"])
    disposition = f'attachment; filename="{result.file_name}"'

    return Response(
        result.data,
        status=200,
        content_type=OCTET_STREAM,
        headers={"Content-Disposition": disposition},
    )


@bp.route("/encryption-keys/file/actions/restore/invoke", methods=INVOKE_METHODS)
@operation(role=SECURITY_MODIFY, consumes=MULTIPART)
def restore_keys(principal: Principal) -> Response:
    """Restore keys from an uploaded backup file.

    The vendor does not publish the upload format. The emulator's choice: a
    ``multipart/form-data`` body with the file in a part named ``file`` and the
    password in a field named ``password``; the reply is 202 with a job whose
    affectedResources name the keys put back.
    """
    for name in (*request.form.keys(), *request.files.keys()):
        if name not in RESTORE_FIELDS:
            raise UnknownAttribute(attribute=name)

    upload = request.files.get("file")
    if upload is None:
        raise MissingParameter(parameter="file")
    password = request.form.get("password")
    if password is None:
        raise MissingParameter(parameter="password")

    # The job records no body: the upload holds the password and the key set.
    job = array().restore(principal, upload.read(), password, request_info(body=""))

    return accepted(job)
