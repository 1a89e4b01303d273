from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ftlint_executable() -> str:
    """The installed console script, next to the interpreter running tests."""
    candidate = Path(sys.executable).with_name("ftlint")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ftlint")
    if found is None:
        pytest.fail("the ftlint console script is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture
def run_ftlint():
    exe = ftlint_executable()

    def run(*args: str, cwd: Path | str | None = None, input: str | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], cwd=cwd, input=input, capture_output=True,
                              text=True, timeout=120, env={**os.environ, **(env or {})})

    return run
