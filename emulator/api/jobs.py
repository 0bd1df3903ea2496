"""Jobs: ``GET jobs/{jobId}`` and the 202 reply every asynchronous call gives."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from emulator.api.common import array, objects_prefix, operation, reply
from emulator.errors import JobFailed, NotFound
from emulator.model.clock import iso_time
from emulator.model.jobs import Job, JobStatus
from emulator.model.sessions import Principal
from emulator.profile import message_catalogue

bp = Blueprint("jobs", __name__)

COMPLETED_HEADER_VALUE = "completed"


def job_object(job: Job, status: JobStatus) -> dict[str, Any]:
    """The job object, with links under the objects root the request used."""
    prefix = objects_prefix()
    body: dict[str, Any] = {
        "jobId": job.job_id,
        "self": f"{prefix}/jobs/{job.job_id}",
        "userId": job.user_name,
        "status": status.status,
        "state": status.state,
        "createdTime": iso_time(job.created),
        "updatedTime": iso_time(status.updated),
    }
    if status.completed is not None:
        body["completedTime"] = iso_time(status.completed)
    if status.completed is not None and not job.fails:
        body["affectedResources"] = [f"{prefix}/{r}" for r in job.resources]
    body["request"] = {
        "requestUrl": job.request_url,
        "requestMethod": job.request_method,
        "requestBody": job.request_body,
    }
    if status.state == "Failed" and job.policy.fail_ssb is not None:
        body["error"] = failed_job_error(job)

    return body


def failed_job_error(job: Job) -> dict[str, Any]:
    """The error object a failed job carries, from the catalogue's ``job_failed``."""
    assert job.policy.fail_ssb is not None
    ssb1, ssb2 = job.policy.fail_ssb
    entry = message_catalogue()[JobFailed.situation]

    return {
        "errorSource": job.request_url,
        "messageId": entry["messageId"],
        "message": entry["message"].format(ssb1=ssb1, ssb2=ssb2),
        "cause": entry["cause"],
        "solution": entry["solution"],
        "solutionType": entry["solutionType"],
        "errorCode": {"SSB1": ssb1, "SSB2": ssb2},
    }


def accepted(job: Job) -> Response:
    """The 202 reply to an asynchronous call.

    With ``Response-Job-Status: Completed`` (a trailing ``;`` allowed, as one public
    client sends it) the reply waits for the job, at most ``Response-Max-Wait``
    seconds, and shows the job as it then stands.
    """
    wanted = request.headers.get("Response-Job-Status", "").strip().rstrip(";")
    if wanted.strip().lower() == COMPLETED_HEADER_VALUE:
        status = array().wait_for_job(job, _max_wait())
    else:
        status = array().job_status(job)

    return reply(job_object(job, status), status=202)


def _max_wait() -> float | None:
    text = request.headers.get("Response-Max-Wait", "").strip()
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None


@bp.get("/jobs/<job_id>")
@operation()
def get_job(principal: Principal, job_id: str) -> Response:
    """One job of the caller's user; other users' jobs are not found."""
    if not (job_id.isascii() and job_id.isdigit()) or len(job_id) > 18:
        raise NotFound(object=f"jobs/{job_id}")

    job, status = array().read_job(principal, int(job_id))

    return reply(job_object(job, status))
