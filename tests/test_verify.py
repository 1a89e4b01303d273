"""``ftlint --fix --verify CMD``: the user's command decides which fixes stay.

The command-line tests run the installed console script on a small project
whose verify command is a Python script; the tests of ``verify_fixes`` give
it a runner and a writer over an in-memory tree, to count runs exactly.
"""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import CHECK_THEN_ACT
from ftlint.verify import Change, RunResult, VerifyError, verify_fixes

# A global counter (FT102): the fix puts `_count += 1` under `with _count_lock:`.
COUNTER = textwrap.dedent('''\
    _count = 0


    def hit():
        global _count
        _count += 1
        return _count
''')

# The verify command: "the tests". It fails when the file named in
# argv[1] holds a lock (the fix of that one module "breaks" them), and logs
# each run, outside the checked paths, so the tests can count the runs.
CHECK_SCRIPT = textwrap.dedent('''\
    import sys
    from pathlib import Path

    here = Path(__file__).parent
    with open(here / "runs.log", "a") as log:
        log.write("run\\n")
    for name in sys.argv[1:]:
        if "with _" in (here / "proj" / name).read_text():
            print("collected 3 items")
            print(f"FAILED test_{name}: {name} takes a lock the tests do not expect")
            sys.exit(3)
    print("3 passed")
''')


def project(tmp_path: Path, **modules: str) -> Path:
    """``tmp_path/proj/NAME.py`` for each module, and the check script next to
    ``proj`` (not among the checked paths)."""
    proj = tmp_path / "proj"
    proj.mkdir()
    for name, source in modules.items():
        (proj / f"{name}.py").write_text(source, encoding="utf-8")
    (tmp_path / "check.py").write_text(CHECK_SCRIPT, encoding="utf-8")
    return proj


def check_command(tmp_path: Path, *breaking: str) -> str:
    return shlex.join([sys.executable, str(tmp_path / "check.py"), *breaking])


def runs(tmp_path: Path) -> int:
    log = tmp_path / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


# -- the command line ---------------------------------------------------------

def test_bisection_reverts_exactly_the_file_whose_fix_breaks_the_tests(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT, counter=COUNTER)
    proc = run_ftlint("--fix", "--verify", check_command(tmp_path, "counter.py"), ".", cwd=proj)
    assert proc.returncode == 1, proc.stderr  # a file was rewritten and findings remain
    assert "with _cache_lock:" in (proj / "cache.py").read_text()
    assert (proj / "counter.py").read_text() == COUNTER  # byte for byte
    err = proc.stderr
    assert "reverted counter.py: the command fails with its fixes (exit 3)" in err
    assert "FAILED test_counter.py: counter.py takes a lock" in err  # the command's own words
    assert "kept cache.py" in err
    assert "passes with the fixes of 1 of 2 files kept; 1 reverted." in err
    assert "reverted cache.py" not in err
    # The report is of the tree as left: the reverted file's finding is still there.
    assert "counter.py:6:5: FT102" in proc.stdout
    assert "cache.py" not in proc.stdout
    assert "Fixed 1 finding in 1 file." in proc.stdout
    # before fixing, with both fixes, with the first file's only, with the kept one
    assert runs(tmp_path) == 4
    # No temporary file is left behind by the reverts (the result cache is ftlint's own).
    assert sorted(p.name for p in proj.iterdir()) == [".ftlint_cache", "cache.py", "counter.py"]


def test_culprit_in_the_middle_of_three(tmp_path, run_ftlint):
    memo = CHECK_THEN_ACT.replace("_cache", "_memo")
    proj = project(tmp_path, a=CHECK_THEN_ACT, b=COUNTER, c=memo)
    proc = run_ftlint("--fix", "-q", "--verify", check_command(tmp_path, "b.py"), ".", cwd=proj)
    assert proc.returncode == 1, proc.stderr
    assert "with _cache_lock:" in (proj / "a.py").read_text()
    assert "with _memo_lock:" in (proj / "c.py").read_text()
    assert (proj / "b.py").read_text() == COUNTER
    assert "reverted b.py" in proc.stderr and "kept a.py" in proc.stderr
    assert "running" not in proc.stderr  # -q: no progress lines, only the result


