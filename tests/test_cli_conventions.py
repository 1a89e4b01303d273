"""ruff's command-line conventions, run through the installed ``ftlint``:
--fix-only, --exit-non-zero-on-fix, --output-file, --force-exclude, --watch,
file-level ``# flake8: noqa``, the ``[*]`` fixable marker, refused option
combinations and the error for paths without Python files."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import CHECK_THEN_ACT, ROOT, ftlint_executable
from test_cli import LINE, codes_in

NO_COLOR = {"NO_COLOR": "1", "FORCE_COLOR": ""}

# A global read-modify-write (FT102) whose fix is safe, and switch-interval
# tricks (FT303) whose fix is unsafe.
SWITCH = """\
import sys
import threading

_count = 0


def bump():
    global _count
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    try:
        _count += 1
    finally:
        sys.setswitchinterval(old)


threading.Thread(target=bump).start()
"""

# The same trick with nothing else: only unsafe fixes (two FT303).
SWITCH_ONLY = """\
import sys


def bump(work):
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    try:
        work()
    finally:
        sys.setswitchinterval(old)
"""

# Findings that --fix fixes, and two (FT103, FT205) that it leaves.
INVENTORY = ROOT / "examples" / "inventory_service.py"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -- --fix exit codes, --exit-non-zero-on-fix, --fix-only -------------------------

def test_fix_exits_0_when_it_fixed_everything(tmp_path, run_ftlint):
    path = write(tmp_path, {"racy.py": CHECK_THEN_ACT}) / "racy.py"
    proc = run_ftlint("--fix", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Fixed 1 finding in 1 file." in proc.stdout
    assert path.read_text() != CHECK_THEN_ACT

    path.write_text(CHECK_THEN_ACT)
    strict = run_ftlint("--fix", "--exit-non-zero-on-fix", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "All checks passed" in strict.stdout and "Fixed 1 finding" in strict.stdout
    again = run_ftlint("--fix", "--exit-non-zero-on-fix", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert again.returncode == 0, again.stdout + again.stderr  # nothing left to fix
    assert "Fixed" not in again.stdout


def test_fix_exits_1_when_findings_are_left(tmp_path, run_ftlint):
    shutil.copy(INVENTORY, tmp_path / "inventory.py")
    proc = run_ftlint("--no-cache", "--fix", "inventory.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Fixed " in proc.stdout and codes_in(proc.stdout)


def test_fix_only_fixes_and_reports_nothing(tmp_path, run_ftlint):
    path = tmp_path / "inventory.py"
    shutil.copy(INVENTORY, path)
    proc = run_ftlint("--no-cache", "--fix-only", "inventory.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text() != INVENTORY.read_text()
    assert not [line for line in proc.stdout.splitlines() if LINE.match(line)]
    assert proc.stdout.startswith("Fixed ") and proc.stdout.count("\n") == 1, proc.stdout
    left = run_ftlint("--no-cache", "inventory.py", cwd=tmp_path, env=NO_COLOR)
    assert left.returncode == 1 and codes_in(left.stdout), "findings were left, unreported"

    # Nothing more to fix: nothing printed, exit 0 even with findings left.
    again = run_ftlint("--no-cache", "--fix-only", "--exit-non-zero-on-fix", "inventory.py",
                       cwd=tmp_path, env=NO_COLOR)
    assert (again.returncode, again.stdout) == (0, ""), again.stderr

    shutil.copy(INVENTORY, path)
    strict = run_ftlint("--no-cache", "--fix-only", "--exit-non-zero-on-fix", "inventory.py",
                        cwd=tmp_path, env=NO_COLOR)
    assert strict.returncode == 1, strict.stdout + strict.stderr


def test_fix_only_with_diff_prints_the_diff_and_writes_nothing(tmp_path, run_ftlint):
    path = write(tmp_path, {"racy.py": CHECK_THEN_ACT}) / "racy.py"
    proc = run_ftlint("--fix-only", "--diff", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("--- racy.py") and "+    with _cache_lock:" in proc.stdout
    assert path.read_text() == CHECK_THEN_ACT


def test_fix_only_still_reports_files_it_could_not_check(tmp_path, run_ftlint):
    write(tmp_path, {"broken.py": "def f(:\n", "racy.py": CHECK_THEN_ACT})
    proc = run_ftlint("--fix-only", ".", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken.py:1:" in proc.stderr and "FT002" in proc.stderr
    assert "Fixed 1 finding in 1 file." in proc.stdout


def test_stdin_fix_exit_codes_follow_the_files(tmp_path, run_ftlint):
    fixed = run_ftlint("--fix", "-", input=CHECK_THEN_ACT, cwd=tmp_path)
    assert fixed.returncode == 0 and "with _cache_lock:" in fixed.stdout, fixed.stderr
    strict = run_ftlint("--fix", "--exit-non-zero-on-fix", "-", input=CHECK_THEN_ACT,
                        cwd=tmp_path)
    assert strict.returncode == 1 and strict.stdout == fixed.stdout
    only = run_ftlint("--fix-only", "-", input=CHECK_THEN_ACT, cwd=tmp_path)
    assert (only.returncode, only.stdout, only.stderr) == (0, fixed.stdout, "")


# -- --output-file -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_file_holds_the_report(tmp_path, run_ftlint, fmt):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT, "out/report": "old contents\n"})
    plain = run_ftlint("--format", fmt, "racy.py", cwd=tmp_path, env=NO_COLOR)
    proc = run_ftlint("--format", fmt, "--output-file", "out/report", "racy.py", cwd=tmp_path,
                      env=NO_COLOR)
    assert proc.returncode == plain.returncode == 1, proc.stderr
    assert proc.stdout == ""
    report = (tmp_path / "out" / "report").read_text()
    if fmt == "text":
        assert report == plain.stdout and "racy.py:5:5: FT203" in report
    else:
        assert json.loads(report) and json.loads(report) == json.loads(plain.stdout)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report"]  # no temp file


def test_output_file_with_fix_keeps_messages_on_stderr(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT})
    proc = run_ftlint("--fix", "-o", "report.txt", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "Fixed 1 finding in 1 file." in proc.stderr
    assert (tmp_path / "report.txt").read_text().startswith("All checks passed")


def test_output_file_with_diff_holds_the_diff(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT})
    proc = run_ftlint("--diff", "-o", "fix.diff", "racy.py", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert (tmp_path / "fix.diff").read_text().startswith("--- racy.py")
    assert "Would fix 1 finding in 1 file." in proc.stderr


# -- --force-exclude and paths without Python files ---------------------------------

@pytest.fixture
def excluding_project(tmp_path):
    return write(tmp_path, {
        "pyproject.toml": '[tool.ftlint]\nextend-exclude = ["generated"]\n',
        ".gitignore": "scratch.py\n",
        "generated/gen.py": CHECK_THEN_ACT,
        "scratch.py": CHECK_THEN_ACT,
        "build/out.py": CHECK_THEN_ACT,  # a default exclude
        "app.py": CHECK_THEN_ACT,
    })


@pytest.mark.parametrize("named", ["generated/gen.py", "scratch.py", "build/out.py", "generated"])
def test_force_exclude_skips_excluded_paths_named_on_the_command_line(excluding_project,
                                                                      run_ftlint, named):
    checked = run_ftlint(named, cwd=excluding_project, env=NO_COLOR)
    assert checked.returncode == 1 and "FT203" in checked.stdout  # named: checked
    skipped = run_ftlint("--force-exclude", named, cwd=excluding_project, env=NO_COLOR)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert skipped.stderr == "" and "0 files checked" in skipped.stdout
    both = run_ftlint("--force-exclude", named, "app.py", cwd=excluding_project, env=NO_COLOR)
    assert both.returncode == 1 and {name for name, *_ in codes_in(both.stdout)} == {"app.py"}


def test_force_exclude_keeps_what_the_walk_keeps(excluding_project, run_ftlint):
    walked = run_ftlint(".", cwd=excluding_project, env=NO_COLOR)
    forced = run_ftlint("--force-exclude", ".", cwd=excluding_project, env=NO_COLOR)
    assert walked.stdout == forced.stdout and "1 file checked" in forced.stdout
    # From inside the excluded directory: the project's root decides.
    inside = run_ftlint("--force-exclude", "gen.py", cwd=excluding_project / "generated",
                        env=NO_COLOR)
    assert inside.returncode == 0 and "0 files checked" in inside.stdout


def test_no_python_files_is_an_error(tmp_path, run_ftlint):
    write(tmp_path, {"empty/notes.txt": "x = 1\n", "other/build/gen.py": CHECK_THEN_ACT})
    proc = run_ftlint("empty", cwd=tmp_path, env=NO_COLOR)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.strip() == "ftlint: error: no Python files found in empty"
    assert proc.stdout == ""
    excluded = run_ftlint("other", "empty", cwd=tmp_path, env=NO_COLOR)  # only excluded ones
    assert excluded.returncode == 2
    assert "no Python files found in other, empty" in excluded.stderr
    write(tmp_path, {"empty/mod.py": "X = 1\n"})
    assert run_ftlint("empty", cwd=tmp_path).returncode == 0


# -- refused combinations ------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--show-fixes"], "--show-fixes needs --fix"),
    (["--unsafe-fixes", "--format", "json"], "--unsafe-fixes needs --fix"),
    (["--unsafe-fixes", "--statistics"], "--unsafe-fixes needs --fix"),
    (["--exit-non-zero-on-fix"], "--exit-non-zero-on-fix needs --fix or --fix-only"),
    (["--exit-non-zero-on-fix", "--diff"], "--exit-non-zero-on-fix needs --fix"),
    (["--diff", "--format", "json"], "--diff prints a unified diff; it cannot be used with "
                                     "--format json"),
    (["--fix-only", "--diff", "--format", "sarif"], "cannot be used with --format sarif"),
    (["--statistics", "--format", "github"], "--statistics prints a text table"),
    (["--statistics", "--format", "junit"], "--statistics prints a text table"),
    (["--statistics", "--diff"], "--diff reports none"),
    (["--statistics", "--fix-only"], "--fix-only reports none"),
    (["--fix", "-o", "out.txt", "-"], "--output-file cannot be used with stdin and --fix"),
    (["--watch", "--fix"], "--watch cannot be used with --fix"),
    (["--watch", "--fix-only"], "--watch cannot be used with --fix"),
    (["--watch", "--diff"], "--watch cannot be used with --diff"),
    (["--watch", "--add-noqa"], "--watch cannot be used with --add-noqa"),
    (["--watch", "--baseline", "b.json"], "--watch cannot be used with --baseline"),
    (["--watch", "-"], "--watch cannot be used with stdin"),
    (["--verify", "true", "--fix-only", "--diff"], "--verify cannot be used with --diff"),
])
def test_incompatible_options_are_usage_errors(tmp_path, run_ftlint, args, needle):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT})
    paths = [] if "-" in args else ["racy.py"]
    proc = run_ftlint(*args, *paths, cwd=tmp_path, input="")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr and "Usage:" in proc.stderr
    assert proc.stdout == ""
    assert (tmp_path / "racy.py").read_text() == CHECK_THEN_ACT


def test_compatible_combinations_still_run(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT, "sw.py": SWITCH})
    assert run_ftlint("--diff", "--show-fixes", "racy.py", cwd=tmp_path).returncode == 1
    assert run_ftlint("--unsafe-fixes", "sw.py", cwd=tmp_path).returncode == 1
    assert run_ftlint("--statistics", "racy.py", cwd=tmp_path).returncode == 1
    assert run_ftlint("--fix", "--diff", "--format", "text", "racy.py",
                      cwd=tmp_path).returncode == 1


# -- file-level "# flake8: noqa" ------------------------------------------------------

def test_flake8_file_level_noqa(tmp_path, run_ftlint):
    write(tmp_path, {
        "bare.py": "# flake8: noqa\n" + SWITCH,
        "codes.py": "# flake8: noqa: FT303\n" + SWITCH,
        "equals.py": "# FLAKE8=noqa because generated\n" + SWITCH,
        "inline.py": SWITCH.replace("_count = 0\n", "_count = 0  # flake8: noqa\n"),
        "ours.py": "# ftlint: noqa: FT102\n" + SWITCH,
    })
    proc = run_ftlint("--min-confidence", "low", ".", cwd=tmp_path, env=NO_COLOR)
    by_file: dict[str, set[str]] = {}
    for name, _, code in codes_in(proc.stdout):
        by_file.setdefault(name, set()).add(code)
    assert "bare.py" not in by_file and "equals.py" not in by_file
    assert by_file["codes.py"] == {"FT102"}  # as in ruff: only the codes listed
    assert by_file["inline.py"] == {"FT102", "FT303"}  # not on a line of its own: no effect
    assert by_file["ours.py"] == {"FT303"}


# -- the [*] fixable marker -----------------------------------------------------------

def test_fixable_findings_are_marked(tmp_path, run_ftlint):
    write(tmp_path, {"sw.py": SWITCH})
    proc = run_ftlint("--no-cache", "sw.py", cwd=tmp_path, env=NO_COLOR)
    lines = proc.stdout.splitlines()
    marked = [line for line in lines if LINE.match(line) and " [*] " in line]
    unmarked = [line for line in lines if LINE.match(line) and " [*] " not in line]
    assert [line.split(" ")[1:3] for line in marked] == [["FT102", "[*]"]]
    assert len(unmarked) == 3 and all(" FT303 [high] " in line for line in unmarked)
    assert lines[-1] == ("[*] 1 fixable with `ftlint --fix` (3 hidden fixes can be enabled "
                         "with the `--unsafe-fixes` option).")

    unsafe = run_ftlint("--no-cache", "--unsafe-fixes", "sw.py", cwd=tmp_path, env=NO_COLOR)
    assert sum(" [*] " in line for line in unsafe.stdout.splitlines()) == 4
    assert unsafe.stdout.splitlines()[-1] == "[*] 4 fixable with `ftlint --fix --unsafe-fixes`."

    # What is marked is what --fix fixes: the safe fix only.
    fixed = run_ftlint("--no-cache", "--fix", "--show-fixes", "sw.py", cwd=tmp_path, env=NO_COLOR)
    assert fixed.stdout.count("  fixed FT") == 1 and "  fixed FT102" in fixed.stdout
    after = run_ftlint("--no-cache", "sw.py", cwd=tmp_path, env=NO_COLOR)
    assert "[*]" not in after.stdout and after.stdout.splitlines()[-1].startswith("Found 3 ")

    # Only unsafe fixes: none available without --unsafe-fixes.
    write(tmp_path, {"trick.py": SWITCH_ONLY})
    trick = run_ftlint("--no-cache", "trick.py", cwd=tmp_path, env=NO_COLOR)
    assert not [line for line in trick.stdout.splitlines() if LINE.match(line) and "[*]" in line]
    assert trick.stdout.splitlines()[-1] == ("No fixes available (2 hidden fixes can be enabled "
                                             "with the `--unsafe-fixes` option).")


def test_marker_agrees_with_the_fixes_in_json_and_the_cache(tmp_path, run_ftlint):
    shutil.copy(INVENTORY, tmp_path / "inventory.py")
    write(tmp_path, {"racy.py": CHECK_THEN_ACT, "sw.py": SWITCH})
    found = json.loads(run_ftlint("--no-cache", "--format", "json", ".", cwd=tmp_path).stdout)
    expected = {(Path(d["filename"]).name, d["location"]["row"], d["code"])
                for d in found if d["fix"] and d["fix"]["applicability"] == "safe"}
    assert expected and len(expected) < len(found)  # some are fixable, some not
    for args in (["--no-cache"], [], []):  # without the cache, then writing and reading it
        proc = run_ftlint(*args, ".", cwd=tmp_path, env=NO_COLOR)
        marked = {(Path(m["path"]).name, int(m["row"]), m["code"])
                  for m in map(LINE.match, proc.stdout.splitlines())
                  if m and f": {m['code']} [*] [" in m.group(0)}
        assert marked == expected, proc.stdout
    assert (tmp_path / ".ftlint_cache").is_dir()


def test_marker_is_absent_from_other_formats_and_after_fix(tmp_path, run_ftlint):
    write(tmp_path, {"racy.py": CHECK_THEN_ACT, "sw.py": SWITCH})
    github = run_ftlint("--format", "github", ".", cwd=tmp_path).stdout
    assert "[*]" not in github and "FT203" in github
    quiet = run_ftlint("--quiet", ".", cwd=tmp_path, env=NO_COLOR).stdout
    assert "racy.py:5:5: FT203 [*] [medium]" in quiet and "fixable" not in quiet


# -- --watch ------------------------------------------------------------------------------

def _reader(stream, lines: "queue.Queue[str]") -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put("")


def _until(lines: "queue.Queue[str]", needle: str, timeout: float) -> list[str]:
    """The lines read until one that contains ``needle``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {needle!r} within {timeout} s; got {seen}") from None
        if line == "":
            raise AssertionError(f"output ended before {needle!r}; got {seen}")
        seen.append(line)
        if needle in line:
            return seen


