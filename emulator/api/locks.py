"""Resource locks: the lock and unlock services and the resource groups they cover."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from emulator.api.common import (
    action_parameters,
    array,
    integer,
    operation,
    reply,
    request_info,
)
from emulator.api.jobs import accepted
from emulator.errors import NotFound
from emulator.model.array import ResourceGroup
from emulator.model.sessions import Principal

services_bp = Blueprint("lock_services", __name__)
bp = Blueprint("resource_groups", __name__)

INVOKE_METHODS = ["POST", "PUT"]
GROUP_LISTS = (
    "ldevIds",
    "parityGroupIds",
    "externalParityGroupIds",
    "portIds",
    "hostGroupIds",
    "nvmSubsystemIds",
)


def group_object(group: ResourceGroup, principal: Principal) -> dict[str, Any]:
    """A resource group with its lock state as the caller sees it."""
    body: dict[str, Any] = {
        "resourceGroupId": group.group_id,
        "resourceGroupName": group.name,
        "lockStatus": "Locked" if group.holder else "Unlocked",
    }
    if group.holder is not None:
        body["lockSessionId"] = group.holder.session_id
        body["selfLock"] = group.holder.session_id == principal.session_id
        body["lockOwner"] = group.holder.user.name
        body["lockHost"] = group.holder.ip_address
    body["virtualStorageId"] = 0
    body.update({name: [] for name in GROUP_LISTS})

    return body


@services_bp.route(
    "/resource-group-service/actions/lock/invoke", methods=INVOKE_METHODS
)
@operation()
def lock(principal: Principal) -> Response:
    """Lock the resources; an empty body means a waitTime of 0."""
    settings = array().profile.section("locks")
    parameters = action_parameters(allowed=("waitTime",), required=())
    wait_time = integer(
        parameters.get("waitTime", 0), "waitTime", 0, int(settings["max_wait_time"])
    )

    return accepted(array().lock(principal, wait_time, request_info()))


@services_bp.route(
    "/resource-group-service/actions/unlock/invoke", methods=INVOKE_METHODS
)
@operation()
def unlock(principal: Principal) -> Response:
    """Unlock the resources the caller's session locked."""
    action_parameters(allowed=(), required=())

    return accepted(array().unlock(principal, request_info()))


@bp.get("/resource-groups")
@operation()
def list_groups(principal: Principal) -> Response:
    """Every resource group with its lockStatus and lockSessionId."""
    groups = array().resource_groups()

    return reply({"data": [group_object(g, principal) for g in groups]})


@bp.get("/resource-groups/<group_id>")
@operation()
def get_group(principal: Principal, group_id: str) -> Response:
    """One resource group."""
    for group in array().resource_groups():
        if str(group.group_id) == group_id:
            return reply(group_object(group, principal))

    raise NotFound(object=f"resource-groups/{group_id}")