def test_all_fixes_kept_when_the_command_passes(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT, counter=COUNTER)
    proc = run_ftlint("--fix", "--verify", check_command(tmp_path), ".", cwd=proj)
    assert proc.returncode == 0, proc.stderr  # nothing is left, as with --fix alone
    assert "with _cache_lock:" in (proj / "cache.py").read_text()
    assert "with _count_lock:" in (proj / "counter.py").read_text()
    assert "passes with the fixes; kept all of them (2 files)." in proc.stderr
    assert "reverted" not in proc.stderr
    assert "Fixed 2 findings in 2 files." in proc.stdout
    assert runs(tmp_path) == 2  # once before fixing, once after


def test_command_failing_before_any_fix_changes_nothing(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT, counter=COUNTER)
    (proj / "counter.py").write_text(COUNTER + "\n\nwith _x:\n    pass\n")
    before = {p.name: p.read_bytes() for p in proj.iterdir()}
    proc = run_ftlint("--fix", "--verify", check_command(tmp_path, "counter.py"), ".",
                      "--no-cache", cwd=proj)
    assert proc.returncode == 2, proc.stderr
    assert "fails before any fix (exit 3); nothing was changed" in proc.stderr
    assert "FAILED test_counter.py" in proc.stderr
    assert {p.name: p.read_bytes() for p in proj.iterdir()} == before
    assert runs(tmp_path) == 1


def test_command_that_cannot_start(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT)
    proc = run_ftlint("--fix", "--verify", "ftlint-no-such-command-here", ".", cwd=proj)
    assert proc.returncode == 2
    assert "could not start 'ftlint-no-such-command-here'" in proc.stderr
    assert (proj / "cache.py").read_text() == CHECK_THEN_ACT


def test_nothing_to_fix_runs_nothing(tmp_path, run_ftlint):
    proj = project(tmp_path, clean="X = 1\n")
    proc = run_ftlint("--fix", "--verify", check_command(tmp_path), ".", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert runs(tmp_path) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs sh")
def test_shell_syntax_through_sh_c(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT)
    command = f"sh -c '{check_command(tmp_path)} > /dev/null && grep -q _cache cache.py'"
    proc = run_ftlint("--fix", "--verify", command, ".", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert "kept all of them (1 file)." in proc.stderr
    assert runs(tmp_path) == 2


def test_command_failing_even_with_every_fix_reverted(tmp_path, run_ftlint):
    """A command that passes once, then never (flaky, or it depends on
    something else): every fix is reverted, and the exit code says so."""
    proj = project(tmp_path, cache=CHECK_THEN_ACT, counter=COUNTER)
    (tmp_path / "once.py").write_text(textwrap.dedent('''\
        import sys
        from pathlib import Path
        flag = Path(__file__).with_name("ran-once")
        if flag.exists():
            print("database is gone")
            sys.exit(1)
        flag.write_text("")
    '''))
    once = shlex.join([sys.executable, str(tmp_path / "once.py")])
    proc = run_ftlint("--fix", "--verify", once, ".", cwd=proj)
    assert proc.returncode == 2, proc.stderr
    assert "still fails (exit 1) with every fix reverted" in proc.stderr
    assert (proj / "cache.py").read_text() == CHECK_THEN_ACT
    assert (proj / "counter.py").read_text() == COUNTER
    assert "Fixed" not in proc.stdout
    assert "cache.py:5:5: FT203" in proc.stdout  # the report is still printed


def test_timeout_counts_as_a_failure(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT)
    (tmp_path / "slow.py").write_text(textwrap.dedent('''\
        import time
        from pathlib import Path
        if "with _" in Path("cache.py").read_text():
            time.sleep(60)
    '''))
    slow = shlex.join([sys.executable, str(tmp_path / "slow.py")])
    proc = run_ftlint("--fix", "--verify", slow, "--verify-timeout", "1", ".", cwd=proj)
    assert proc.returncode == 1, proc.stderr
    assert ("reverted cache.py: the command fails with its fixes (timed out after 1 s)"
            in proc.stderr)
    assert (proj / "cache.py").read_text() == CHECK_THEN_ACT


def test_json_report_stays_json(tmp_path, run_ftlint):
    proj = project(tmp_path, cache=CHECK_THEN_ACT, counter=COUNTER)
    proc = run_ftlint("--fix", "--format", "json", "--verify",
                      check_command(tmp_path, "counter.py"), ".", cwd=proj)
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)
    assert [Path(d["filename"]).name for d in found] == ["counter.py"]
    assert "reverted counter.py" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--verify", "true"], "--verify needs --fix"),
    (["--diff", "--verify", "true"], "--verify needs --fix"),
    (["--fix", "--diff", "--verify", "true"], "--verify cannot be used with --diff"),
    (["--fix", "--verify-timeout", "5"], "--verify-timeout needs --verify"),
    (["--fix", "--verify", "pytest 'unclosed"], "--verify: No closing quotation"),
    (["--fix", "--verify", "  "], "--verify: the command is empty"),
    (["--fix", "--verify", "true", "--verify-timeout", "0"], "--verify-timeout"),
])
def test_usage_errors(tmp_path, run_ftlint, args, message):
    proj = project(tmp_path, cache=CHECK_THEN_ACT)
    proc = run_ftlint(*args, ".", cwd=proj)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert (proj / "cache.py").read_text() == CHECK_THEN_ACT
    assert runs(tmp_path) == 0


