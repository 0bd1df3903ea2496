"""Version and storage information: who the array is and which microcode it runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from emulator.api.common import array, operation, reply
from emulator.errors import InvalidValue, NotFound
from emulator.model.sessions import Principal

version_bp = Blueprint("version", __name__)
bp = Blueprint("storages", __name__)

AUTO_ADDRESS = "auto"
INSTANCE_ID = "instance"


@version_bp.get("/version")
@operation(auth=False)
def get_version(principal: None) -> Response:
    """The API version; no authentication, as documented."""
    api = array().profile.section("api")

    return reply({"productName": api["product_name"], "apiVersion": api["api_version"]})


def _address(configured: str) -> str:
    # "auto" reports the address the client reached, so that clients which find
    # the array by matching their own configured host (as monitoring code does)
    # find it.
    if configured != AUTO_ADDRESS:
        return configured

    return request.host.rsplit(":", 1)[0].strip("[]") if request.host else ""


def _addresses() -> dict[str, str]:
    storage = array().profile.storage
    fields = {
        "svpIp": storage.svp_ip,
        "ctl1Ip": storage.ctl1_ip,
        "ctl2Ip": storage.ctl2_ip,
    }

    return {name: _address(value) for name, value in fields.items() if value}


def _summary() -> dict[str, Any]:
    storage = array().profile.storage

    return {
        "storageDeviceId": storage.storage_device_id,
        "model": storage.model,
        "serialNumber": storage.serial_number,
        **_addresses(),
    }


def _detail() -> dict[str, Any]:
    storage = array().profile.storage
    body = {
        **_summary(),
        "dkcMicroVersion": array().microcode,
        "communicationModes": [{"communicationMode": "lanConnectionMode"}],
        "isSecure": storage.is_secure,
        "targetCtl": storage.target_ctl,
        "usesSvp": storage.uses_svp,
        "lanConnectionProtocol": storage.lan_connection_protocol,
    }
    detail = request.args.get("detailInfoType")
    if detail is None:
        return body

    if detail != "version":
        raise InvalidValue(parameter="detailInfoType", reason="must be version")

    body["detailDkcMicroVersion"] = array().microcode
    body["ctl1MicroVersion"] = storage.ctl1_micro_version
    body["ctl2MicroVersion"] = storage.ctl2_micro_version

    return body


@bp.get("/storages")
@operation(auth=False)
def list_storages(principal: None) -> Response:
    """The storage systems; no authentication, as documented."""
    return reply({"data": [_summary()]})


@bp.get("/storages/<storage_id>")
@operation()
def get_storage(principal: Principal, storage_id: str) -> Response:
    """The array in detail, by its storageDeviceId or as ``instance``."""
    own = array().profile.storage.storage_device_id
    if storage_id not in (INSTANCE_ID, own):
        raise NotFound(object=f"storages/{storage_id}")

    return reply(_detail())
