"""The README's "Reproduce an edge case" recipes run as printed (curl and Python)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.pytest_plugin import ArrayEmulator
from tests.control_support import run_client_project

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Reproduce an edge case"
PRINTED_URL = "https://127.0.0.1:8443"
PRINTED_CA = "~/.cache/array-emulator/tls/ca.pem"
PYTEST_RECIPE = "In your own tests (pytest)"
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.DOTALL)


def recipes() -> dict[str, dict[str, str]]:
    """Each subsection of the README section: its sh and python blocks."""
    text = README.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    found: dict[str, dict[str, str]] = {}
    for part in section.split("\n### ")[1:]:
        title, _, body = part.partition("\n")
        found[title.strip()] = {kind: code for kind, code in BLOCK.findall(body)}

    return found


RECIPES = recipes()
SETUP = RECIPES.pop("Setup")
PYTEST_CODE = RECIPES.pop(PYTEST_RECIPE)["python"]


def localised(code: str, emulator: ArrayEmulator) -> str:
    """The recipe with this emulator's URL and CA file in place of the printed ones."""
    return code.replace(PRINTED_URL, emulator.url).replace(
        PRINTED_CA, str(emulator.ca_file)
    )


def test_readme__every_situation_has_both_recipes() -> None:
    """Each situation comes with a curl recipe and a Python recipe."""
    assert len(RECIPES) >= 8
    assert all(set(blocks) == {"sh", "python"} for blocks in RECIPES.values())


@pytest.mark.parametrize("title", sorted(RECIPES))
def test_readme__curl_recipe(
    array_emulator: ArrayEmulator, title: str, tmp_path: Path
) -> None:
    """The curl recipe runs to its end without an error reply."""
    script = localised(SETUP["sh"] + RECIPES[title]["sh"], array_emulator)
    script = script.replace(".venv/bin/array-emulator", f"{sys.executable} -m emulator")

    result = subprocess.run(
        ["bash", "-e", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )

    # curl --fail-with-body under bash -e: any error reply stops the script.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("title", sorted(RECIPES))
def test_readme__python_recipe(array_emulator: ArrayEmulator, title: str) -> None:
    """The Python recipe runs without an exception."""
    code = localised(SETUP["python"] + RECIPES[title]["python"], array_emulator)

    exec(compile(code, f"README: {title}", "exec"), {})

    assert array_emulator.control.request("GET", "")["profile"]


def test_readme__pytest_recipe(tmp_path: Path) -> None:
    """The pytest example passes in a project that only has the emulator."""
    (tmp_path / "test_readme_example.py").write_text(PYTEST_CODE)

    result = run_client_project(tmp_path)

    assert result.returncode == 0, result.stdout[-2000:]
