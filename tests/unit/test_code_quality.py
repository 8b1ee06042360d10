"""The tree stays ``ruff`` and ``mypy --strict`` clean: CI fails the day it does not.

Both tools run as the project configures them in ``pyproject.toml`` (rules,
strictness, the packages mypy checks), on the files of this checkout; ruff
without its cache, which hid three unsorted import blocks here once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SOURCES = ["streams", "notifications", "tests", "bench"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing_to_fix() -> None:
    result = run(str(BIN / "ruff"), "check", "--no-cache", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", "--no-cache", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_no_error() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
