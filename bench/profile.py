"""Show where the emulator's time goes under a benchmark's load, with py-spy.

``python bench/profile.py get|backup|startup`` (``make bench-profile``) loads the
emulator as ``bench/run.py`` does while py-spy samples the thread holding the
GIL, then prints the functions that hold it longest, by self and inclusive time.
The raw samples stay in ``bench/results/profile-NAME.txt``. For start-up it prints
Python's import times instead, since start-up is mostly imports.
"""

from __future__ import annotations

import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run
from targets import BACKUP_PATH, BIN, Target, emulator, run_wrk

SAMPLE_SECONDS = 6
SAMPLE_RATE = 250
LOAD_SECONDS = 5
TOP = 25


def _load(kind: str, target: Target) -> None:
    headers = run.token_headers(target)
    if kind == "get":
        run_wrk(target.url, headers=headers, connections=run.CONNECTIONS, seconds=5)
        return

    url = target.url.replace(target.path, BACKUP_PATH)
    run_wrk(
        url,
        headers={**headers, "Content-Type": "application/json"},
        connections=run.CONNECTIONS,
        seconds=LOAD_SECONDS,
        script="post.lua",
        env={"BENCH_BODY": run.BACKUP_BODY},
    )


def sample(kind: str, output: Path) -> None:
    """Load an emulator (4,096 keys for a backup) while py-spy records it."""
    with tempfile.TemporaryDirectory() as folder:
        profile = run.keys_profile(Path(folder), 4096) if kind == "backup" else None
        with run.running(emulator(profile)) as target:
            assert target.process is not None
            spy = subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(target.process.pid),
                    "--duration",
                    str(SAMPLE_SECONDS),
                    "--rate",
                    str(SAMPLE_RATE),
                    "--format",
                    "raw",
                    "--gil",
                    "--nonblocking",
                    "-o",
                    str(output),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)
            _load(kind, target)
            spy.wait()


def summary(samples: Path) -> str:
    """The functions holding the GIL longest, by self and by inclusive time."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)

    lines = [f"{total} samples holding the GIL", "", "self:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(TOP)]
    lines += ["", "inclusive:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(TOP * 2)]

    return "\n".join(lines)


def import_times() -> str:
    """The slowest imports of ``array-emulator``'s start, cumulative."""
    command = [sys.executable, "-X", "importtime", "-c", "import emulator.cli"]
    report = subprocess.run(command, capture_output=True, text=True).stderr
    rows = []
    for line in report.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3:
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)

    return "\n".join(f"  {us / 1000:7.1f} ms  {name}" for us, name in rows[:TOP])


def main() -> int:
    """Profile the benchmark named on the command line."""
    kind = sys.argv[1] if len(sys.argv) > 1 else "get"
    if kind == "startup":
        print(import_times())
        return 0

    output = run.RESULTS / f"profile-{kind}.txt"
    run.RESULTS.mkdir(exist_ok=True)
    sample(kind, output)
    print(summary(output))

    return 0


if __name__ == "__main__":
    sys.exit(main())
