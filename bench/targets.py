"""The servers a benchmark measures, each in a process of its own, and wrk.

Every server listens on loopback only. A ``Target`` starts its process, waits
until it answers, and stops it; ``run_wrk`` drives one with wrk and reads wrk's
summary.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
NODE_BIN = BENCH / ".node" / "node_modules" / ".bin"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
POLL_SECONDS = 0.005
OBJECTS = "/ConfigurationManager/v1/objects"
COUNTS_PATH = f"{OBJECTS}/encryption-key-counts/instance"
BACKUP_PATH = f"{OBJECTS}/encryption-keys/file/actions/backup/invoke"
USER = "secadmin:secadmin-pass"
# moto's trivial request: STS GetCallerIdentity, answered from memory.
MOTO_QUERY = "/?Action=GetCallerIdentity&Version=2011-06-15"
MOTO_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/sts/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def free_port() -> int:
    """A port nothing listens on now (the caller binds it soon after)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))

        return int(probe.getsockname()[1])


def basic_header() -> str:
    """The Basic credentials of the security administrator."""
    return "Basic " + base64.b64encode(USER.encode()).decode()


def http(
    method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    """One request with urllib: status and body, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status), reply.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


@dataclass
class Target:
    """A server process to measure.

    Attributes:
        name: how the table names it.
        command: the command that starts it; ``{port}`` is filled in.
        path: the request measured.
        headers: the request's headers (the credentials the server wants).
        port: the port once started.
    """

    name: str
    command: list[str]
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL of the measured request."""
        return f"http://{HOST}:{self.port}{self.path}"

    def start(self) -> float:
        """Start the server; the seconds until its first good reply to ``path``."""
        self.port = free_port()
        command = [part.format(port=self.port) for part in self.command]
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready(started)

        return time.perf_counter() - started

    def _wait_ready(self, started: float) -> None:
        while time.perf_counter() - started < START_TIMEOUT:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting")
            try:
                status, _ = http("GET", self.url, self.headers)
            except OSError:
                time.sleep(POLL_SECONDS)
                continue
            if status == 200:
                return
            time.sleep(POLL_SECONDS)

        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT} s")

    def stop(self) -> None:
        """Stop the server's process group."""
        if self.process is None:
            return

        with_group = os.getpgid(self.process.pid)
        os.killpg(with_group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def rss_kib(self) -> int:
        """The resident memory of the server's process, in KiB."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert match is not None

        return int(match.group(1))


def emulator(profile: Path | None = None) -> Target:
    """The emulator, served by bench/apps.py; authenticated by token later."""
    command = [sys.executable, str(BENCH / "apps.py"), "emulator", "--port", "{port}"]
    if profile is not None:
        command += ["--profile", str(profile)]

    return Target("emulator", command, COUNTS_PATH, {"Authorization": basic_header()})


def emulator_cli() -> Target:
    """The emulator as users start it: ``array-emulator serve --http``."""
    command = [str(BIN / "array-emulator"), "serve", "--http", "--port", "{port}"]

    return Target("emulator", command, COUNTS_PATH, {"Authorization": basic_header()})


def bare() -> Target:
    """A bare Flask app with one route, on the same server as the emulator."""
    command = [sys.executable, str(BENCH / "apps.py"), "bare", "--port", "{port}"]

    return Target("bare Flask", command, COUNTS_PATH)


def moto() -> Target | None:
    """moto_server, or None when it is not installed."""
    program = BIN / "moto_server"
    if not program.exists():
        return None

    command = [str(program), "-H", HOST, "-p", "{port}"]

    return Target("moto_server", command, MOTO_QUERY, {"Authorization": MOTO_AUTH})


def prism(document: Path) -> Target | None:
    """Stoplight Prism mocking ``document``, or None when it is not installed."""
    program = NODE_BIN / "prism"
    if not program.exists():
        return None

    command = [str(program), "mock", "-h", HOST, "-p", "{port}", str(document)]
    headers = {"Authorization": "Session bench-token"}

    return Target("Prism", command, COUNTS_PATH, headers)


def session_token(target: Target) -> str:
    """Create a session on an emulator target and return its token."""
    url = f"http://{HOST}:{target.port}{OBJECTS}/sessions"
    headers = {"Authorization": basic_header(), "Content-Type": "application/json"}
    status, body = http("POST", url, headers, b"{}")
    assert status == 200, body

    return str(json.loads(body)["token"])


@dataclass(frozen=True)
class WrkResult:
    """wrk's summary of one run."""

    requests: int
    seconds: float
    rps: float
    latency_ms: float
    errors: int


def wrk_available() -> bool:
    """Whether wrk is on the PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    *,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    fresh: bool = False,
    script: str | None = None,
    env: dict[str, str] | None = None,
) -> WrkResult:
    """Drive ``url`` with wrk (one thread) and read its summary.

    Args:
        url: the URL to load.
        headers: request headers.
        connections: concurrent connections.
        seconds: how long to run.
        fresh: send ``Connection: close`` so every request opens a connection.
        script: a Lua script under bench/wrk/.
        env: extra environment for the script.
    """
    duration = max(1, round(seconds))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if fresh:
        command += ["-H", "Connection: close"]
    if script is not None:
        command += ["-s", str(BENCH / "wrk" / script)]
    command.append(url)
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        timeout=seconds + 120,
    ).stdout

    return parse_wrk(output)


def parse_wrk(output: str) -> WrkResult:
    """Read requests, duration, rate, mean latency and errors off wrk's output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m|h)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)", output)
    assert done and rate and latency, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[latency.group(2)]
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[done.group(3)]
    seconds = float(done.group(2)) * unit
    errors = sum(
        int(n)
        for n in re.findall(r"(?:Non-2xx or 3xx responses|errors): (\d+)", output)
    )
    errors += (
        sum(
            int(n)
            for n in re.findall(
                r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                output,
            )[0]
        )
        if "Socket errors" in output
        else 0
    )

    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        rps=float(rate.group(1)),
        latency_ms=float(latency.group(1)) * scale,
        errors=errors,
    )