def test_help_mentions_the_option(run_ftlint):
    out = run_ftlint("check", "--help").stdout
    assert "--verify CMD" in out and "--verify-timeout SECONDS" in out


# -- verify_fixes, with the tree in memory ------------------------------------

class Tree:
    """Files in a dict; the "tests" fail while ``breaks(applied)`` says so."""

    def __init__(self, names, breaks, refuse=()):
        self.changes = [Change(n, f"{n} old".encode(), f"{n} new".encode()) for n in names]
        self.files = {c.path: c.fixed for c in self.changes}  # --fix wrote them all
        self.breaks, self.refuse, self.runs = breaks, set(refuse), []

    def applied(self):
        return {p for p, data in self.files.items() if data.endswith(b"new")}

    def run(self):
        now = self.applied()
        self.runs.append(now)
        return RunResult(1, f"broken by {sorted(now)}") if self.breaks(now) else RunResult(0)

    def write(self, path, data, expected):
        if path in self.refuse:
            raise PermissionError(13, "Permission denied")
        assert self.files[path] == expected
        self.files[path] = data


def test_one_culprit_among_many_takes_few_runs():
    names = [f"m{i}.py" for i in range(16)]
    tree = Tree(names, lambda on: "m11.py" in on)
    out = verify_fixes(tree.changes, tree.run, tree.write)
    assert [c.path for c, _ in out.reverted] == ["m11.py"]
    assert [c.path for c in out.kept] == [n for n in names if n != "m11.py"]
    assert out.passed and tree.applied() == set(names) - {"m11.py"}
    assert out.runs == len(tree.runs) == 1 + 4 + 1  # all, log2(16) halvings, confirmation
    # why: the run with the files before it and its own fix, which failed
    assert out.reverted[0][1].output == "broken by " + str(sorted(names[:12]))


def test_two_independent_culprits_are_both_reverted():
    names = [f"m{i}.py" for i in range(8)]
    tree = Tree(names, lambda on: bool(on & {"m2.py", "m6.py"}))
    out = verify_fixes(tree.changes, tree.run, tree.write)
    assert sorted(c.path for c, _ in out.reverted) == ["m2.py", "m6.py"]
    assert out.passed and tree.applied() == set(names) - {"m2.py", "m6.py"}


def test_failure_that_needs_two_files_reverts_one_of_them():
    names = ["a.py", "b.py", "c.py", "d.py"]
    tree = Tree(names, lambda on: {"a.py", "c.py"} <= on)
    out = verify_fixes(tree.changes, tree.run, tree.write)
    assert [c.path for c, _ in out.reverted] == ["c.py"]
    assert out.passed and tree.applied() == {"a.py", "b.py", "d.py"}


def test_all_pass_runs_once():
    tree = Tree(["a.py", "b.py"], lambda on: False)
    out = verify_fixes(tree.changes, tree.run, tree.write)
    assert out.passed and not out.reverted and out.runs == 1
    assert tree.applied() == {"a.py", "b.py"}


def test_always_failing_reverts_everything():
    tree = Tree(["a.py", "b.py", "c.py"], lambda on: True)
    out = verify_fixes(tree.changes, tree.run, tree.write)
    assert not out.passed and not out.kept
    assert tree.applied() == set()


def test_a_file_that_cannot_be_reverted_stops_and_restores_the_rest():
    tree = Tree(["a.py", "b.py", "c.py", "d.py"], lambda on: "d.py" in on, refuse={"c.py"})
    with pytest.raises(VerifyError, match=r"c.py: could not revert it: .*could not put back: c.py"):
        verify_fixes(tree.changes, tree.run, tree.write)
    assert tree.applied() == {"c.py"}
