"""The README's quick start runs as printed, but for the address and the CA file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ArrayClient

REPO = Path(__file__).parent.parent
README = REPO / "README.md"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def shell_blocks() -> list[str]:
    """The README's ``sh`` code blocks, in order."""
    return re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), flags=re.S)


def test_readme__first_screen_commands() -> None:
    """The first block holds the two set-up commands, and the Makefile has both."""
    first = shell_blocks()[0]
    makefile = (REPO / "Makefile").read_text("utf-8")

    assert re.search(r"^make run\b", first, flags=re.M)
    assert re.search(r"^make test\b", first, flags=re.M)
    assert re.search(r"^run serve:|^run:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)


def test_readme__curl_sequence(client: ArrayClient, tmp_path: Path) -> None:
    """Session, the vendor's backup call, then inspecting the file, as printed."""
    block = next(b for b in shell_blocks() if b.startswith("CA="))
    script = re.sub(r"^CA=.*$", f"CA={client.ca}", block, count=1, flags=re.M)
    base = f"{client.server.url}/ConfigurationManager"
    script = re.sub(r"^BASE=.*$", f"BASE={base}", script, count=1, flags=re.M)
    (tmp_path / ".venv").symlink_to(REPO / ".venv")

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "64 keys" in done.stdout
    assert (tmp_path / "backupfile.ekf").stat().st_size > 0
