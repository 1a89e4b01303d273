"""Fixes must not break working code.

The programs in ``fixtures/fixsafety/`` work today: each ``main()`` exits 0
when its behaviour is intact. ftlint reports each of them (at its default
confidence), and each holds a trap for a careless lock-inserting fix: a class
with ``__slots__``, an object that is pickled, a lock handed from one method
to another, a listener that calls back into its emitter, a loop that must not
be snapshotted, a ``__del__`` or a signal handler that interrupts the code
holding the lock. After ``ftlint --fix`` and after ``ftlint --fix
--unsafe-fixes``, each must still compile and exit 0 within ``TIMEOUT``
seconds, on the interpreter running the tests and on a free-threaded one
(with ``PYTHON_GIL=0``) when there is one.

``manifest.toml`` marks a program ``status = "pending"`` when a fix breaks it
today. Its fixed run is then an ``xfail(strict=True)``: the day the fixer
stops breaking it, the test XPASSes, which fails, and someone flips the status
to ``expected``. Only a failure of the fixed program counts as the expected
failure (``FixBrokeProgram``); a broken original, or one ftlint does not
report, fails the test either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, ftlint_executable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXSAFETY = ROOT / "fixtures" / "fixsafety"
PROGRAMS = tomllib.loads((FIXSAFETY / "manifest.toml").read_text(encoding="utf-8"))["program"]
MODES = {"fix": ("--fix",), "fix+unsafe": ("--fix", "--unsafe-fixes")}
TIMEOUT = 20


# Originals already checked, by (file, interpreter): each is run and checked once,
# not once per fix mode.
_ORIGINALS_CHECKED: set[tuple[str, str]] = set()


class FixBrokeProgram(AssertionError):
    """The fixed program no longer works: the failure a pending entry expects."""


def _cases() -> list:
    cases = []
    for program in PROGRAMS:
        marks = []
        if program["status"] == "pending":
            marks.append(pytest.mark.xfail(strict=True, raises=FixBrokeProgram,
                                           reason=program.get("note", "pending")))
        for mode in MODES:
            name = f"{program['file'].removesuffix('.py')}-{mode}"
            cases.append(pytest.param(program, mode, "current", marks=marks,
                                      id=f"{name}-current"))
            cases.append(pytest.param(program, mode, "free-threaded",
                                      marks=[*marks, pytest.mark.freethreaded],
                                      id=f"{name}-free-threaded"))
    return cases


def _run(python: str, path: Path) -> subprocess.CompletedProcess | None:
    """Run ``path`` with ``python``; None when it is still running after TIMEOUT."""
    env = {**os.environ, "PYTHON_GIL": "0"}
    try:
        return subprocess.run([python, path.name], cwd=path.parent, capture_output=True,
                              text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None


def _findings(path: Path) -> list[dict]:
    """What ftlint reports on ``path`` with default settings (medium confidence and up)."""
    proc = subprocess.run([ftlint_executable(), "--no-cache", "--format", "json", path.name],
                          cwd=path.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_manifest_lists_every_program():
    files = [program["file"] for program in PROGRAMS]
    assert sorted(files) == sorted(p.name for p in FIXSAFETY.glob("*.py"))
    assert len(files) == len(set(files))
    for program in PROGRAMS:
        assert program["breaks"] and program["what"], program
        assert program["status"] in ("expected", "pending"), program
        if program["status"] == "pending":
            assert program.get("note"), f"say how {program['file']} breaks: {program}"


@pytest.mark.parametrize(("program", "mode", "interpreter"), _cases())
def test_fix_keeps_the_program_working(program, mode, interpreter, request, tmp_path):
    python = sys.executable
    if interpreter == "free-threaded":
        python = str(request.getfixturevalue("ft_python"))  # skips, with the reason, if none
    path = tmp_path / program["file"]
    shutil.copyfile(FIXSAFETY / program["file"], path)

    if (program["file"], python) not in _ORIGINALS_CHECKED:
        before = _run(python, path)
        assert before is not None, f"the original hangs on {python}"
        assert before.returncode == 0, (
            f"the original does not work on {python}: {before.stdout}{before.stderr}")
        found = _findings(path)
        assert found, "ftlint reports nothing on the original, so the fix has nothing to break"
        _ORIGINALS_CHECKED.add((program["file"], python))

    proc = subprocess.run([ftlint_executable(), "--no-cache", *MODES[mode], path.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    fixed = path.read_text(encoding="utf-8")
    try:
        compile(fixed, str(path), "exec")
    except SyntaxError as exc:
        raise FixBrokeProgram(f"the fixed program does not compile: {exc}\n{fixed}") from exc

    after = _run(python, path)
    if after is None:
        raise FixBrokeProgram(f"the fixed program hangs (no exit in {TIMEOUT} s) on {python}"
                              f"\n{fixed}")
    if after.returncode != 0:
        raise FixBrokeProgram(f"the fixed program exits {after.returncode} on {python}: "
                              f"{after.stdout}{after.stderr}\n{fixed}")
