"""What --fix, --add-noqa and --baseline write, and what they never do: write
outside the checked paths, rewrite a read-only file, change a file's owner,
leave half a file or a temporary file behind, or lose a line ending.

Everything runs the installed console script on real files."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ftlint_executable

RACY = """\
import threading

count_{n} = 0
_cache = {{}}


def bump():
    global count_{n}
    count_{n} += 1


def get(key):
    if key not in _cache:
        _cache[key] = {n}
    return _cache[key]


threading.Thread(target=bump).start()
"""

# One finding (FT102 at 5:5) with a safe fix, whatever the line endings.
COUNTER = "counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n"
COUNTER_FIXED = ("import threading\n\ncounter = 0\n_counter_lock = threading.Lock()\n\n"
                 "def bump():\n    global counter\n    with _counter_lock:\n        counter += 1\n")

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if ".ftlint-" in p.name or
                  p.name.endswith(".tmp"))


def racy_tree(directory: Path, count: int) -> dict[str, bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for n in range(count):
        data = RACY.format(n=n).encode()
        (directory / f"m{n:02}.py").write_bytes(data)
        files[f"m{n:02}.py"] = data
    return files


def fixed_versions(tmp_path: Path, files: dict[str, bytes], run_ftlint) -> dict[str, bytes]:
    """What one uninterrupted --fix makes of each file."""
    reference = tmp_path / "reference"
    reference.mkdir()
    for name, data in files.items():
        (reference / name).write_bytes(data)
    out = run_ftlint("--fix", "-j1", ".", cwd=reference)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    fixed = {name: (reference / name).read_bytes() for name in files}
    assert all(fixed[name] != files[name] for name in files)
    for data in fixed.values():
        compile(data, "<fixed>", "exec")
    return fixed


def assert_whole(tree: Path, files: dict[str, bytes], fixed: dict[str, bytes], note: str) -> None:
    for name in files:
        data = (tree / name).read_bytes()
        assert data in (files[name], fixed[name]), f"{name} is neither original nor fixed ({note})"


# -- interrupted and concurrent runs ----------------------------------------------------------


@posix_only
def test_fix_killed_at_random_points_leaves_every_file_whole(tmp_path, run_ftlint) -> None:
    files = racy_tree(tmp_path / "tree", 24)
    tree = tmp_path / "tree"
    started = time.monotonic()
    fixed = fixed_versions(tmp_path, files, run_ftlint)
    duration = time.monotonic() - started
    rng = random.Random()
    delays = []
    for attempt in range(6):
        for name, data in files.items():  # start from the originals each time
            (tree / name).write_bytes(data)
        proc = subprocess.Popen([ftlint_executable(), "--fix", "-j1", "."], cwd=tree,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        delay = rng.uniform(0.2, max(duration, 0.5))
        delays.append(round(delay, 3))
        time.sleep(delay)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers too
        except ProcessLookupError:
            pass
        proc.wait()
        assert_whole(tree, files, fixed, f"killed after {delays}")
    final = run_ftlint("--fix", "-j1", ".", cwd=tree)
    assert "Traceback" not in final.stderr, final.stderr
    assert {name: (tree / name).read_bytes() for name in files} == fixed
    assert temp_files(tree) == [], f"killed after {delays}"


@posix_only
def test_two_fix_runs_at_once_both_finish(tmp_path, run_ftlint) -> None:
    tree = tmp_path / "tree"
    files = racy_tree(tree, 16)
    fixed = fixed_versions(tmp_path, files, run_ftlint)
    procs = [subprocess.Popen([ftlint_executable(), "--fix", "-j1", "."], cwd=tree,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs):
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        assert proc.returncode in (0, 1), stdout + stderr
    assert_whole(tree, files, fixed, "two runs at once")
    for name in files:
        compile((tree / name).read_bytes(), name, "exec")
    assert temp_files(tree) == []


@posix_only
def test_stale_temp_file_of_a_dead_process_is_removed(tmp_path, run_ftlint) -> None:
    (tmp_path / "mod.py").write_text(COUNTER)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        stale = tmp_path / f".mod.py.ftlint-{dead.pid}-abcd1234.tmp"
        busy = tmp_path / f".mod.py.ftlint-{live.pid}-abcd1234.tmp"
        other = tmp_path / f".other.py.ftlint-{dead.pid}-abcd1234.tmp"
        for path in (stale, busy, other):
            path.write_text("half a file")
        out = run_ftlint("--fix", "mod.py", cwd=tmp_path)
        assert out.returncode == 0 and "Fixed 1 finding in 1 file." in out.stdout, out.stderr
        assert not stale.exists()  # left by a dead run of this file's write
        assert busy.exists()  # another run is writing it right now
        assert other.exists()  # another file's: cleaned when that file is written
    finally:
        live.kill()
        live.wait()


def test_a_file_whose_fixing_raised_is_not_written(tmp_path, run_ftlint) -> None:
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(COUNTER)
    out = run_ftlint("--fix", ".", cwd=tmp_path, env={"FTLINT_TEST_FAULT": "fix:raise:b.py"})
    assert "Traceback" not in out.stderr and out.returncode == 1, out.stderr
    assert "b.py: internal error while fixing, left unchanged: RuntimeError" in out.stderr
    assert (tmp_path / "b.py").read_text() == COUNTER
    assert "b.py:5:5: FT102" in out.stdout
    assert (tmp_path / "a.py").read_text() == (tmp_path / "c.py").read_text() == COUNTER_FIXED
    assert "Fixed 2 findings in 2 files." in out.stdout


# -- links and the checked paths --------------------------------------------------------------


@posix_only
def test_fix_writes_a_link_target_inside_the_tree_and_keeps_the_link(tmp_path, run_ftlint) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "real.py").write_text(COUNTER)
    (tree / "link.py").symlink_to("real.py")
    out = run_ftlint("--fix", "link.py", cwd=tree)
    assert out.returncode == 0, out.stderr
    assert (tree / "link.py").is_symlink() and os.readlink(tree / "link.py") == "real.py"
    assert (tree / "real.py").read_text() == COUNTER_FIXED
    (tree / "real.py").write_text(COUNTER)
    out = run_ftlint("--fix", ".", cwd=tree)  # found by walking the tree
    assert (tree / "link.py").is_symlink() and (tree / "real.py").read_text() == COUNTER_FIXED


@posix_only
def test_fix_never_writes_through_a_link_out_of_the_tree(tmp_path, run_ftlint) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (outside / "victim.py").write_text(COUNTER)
    (tree / "link.py").symlink_to(outside / "victim.py")
    (tree / "own.py").write_text(COUNTER)
    for args in (("--fix", "."), ("--fix",), ("--fix", "--unsafe-fixes", str(tree))):
        (tree / "own.py").write_text(COUNTER)
        out = run_ftlint(*args, cwd=tree)
        assert (outside / "victim.py").read_text() == COUNTER, args
        assert (tree / "link.py").is_symlink()
        assert "link.py: left unchanged: it is a link to" in out.stderr, out.stderr
        assert "outside the checked paths" in out.stderr
        assert "link.py:5:5: FT102" in out.stdout  # the finding stays reported
        assert out.returncode == 1
        assert (tree / "own.py").read_text() == COUNTER_FIXED  # the rest is fixed
    # Named on the command line, the link's target is one of the checked paths.
    out = run_ftlint("--fix", "link.py", cwd=tree)
    assert (outside / "victim.py").read_text() == COUNTER_FIXED, out.stderr


@posix_only
def test_add_noqa_and_baseline_never_write_out_of_the_tree(tmp_path, run_ftlint) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (outside / "victim.py").write_text(COUNTER)
    (tree / "link.py").symlink_to(outside / "victim.py")
    (tree / "own.py").write_text(COUNTER)
    out = run_ftlint("--add-noqa", ".", cwd=tree)
    assert (outside / "victim.py").read_text() == COUNTER
    assert "link.py: left unchanged: it is a link to" in out.stderr, out.stderr
    assert "link.py:5:5: FT102" in out.stdout and out.returncode == 1
    assert "# noqa: FT102" in (tree / "own.py").read_text()
    assert "Added 1 noqa comment in 1 file." in out.stderr

    # A baseline that is a (dangling) link out of the tree is not created there.
    (tree / "own.py").write_text(COUNTER)
    (tree / "baseline.json").symlink_to(outside / "baseline.json")
    out = run_ftlint("--baseline", "baseline.json", ".", cwd=tree)
    assert not (outside / "baseline.json").exists()
    assert "baseline.json: baseline not written: it is a link to" in out.stderr, out.stderr
    assert "own.py:5:5: FT102" in out.stdout and out.returncode == 1  # nothing hidden
    # A baseline in the project directory, next to the checked one, is fine.
    out = run_ftlint("--baseline", "ftlint-baseline.json", "tree/own.py", cwd=tmp_path)
    assert "Recorded 1 finding" in out.stderr, out.stderr
    assert json.loads((tmp_path / "ftlint-baseline.json").read_text())["findings"]


# -- permissions and ownership ---------------------------------------------------------------


@posix_only
def test_read_only_file_is_left_alone(tmp_path, run_ftlint) -> None:
    path = tmp_path / "mod.py"
    path.write_text(COUNTER)
    os.chmod(path, 0o444)
    (tmp_path / "other.py").write_text(COUNTER)
    try:
        for flag in ("--fix", "--add-noqa"):
            out = run_ftlint(flag, ".", cwd=tmp_path)
            assert path.read_text() == COUNTER, flag
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
            assert "mod.py: left unchanged: the file is read-only" in out.stderr, out.stderr
            assert "mod.py:5:5: FT102" in out.stdout and out.returncode == 1
            assert (tmp_path / "other.py").read_text() != COUNTER  # the rest is written
            (tmp_path / "other.py").write_text(COUNTER)
    finally:
        os.chmod(path, 0o644)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_fix_keeps_the_owner_and_group(tmp_path, run_ftlint) -> None:
    path = tmp_path / "mod.py"
    path.write_text(COUNTER)
    os.chmod(path, 0o664)
    os.chown(path, 65534, 65534)
    out = run_ftlint("--fix", "mod.py", cwd=tmp_path)
    assert out.returncode == 0 and path.read_text() == COUNTER_FIXED, out.stderr
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert stat.S_IMODE(st.st_mode) == 0o664
    path.write_text(COUNTER)  # --add-noqa too
    out = run_ftlint("--add-noqa", "mod.py", cwd=tmp_path)
    assert "# noqa: FT102" in path.read_text()
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run as another user")
def test_another_users_file_is_left_alone() -> None:
    """As a normal user, in a directory anyone may write, the rename could
    replace root's file and make it the user's: it is left alone instead."""
    directory = Path(tempfile.mkdtemp(prefix="ftlint-shared-"))  # reachable by nobody
    try:
        os.chmod(directory, 0o777)
        shared, private = directory / "shared.py", directory / "private.py"
        for path, mode in ((shared, 0o666), (private, 0o644)):
            path.write_text(COUNTER)
            os.chmod(path, mode)
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             ftlint_executable(), "--fix", "--no-cache", "."],
            cwd=directory, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "shared.py: left unchanged: its owner or group could not be kept" in proc.stderr
        assert "private.py: left unchanged: the file is not writable by this user" in proc.stderr
        for path in (shared, private):
            assert path.read_text() == COUNTER
            assert (path.stat().st_uid, path.stat().st_gid) == (0, 0)
        assert temp_files(directory) == []
    finally:
        shutil.rmtree(directory)


# -- line endings -----------------------------------------------------------------------------


ENDINGS = {
    "cr": COUNTER.replace("\n", "\r").encode(),
    "cr-two-at-the-end": (COUNTER + "\n").replace("\n", "\r").encode(),
    "crlf": COUNTER.replace("\n", "\r\n").encode(),
    "no-final-newline": COUNTER.rstrip("\n").encode(),
    "cr-no-final-newline": COUNTER.rstrip("\n").replace("\n", "\r").encode(),
    "mixed-ends-in-cr": b"counter = 0\n\ndef bump():\r\n    global counter\r    counter += 1\r",
}


@pytest.mark.parametrize("name", list(ENDINGS))
def test_fix_keeps_line_endings(tmp_path, run_ftlint, name) -> None:
    source = ENDINGS[name]
    path = tmp_path / "mod.py"
    path.write_bytes(source)
    out = run_ftlint("--fix", "mod.py", cwd=tmp_path)
    assert out.returncode == 0 and "Fixed 1 finding in 1 file." in out.stdout, out.stderr
    new = path.read_bytes()
    old_lines, new_lines = source.splitlines(keepends=True), new.splitlines(keepends=True)
    ending = lambda line: line[len(line.rstrip(b"\r\n")):]  # noqa: E731
    # Every line keeps its own ending, the last one included (or its lack of one).
    assert ending(new_lines[-1]) == ending(old_lines[-1])
    kept = [line for line in new_lines if line in old_lines]
    assert len(kept) >= len(old_lines) - 1  # one statement moved under the lock
    assert set(map(ending, new_lines)) <= set(map(ending, old_lines))
    compile(new, "mod.py", "exec")
    again = run_ftlint("--fix", "mod.py", cwd=tmp_path)
    assert path.read_bytes() == new, again.stderr  # nothing left to change
