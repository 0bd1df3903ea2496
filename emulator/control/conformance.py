"""Client conformance: judge each client in the journal by the rules of a careful
client of the array.

A client is a user at an address: the user named by Basic credentials, or the user
of the session a token belongs to. The rules, their texts and thresholds live in
``fixtures/conformance.toml``. Each finding names the rule, the client, the evidence
(journal entries, already redacted) and the fix. The report reads the journal only;
it is meant for a client that has finished its work (a session still open at that
point counts as not discarded).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any, TypedDict

from emulator.control.journal import JournalEntry

SESSIONS = re.compile(r"/sessions$")
SESSION = re.compile(r"/sessions/(\d+)$")
LOCK = re.compile(r"/resource-group-service/actions/lock/invoke$")
UNLOCK = re.compile(r"/resource-group-service/actions/unlock/invoke$")
BACKUP = re.compile(r"/encryption-keys/file/actions/backup/invoke$")
JOB = re.compile(r"/jobs/(\d+)$")
OCTET_STREAM = "application/octet-stream"
INVOKE_METHODS = ("POST", "PUT")
MAX_EVIDENCE = 5


class Evidence(TypedDict):
    """A request as a finding cites it."""

    seq: int
    time: float
    method: str
    path: str
    query: str
    accept: str | None
    sessionId: int | None
    status: int | None
    messageId: str | None
    retryAfter: str | None


class Finding(TypedDict):
    """One breach of a rule by one client."""

    rule: str
    title: str
    client: str
    detail: str
    evidence: list[Evidence]
    fix: str


class ClientSummary(TypedDict):
    """A client seen in the journal and how it fared."""

    client: str
    requests: int
    findings: int


class Report(TypedDict):
    """The conformance report."""

    rules: list[str]
    clients: list[ClientSummary]
    findings: list[Finding]


Check = Callable[[str, list[JournalEntry], dict[str, Any]], list[Finding]]


@cache
def rules() -> dict[str, dict[str, Any]]:
    """The rules' texts and thresholds, by rule name."""
    text = resources.files("emulator.fixtures").joinpath("conformance.toml")

    return tomllib.loads(text.read_text("utf-8"))


def report(entries: Iterable[JournalEntry]) -> Report:
    """Judge every client of the journal by every rule."""
    by_client: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: e["seq"]):
        by_client[entry["client"]].append(entry)

    findings: list[Finding] = []
    summaries: list[ClientSummary] = []
    for client, own in by_client.items():
        found = [
            f
            for name, check in CHECKS.items()
            for f in check(client, own, rules()[name])
        ]
        findings.extend(found)
        summaries.append(
            {"client": client, "requests": len(own), "findings": len(found)}
        )

    return {"rules": list(CHECKS), "clients": summaries, "findings": findings}


def render_text(result: Report) -> str:
    """The report as plain text, one block per finding."""
    lines = [
        f"{len(result['clients'])} client(s), {len(result['findings'])} finding(s)"
    ]
    for summary in result["clients"]:
        lines.append(
            f"  {summary['client']}: {summary['requests']} request(s), "
            f"{summary['findings']} finding(s)"
        )
    for finding in result["findings"]:
        lines.append("")
        lines.append(f"[{finding['rule']}] {finding['title']} ({finding['client']})")
        lines.append(f"  {finding['detail']}")
        for item in finding["evidence"]:
            lines.append(f"  #{item['seq']} {_request_line(item)}")
        lines.append(f"  fix: {finding['fix']}")

    return "\n".join(lines) + "\n"


def _request_line(item: Evidence) -> str:
    query = f"?{item['query']}" if item["query"] else ""
    status = item["status"] if item["status"] is not None else "dropped"
    message = f" {item['messageId']}" if item["messageId"] else ""

    return f"{item['method']} {item['path']}{query} -> {status}{message}"


def _evidence(entries: Iterable[JournalEntry]) -> list[Evidence]:
    cited: list[Evidence] = []
    for entry in list(entries)[:MAX_EVIDENCE]:
        cited.append(
            {
                "seq": entry["seq"],
                "time": entry["time"],
                "method": entry["method"],
                "path": entry["path"],
                "query": entry["query"],
                "accept": entry["accept"],
                "sessionId": entry["sessionId"],
                "status": entry["status"],
                "messageId": entry["messageId"],
                "retryAfter": entry["retryAfter"],
            }
        )

    return cited


