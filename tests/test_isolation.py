"""One file never ends a run: bad input and internal errors are that file's
finding, and every other file is still checked (and fixed)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import CHECK_THEN_ACT, ftlint_executable

RACY = CHECK_THEN_ACT
FAULT = "FTLINT_TEST_FAULT"


def codes(stdout: str) -> dict[str, list[str]]:
    """path -> codes reported for it, from text output."""
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        parts = line.split(": ", 1)
        if len(parts) == 2 and parts[1][:2] == "FT" and line.count(":") >= 3:
            path = line.split(":", 1)[0]
            out.setdefault(path, []).append(parts[1].split()[0])
    return out


def tree(tmp_path: Path, n: int) -> list[str]:
    names = [f"mod{i:02}.py" for i in range(n)]
    for name in names:
        (tmp_path / name).write_text(RACY)
    return names


def test_the_two_reported_files_are_checked(tmp_path, run_ftlint):
    (tmp_path / "one_line.py").write_text(
        "class Foo:\n    def __init__(self): self._spam = 1\n")
    (tmp_path / "setattr_name.py").write_text(
        "class A:\n    pass\n\n\ndef f():\n    setattr(A, 'data-id', 1)\n")
    (tmp_path / "racy.py").write_text(RACY)
    proc = run_ftlint(".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert codes(proc.stdout) == {"racy.py": ["FT203"]}
    assert proc.stderr == ""


def test_an_exception_on_one_file_is_its_ft000_and_the_rest_is_checked(tmp_path, run_ftlint):
    names = tree(tmp_path, 3)
    proc = run_ftlint(".", cwd=tmp_path, env={FAULT: "analyze:raise:mod01.py"})
    assert proc.returncode == 1
    found = codes(proc.stdout)
    assert found == {"mod00.py": ["FT203"], "mod01.py": ["FT000"], "mod02.py": ["FT203"]}
    assert "mod01.py:1:1: FT000 [error] internal error: RuntimeError: fault injected" in proc.stdout
    # Said at once on stderr, with the file's name; the traceback with -v.
    assert "ftlint: mod01.py: internal error: RuntimeError" in proc.stderr
    assert "Traceback" not in proc.stderr
    verbose = run_ftlint("-v", ".", cwd=tmp_path, env={FAULT: "analyze:raise:mod01.py"})
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "faults.py" in verbose.stderr and len(names) == 3


def test_internal_error_in_json_and_never_hidden(tmp_path, run_ftlint):
    tree(tmp_path, 2)
    proc = run_ftlint("--format", "json", "--select", "FT1", "--min-confidence", "high",
                      ".", cwd=tmp_path, env={FAULT: "analyze:raise:mod00.py"})
    assert proc.returncode == 1
    found = [(d["filename"], d["code"]) for d in json.loads(proc.stdout)]
    assert found == [("mod00.py", "FT000")]


def test_a_worker_that_dies_costs_one_file(tmp_path, run_ftlint):
    # 20 files run on a process pool; one kills its worker with SIGSEGV.
    names = tree(tmp_path, 20)
    proc = run_ftlint("-j", "2", ".", cwd=tmp_path, env={FAULT: "analyze:crash:mod07.py"})
    assert proc.returncode == 1, proc.stderr
    found = codes(proc.stdout)
    assert found.pop("mod07.py") == ["FT000"]
    assert found == {name: ["FT203"] for name in names if name != "mod07.py"}
    assert "BrokenProcessPool" not in proc.stderr + proc.stdout
    assert "mod07.py: internal error: the process checking this file died" in proc.stderr


def test_fix_never_writes_a_file_whose_fixing_raised(tmp_path, run_ftlint):
    tree(tmp_path, 3)
    proc = run_ftlint("--fix", ".", cwd=tmp_path, env={FAULT: "fix:raise:mod01.py"})
    assert proc.returncode == 1
    assert (tmp_path / "mod01.py").read_text() == RACY
    for name in ("mod00.py", "mod02.py"):
        assert (tmp_path / name).read_text() != RACY  # fixed
    assert "mod01.py" in proc.stderr and "RuntimeError" in proc.stderr


def test_add_noqa_goes_on_past_a_file_it_fails_on(tmp_path, run_ftlint):
    tree(tmp_path, 3)
    proc = run_ftlint("--add-noqa", ".", cwd=tmp_path, env={FAULT: "noqa:raise:mod01.py"})
    assert (tmp_path / "mod01.py").read_text() == RACY
    assert "mod01.py" in proc.stderr and "internal error" in proc.stderr
    for name in ("mod00.py", "mod02.py"):
        assert "# noqa: FT203" in (tmp_path / name).read_text()
    assert proc.returncode == 1  # mod01.py's finding is still reported


@pytest.mark.parametrize("name,data,message", [
    ("binary.py", bytes(range(256)) * 4, "cannot"),
    ("latin1.py", "x = 'caf\xe9'\n".encode("latin-1"), "cannot decode"),
    ("utf16.py", "x = 1\n".encode("utf-16"), "cannot"),
    ("nul.py", b"x = 1\n\x00y = 2\n", "cannot"),
])
def test_undecodable_input_is_reported_and_skipped(tmp_path, run_ftlint, name, data, message):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "racy.py").write_text(RACY)
    proc = run_ftlint(".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    found = codes(proc.stdout)
    assert found["racy.py"] == ["FT203"]
    assert found[name] in (["FT001"], ["FT002"])
    line = next(x for x in proc.stdout.splitlines() if x.startswith(name))
    assert message in line and "internal error" not in line


def test_syntax_error_is_where_python_puts_it(tmp_path, run_ftlint):
    (tmp_path / "bad.py").write_text("x = 1\ny = )\n")
    proc = run_ftlint("bad.py", cwd=tmp_path)
    assert "bad.py:2:5: FT002 [error] cannot parse: unmatched ')'" in proc.stdout


def test_valid_code_libcst_rejects_says_so(tmp_path, run_ftlint):
    (tmp_path / "annotated.py").write_text("(a): int = 1\n")
    proc = run_ftlint("annotated.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert "accepts this code, but libcst (the parser ftlint uses) does not" in proc.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_or_walked_does_not_hang(tmp_path, run_ftlint):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "racy.py").write_text(RACY)
    for args in (["."], ["pipe.py", "racy.py"]):
        proc = run_ftlint(*args, cwd=tmp_path)  # the fixture's timeout catches a hang
        assert proc.returncode == 1
        assert "pipe.py:1:1: FT001 [error] cannot read: not a regular file" in proc.stdout
        assert codes(proc.stdout)["racy.py"] == ["FT203"]


def test_device_file_named_py(tmp_path, run_ftlint):
    os.symlink(os.devnull, tmp_path / "null.py")
    (tmp_path / "racy.py").write_text(RACY)
    proc = run_ftlint(".", cwd=tmp_path)
    assert "null.py:1:1: FT001 [error] cannot read: not a regular file" in proc.stdout
    assert codes(proc.stdout)["racy.py"] == ["FT203"]


def test_links_loops_and_directories_named_like_files(tmp_path, run_ftlint):
    (tmp_path / "racy.py").write_text(RACY)
    os.symlink("loop_b.py", tmp_path / "loop_a.py")
    os.symlink("loop_a.py", tmp_path / "loop_b.py")
    os.symlink("missing.py", tmp_path / "dangling.py")
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "inner.py").write_text(RACY)
    for args in (["."], ["loop_a.py", "dangling.py", "pkg.py", "racy.py"]):
        proc = run_ftlint(*args, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        found = codes(proc.stdout)
        assert found["racy.py"] == ["FT203"] and found["pkg.py/inner.py"] == ["FT203"]
        assert found["loop_a.py"] == ["FT001"] and found["dangling.py"] == ["FT001"]
        assert "broken symbolic link" in proc.stdout
        assert "internal error" not in proc.stdout + proc.stderr


def test_directory_links_are_not_followed(tmp_path, run_ftlint):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "far.py").write_text(RACY)
    project = tmp_path / "project"
    project.mkdir()
    (project / "near.py").write_text(RACY)
    os.symlink(outside, project / "linked")
    os.symlink(project, project / "self")  # a loop through a directory link
    proc = run_ftlint(".", cwd=project)
    assert codes(proc.stdout) == {"near.py": ["FT203"]}
    named = run_ftlint("linked", cwd=project)  # a link named on the command line is walked
    assert codes(named.stdout) == {"linked/far.py": ["FT203"]}


@pytest.mark.parametrize("name", ["with space.py", "ünïcødé.py", "-dash.py"])
def test_unusual_path_names(tmp_path, run_ftlint, name):
    (tmp_path / name).write_text(RACY)
    walked = run_ftlint(".", cwd=tmp_path)
    named = run_ftlint("--", name, cwd=tmp_path)
    for proc in (walked, named):
        assert proc.returncode == 1, proc.stderr
        assert codes(proc.stdout) == {name: ["FT203"]}


def _without_root_powers() -> list[str] | None:
    """A command prefix that runs as a normal user would: as root, drop the
    capabilities that let root read any file (setpriv, from util-linux)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def test_unreadable_file_as_a_normal_user(tmp_path):
    prefix = _without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: root reads every file")
    exe = ftlint_executable()
    (tmp_path / "secret.py").write_text(RACY)
    os.chmod(tmp_path / "secret.py", 0)
    (tmp_path / "racy.py").write_text(RACY)
    for args in (["."], ["secret.py", "racy.py"]):
        proc = subprocess.run([*prefix, exe, *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert "secret.py:1:1: FT001 [error] cannot read: Permission denied" in proc.stdout
        assert codes(proc.stdout)["racy.py"] == ["FT203"]


@pytest.mark.parametrize("content,needle", [
    (b"tool = 5\n", "'tool' must be a table"),
    (b"[tool.ftlint]\nignore = ['\xff']\n", "not UTF-8"),
    (b"[tool.ftlint]\nextend-exclude = ['!']\n", "invalid gitignore-style pattern '!'"),
])
def test_bad_configuration_names_the_problem(tmp_path, run_ftlint, content, needle):
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "racy.py").write_text(RACY)
    proc = run_ftlint(".", cwd=tmp_path)
    assert proc.returncode == 2
    assert needle in proc.stderr and "internal error" not in proc.stderr


def test_a_bad_gitignore_pattern_is_skipped_like_git_does(tmp_path, run_ftlint):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("!\nignored.py\n")
    (tmp_path / "ignored.py").write_text(RACY)
    (tmp_path / "racy.py").write_text(RACY)
    proc = run_ftlint(".", cwd=tmp_path)
    assert codes(proc.stdout) == {"racy.py": ["FT203"]}


def test_read_only_tree_is_checked(tmp_path, run_ftlint):
    (tmp_path / "racy.py").write_text(RACY)
    os.chmod(tmp_path / "racy.py", stat.S_IRUSR)
    proc = run_ftlint(".", cwd=tmp_path)
    assert codes(proc.stdout) == {"racy.py": ["FT203"]}
