"""Proof without the GIL: the races ftlint reports are real, and its fixes remove them.

Each program in ``fixtures/runtime/`` checks an invariant in ``main()`` and
exits non-zero with a message when it is broken. ``manifest.toml`` lists, per
program, the rules ftlint must report on it and whether ``ftlint --fix
--unsafe-fixes`` is expected to make the invariant hold.

These tests are probabilistic on purpose: a race shows only when two threads
really interleave, and no test can force that without changing the code under
test. The programs make the race the common case instead of the rare one: 8
threads start together on a ``threading.Barrier``, hammer the same state for
tens of thousands of iterations, and the slow steps (building a client,
computing a value) are made slow so the window between check and act is wide.
On two busy cores every program breaks its invariant in most runs, the
least reliable in 18 of 30 (docs/runtime-proof.md has the measured rates), so
requiring one failure in ``ATTEMPTS`` runs fails spuriously with odds of about
1 in 10^8 at worst; on one core the races are rare and that step is skipped.
The other direction is deterministic: a correctly locked program never breaks
its invariant, so the fixed programs must pass every one of ``PASSES`` runs.
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

pytestmark = pytest.mark.freethreaded

RUNTIME = ROOT / "fixtures" / "runtime"
PROGRAMS = tomllib.loads((RUNTIME / "manifest.toml").read_text(encoding="utf-8"))["program"]
ATTEMPTS = 20  # runs of the racy original; at least one must break the invariant
PASSES = 5  # runs of the fixed program; every one must keep it
TIMEOUT = 60


def _ids(program: dict) -> str:
    return program["file"].removesuffix(".py")


def _copy(program: dict, tmp_path: Path) -> Path:
    target = tmp_path / program["file"]
    shutil.copyfile(RUNTIME / program["file"], target)
    return target


def _reported(run_ftlint, path: Path) -> set[str]:
    """Rule codes ftlint reports on ``path``, at every confidence, with default settings."""
    proc = run_ftlint("--no-cache", "--format", "json", "--min-confidence", "low", path.name,
                      cwd=path.parent)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return {finding["code"] for finding in json.loads(proc.stdout)}


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _run(ft_python: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ft_python), path.name], cwd=path.parent, capture_output=True,
                          text=True, timeout=TIMEOUT)


def _broke_invariant(proc: subprocess.CompletedProcess) -> bool:
    """The program exited with its own message, not because it is broken itself."""
    if proc.returncode == 0:
        return False
    assert proc.returncode == 1 and proc.stderr.strip(), (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    return True


def test_manifest_lists_every_program():
    files = [program["file"] for program in PROGRAMS]
    assert sorted(files) == sorted(p.name for p in RUNTIME.glob("*.py"))
    assert len(files) == len(set(files))
    for program in PROGRAMS:
        assert program["rules"] and all(r.startswith("FT") for r in program["rules"]), program
        assert program["invariant"], program
        assert program["fix"] in ("expected", "pending"), program


def test_programs_are_excluded_from_the_projects_own_check(run_ftlint):
    # They race on purpose; `ftlint .` on this repository must not report them.
    proc = run_ftlint("--no-cache", "--format", "json", "--min-confidence", "low", ".", cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    racy = [f["filename"] for f in json.loads(proc.stdout)
            if Path(f["filename"]).parts[:2] == ("fixtures", "runtime")]
    assert racy == []


@pytest.fixture(scope="module")
def reported_on_originals(tmp_path_factory) -> dict[str, set[str]]:
    """Rule codes per program, from one run of the console script on copies."""
    copies = tmp_path_factory.mktemp("runtime")
    for program in PROGRAMS:
        _copy(program, copies)
    proc = subprocess.run([ftlint_executable(), "--no-cache", "--format", "json",
                           "--min-confidence", "low", "."], cwd=copies, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    reported: dict[str, set[str]] = {}
    for finding in json.loads(proc.stdout):
        reported.setdefault(Path(finding["filename"]).name, set()).add(finding["code"])
    return reported


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids)
def test_ftlint_reports_the_rules(program, reported_on_originals):
    reported = reported_on_originals.get(program["file"], set())
    assert set(program["rules"]) <= reported, reported


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids)
def test_original_breaks_its_invariant(program, ft_python, tmp_path):
    if _cores() < 2:
        pytest.skip("one CPU core: threads interleave only when preempted, so the race is rare")
    path = _copy(program, tmp_path)
    for _ in range(ATTEMPTS):
        proc = _run(ft_python, path)
        if _broke_invariant(proc):
            return
    pytest.fail(f"{program['file']} kept its invariant ({program['invariant']}) in "
                f"{ATTEMPTS} runs without the GIL; last output: {proc.stdout.strip()}")


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids)
def test_fix_makes_the_invariant_hold(program, ft_python, run_ftlint, tmp_path):
    if program["fix"] != "expected":
        reason = f"fix for {', '.join(program['rules'])} not available yet"
        pytest.skip(f"{reason}: {program['note']}" if program.get("note") else reason)
    path = _copy(program, tmp_path)
    original = path.read_text(encoding="utf-8")
    proc = run_ftlint("--no-cache", "--fix", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    fixed = path.read_text(encoding="utf-8")
    assert fixed != original, "ftlint --fix --unsafe-fixes left the file unchanged"
    left = _reported(run_ftlint, path) & set(program["rules"])
    assert not left, f"still reported after the fix: {sorted(left)}\n{fixed}"
    for run in range(PASSES):
        proc = _run(ft_python, path)
        assert proc.returncode == 0, (
            f"fixed program broke its invariant in run {run + 1}: {proc.stderr.strip()}\n{fixed}")
        assert proc.stdout.startswith("ok:"), proc.stdout


COUNT_PROGRAM = """
import itertools, sys, threading
assert not sys._is_gil_enabled()
ids = itertools.count()
taken = [[] for _ in range(8)]
start = threading.Barrier(8)

def work(out):
    start.wait()
    for _ in range(50_000):
        out.append(next(ids))

threads = [threading.Thread(target=work, args=(out,)) for out in taken]
for t in threads:
    t.start()
for t in threads:
    t.join()
numbers = [n for out in taken for n in out]
assert sorted(numbers) == list(range(len(numbers))), "a number was handed out twice or skipped"
"""


def test_a_shared_itertools_count_hands_out_each_number_once(ft_python, tmp_path):
    """FT301 reports a shared `itertools.count()` at low confidence because
    its `next()` is atomic on the free-threaded build: this holds it to that."""
    path = tmp_path / "count.py"
    path.write_text(COUNT_PROGRAM)
    proc = _run(ft_python, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