def test_watch_checks_again_when_a_file_changes(tmp_path):
    pytest.importorskip("watchfiles")
    project = write(tmp_path, {"src/clean.py": "X = 1\n", "src/notes.txt": "x\n"})
    proc = subprocess.Popen([ftlint_executable(), "--watch", "src"], cwd=project, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **NO_COLOR})
    out: "queue.Queue[str]" = queue.Queue()
    err: "queue.Queue[str]" = queue.Queue()
    for stream, lines in ((proc.stdout, out), (proc.stderr, err)):
        threading.Thread(target=_reader, args=(stream, lines), daemon=True).start()
    try:
        assert "All checks passed (1 file checked)." in "".join(_until(out, "All checks", 120))
        _until(err, "Watching for file changes", 60)
        time.sleep(1.0)  # let the watcher settle before the change
        (project / "src" / "racy.py").write_text(CHECK_THEN_ACT)
        second = "".join(_until(out, "fixable with", 120))
        assert "src/racy.py:5:5: FT203" in second and "in 2 files checked." in second
        changed = "".join(_until(err, "Watching for file changes", 60))
        assert "Change detected in src/racy.py" in changed
        # A file the check does not read changes nothing.
        (project / "src" / "notes.txt").write_text("y\n")
        time.sleep(2.0)
        assert out.empty(), list(out.queue)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# A decline whose reason follows calls through the module's own functions:
# `finish()` reaches both `close()` and `notify()`, and the reason names one.
TWO_WAYS_OUT = '''\
import threading

_seen = set()


def notify(callback):
    callback()


def close(sock):
    sock.close()


def finish(sock, callback):
    close(sock)
    notify(callback)


def work(key, sock, callback):
    if key not in _seen:
        _seen.add(key)
        finish(sock, callback)


for _ in range(2):
    threading.Thread(target=work, args=(1, None, print)).start()
'''


def test_output_is_the_same_whatever_the_hash_seed(tmp_path, run_ftlint):
    """Two runs on the same files print the same thing, as ruff's and
    flake8's do: reasons are not picked from a set in hash order."""
    (tmp_path / "mod.py").write_text(TWO_WAYS_OUT)
    outputs = {run_ftlint("--no-cache", "--diff", "--show-fixes", "mod.py", cwd=tmp_path,
                          env={**NO_COLOR, "PYTHONHASHSEED": str(seed)}).stderr
               for seed in range(1, 9)}
    assert len(outputs) == 1, outputs
    assert "the region calls `finish()`, which calls `close()`" in outputs.pop()