def _finding(
    name: str, client: str, detail: str, entries: Iterable[JournalEntry]
) -> Finding:
    rule = rules()[name]

    return {
        "rule": name,
        "title": str(rule["title"]),
        "client": client,
        "detail": detail,
        "evidence": _evidence(entries),
        "fix": str(rule["fix"]),
    }


def _matches(entry: JournalEntry, pattern: re.Pattern[str]) -> bool:
    return pattern.search(entry["path"].rstrip("/")) is not None


def _is_backup(entry: JournalEntry) -> bool:
    return entry["method"] in INVOKE_METHODS and _matches(entry, BACKUP)


def _answered_at(entry: JournalEntry) -> float:
    return entry["time"] + entry["durationMs"] / 1000


# -- session bookkeeping ----------------------------------------------------------


def _session_ends(entries: list[JournalEntry]) -> dict[int, JournalEntry]:
    """Each session's end as the client saw it: its discard, or a 401 on its token."""
    ends: dict[int, JournalEntry] = {}
    for entry in entries:
        ended = _discarded_session(entry)
        if ended is None and entry["status"] == 401 and entry["tokenRef"]:
            ended = entry["sessionId"]
        if ended is not None:
            ends.setdefault(ended, entry)

    return ends


def _discarded_session(entry: JournalEntry) -> int | None:
    found = SESSION.search(entry["path"].rstrip("/"))
    if entry["method"] != "DELETE" or found is None or entry["status"] != 200:
        return None

    return int(found.group(1))


def _created(entries: list[JournalEntry]) -> dict[int, JournalEntry]:
    return {
        e["createdSessionId"]: e for e in entries if e["createdSessionId"] is not None
    }


# -- the rules --------------------------------------------------------------------


