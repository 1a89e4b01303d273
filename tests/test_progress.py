"""A long run shows its progress on a terminal, and only there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import CHECK_THEN_ACT, ftlint_executable

pty = pytest.importorskip("pty")


def run_on_terminal(args: list[str], cwd: Path, delay: str) -> tuple[str, str]:
    """Run ftlint with stderr on a pseudo-terminal; (stdout, what the terminal got)."""
    parent, child = pty.openpty()
    proc = subprocess.Popen([ftlint_executable(), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=child, env={**os.environ, "FTLINT_PROGRESS_DELAY": delay})
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(parent)
    return out, seen.decode(errors="replace")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(CHECK_THEN_ACT)
    return tmp_path


def test_progress_on_a_terminal(tree: Path) -> None:
    out, terminal = run_on_terminal(["--no-cache", "."], tree, delay="0")
    assert "Checking" in terminal and "20/20" in terminal
    assert "Checking" not in out  # the report itself stays clean


def test_no_progress_for_a_quick_run(tree: Path) -> None:
    _, terminal = run_on_terminal(["--no-cache", "."], tree, delay="60")
    assert "Checking" not in terminal


def test_no_progress_when_quiet(tree: Path) -> None:
    _, terminal = run_on_terminal(["--no-cache", "--quiet", "."], tree, delay="0")
    assert "Checking" not in terminal


def test_no_progress_when_piped(tree: Path) -> None:
    proc = subprocess.run([ftlint_executable(), "--no-cache", "."], cwd=tree, capture_output=True,
                          text=True, env={**os.environ, "FTLINT_PROGRESS_DELAY": "0"})
    assert "Checking" not in proc.stderr + proc.stdout