def check_backup_accept(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """Backup requests whose Accept does not name application/octet-stream."""
    bad = [
        e for e in entries if _is_backup(e) and OCTET_STREAM not in (e["accept"] or "")
    ]
    if not bad:
        return []

    detail = f"{len(bad)} backup request(s) without Accept: {OCTET_STREAM}"

    return [_finding("backup-accept", client, detail, bad)]


def check_discard_sessions(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """Sessions the client created and neither discarded nor saw die."""
    ends = _session_ends(entries)
    left = [e for sid, e in _created(entries).items() if sid not in ends]
    if not left:
        return []

    ids = ", ".join(str(e["createdSessionId"]) for e in left)
    detail = f"{len(left)} session(s) created and never discarded: {ids}"

    return [_finding("discard-sessions", client, detail, left)]


def check_session_count(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """More sessions open at once than the rule allows."""
    limit = int(rule["max_open_sessions"])
    ends = _session_ends(entries)
    open_now: dict[int, JournalEntry] = {}
    peak: list[JournalEntry] = []
    for entry in entries:
        for sid in [s for s, end in ends.items() if end is entry]:
            open_now.pop(sid, None)
        if entry["createdSessionId"] is not None:
            open_now[entry["createdSessionId"]] = entry
        if len(open_now) > max(limit, len(peak)):
            peak = list(open_now.values())
    if not peak:
        return []

    detail = f"{len(peak)} sessions open at once (at most {limit} expected)"

    return [_finding("session-count", client, detail, peak)]


def check_relogin_after_401(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """After a 401 on a token: more requests with that token, or no new session."""
    allowed = int(rule["max_dead_token_requests"])
    findings: list[Finding] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        token = entry["tokenRef"]
        if entry["status"] != 401 or token is None or token in seen:
            continue
        if entry["method"] == "DELETE" and _matches(entry, SESSION):
            continue  # a discard of a session already gone needs no new session

        seen.add(token)
        after = entries[index + 1 :]
        relogin = next((i for i, e in enumerate(after) if _logs_in(e)), None)
        before_relogin = after if relogin is None else after[:relogin]
        reused = [e for e in before_relogin if e["tokenRef"] == token]
        if len(reused) > allowed:
            detail = (
                f"{len(reused)} more request(s) with a token the array refused "
                f"(at most {allowed} expected) before logging in again"
            )
            findings.append(
                _finding("relogin-after-401", client, detail, [entry, *reused])
            )
        elif relogin is None:
            detail = "no new session after a 401: the client gave up"
            findings.append(_finding("relogin-after-401", client, detail, [entry]))

    return findings


def _logs_in(entry: JournalEntry) -> bool:
    return (
        entry["method"] == "POST"
        and entry["auth"] == "basic"
        and _matches(entry, SESSIONS)
    )


def check_retry_after(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """The same request sent again sooner than a 503's Retry-After allowed."""
    tolerance = float(rule["tolerance_seconds"])
    findings: list[Finding] = []
    for index, entry in enumerate(entries):
        wait = _seconds(entry["retryAfter"]) if entry["status"] == 503 else None
        if wait is None:
            continue

        again = next(
            (
                e
                for e in entries[index + 1 :]
                if (e["method"], e["path"]) == (entry["method"], entry["path"])
            ),
            None,
        )
        waited = again["time"] - _answered_at(entry) if again else None
        if again is not None and waited is not None and waited < wait - tolerance:
            detail = (
                f"sent again after {waited:.2f} s; Retry-After asked for {wait:g} s"
            )
            findings.append(_finding("retry-after", client, detail, [entry, again]))

    return findings


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None

    return float(value.strip())


def check_repeat_4xx(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """A request repeated unchanged after a 4xx (not 401, not RETRY) got the same."""
    refused: dict[tuple[Any, ...], list[JournalEntry]] = {}
    for entry in entries:
        status = entry["status"] or 0
        if not 400 <= status < 500 or status == 401:
            continue
        if entry["solutionType"] == "RETRY":
            continue
        refused.setdefault(_signature(entry), []).append(entry)

    findings: list[Finding] = []
    for same in refused.values():
        if len(same) < 2:
            continue
        first = same[0]
        detail = (
            f"{first['method']} {first['path']} sent {len(same)} times unchanged, "
            f"refused each time with {first['status']} {first['messageId'] or ''}"
        ).rstrip()
        findings.append(_finding("repeat-4xx", client, detail, same))

    return findings


def _signature(entry: JournalEntry) -> tuple[Any, ...]:
    return (
        entry["method"],
        entry["path"].rstrip("/"),
        entry["query"],
        entry["body"],
        entry["accept"],
        entry["auth"],
        entry["status"],
        entry["messageId"],
    )


def check_backup_under_lock(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """Backup requests sent while one of the client's sessions held the lock."""
    ends = _session_ends(entries)
    holder: int | None = None
    bad: list[JournalEntry] = []
    for entry in entries:
        if holder is not None and ends.get(holder) is entry:
            holder = None
        if _is_backup(entry) and holder is not None:
            bad.append(entry)
        holder = _lock_after(entry, holder)
    if not bad:
        return []

    detail = f"{len(bad)} backup request(s) while holding the lock"

    return [_finding("backup-under-lock", client, detail, bad)]


def _lock_after(entry: JournalEntry, holder: int | None) -> int | None:
    accepted = entry["status"] == 202 and entry["jobState"] != "Failed"
    if not accepted or entry["method"] not in INVOKE_METHODS:
        return holder

    if _matches(entry, LOCK):
        return entry["sessionId"]

    if _matches(entry, UNLOCK):
        return None

    return holder


def check_job_polling(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """Jobs polled again and again with almost no wait in between."""
    interval = float(rule["min_interval_seconds"])
    allowed = int(rule["max_fast_polls"])
    polls: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        found = JOB.search(entry["path"].rstrip("/"))
        if entry["method"] == "GET" and found is not None:
            polls[found.group(1)].append(entry)

    findings: list[Finding] = []
    for job_id, reads in polls.items():
        fast = [
            later
            for earlier, later in itertools.pairwise(reads)
            if later["time"] - _answered_at(earlier) < interval
        ]
        if len(fast) >= allowed:
            detail = (
                f"job {job_id} polled {len(reads)} times, {len(fast)} of them less "
                f"than {interval:g} s after the previous answer"
            )
            findings.append(_finding("job-polling", client, detail, fast))

    return findings


def check_password_in_url(
    client: str, entries: list[JournalEntry], rule: dict[str, Any]
) -> list[Finding]:
    """Requests whose query string held a password or a token."""
    bad = [e for e in entries if e["secretInUrl"]]
    if not bad:
        return []

    detail = f"{len(bad)} request(s) with a secret in the URL (redacted here)"

    return [_finding("password-in-url", client, detail, bad)]


CHECKS: dict[str, Check] = {
    "backup-accept": check_backup_accept,
    "discard-sessions": check_discard_sessions,
    "session-count": check_session_count,
    "relogin-after-401": check_relogin_after_401,
    "retry-after": check_retry_after,
    "repeat-4xx": check_repeat_4xx,
    "backup-under-lock": check_backup_under_lock,
    "job-polling": check_job_polling,
    "password-in-url": check_password_in_url,
}
