"""``ftlint -`` and ``--stdin-filename``: editors and pipes hand ftlint an
unsaved buffer on stdin, as they do to ruff and flake8."""
from __future__ import annotations

import json

import pytest

SOURCE = (
    "_cache = {}\n"
    "\n"
    "\n"
    "def get(key):\n"
    "    if key not in _cache:\n"
    "        _cache[key] = len(key)\n"
    "    return _cache[key]\n"
)


def test_check_reads_stdin_and_names_it(tmp_path, run_ftlint):
    proc = run_ftlint("-", input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "<stdin>:5:5: FT203" in proc.stdout
    proc = run_ftlint("--stdin-filename", "pkg/cache.py", "--format", "json", input=SOURCE,
                      cwd=tmp_path)
    [finding] = json.loads(proc.stdout)
    assert (finding["filename"], finding["code"]) == ("pkg/cache.py", "FT203")
    assert finding["fix"] is not None  # JSON carries the fix, as for files


def test_the_settings_are_those_of_the_named_file(tmp_path, run_ftlint):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.ftlint]\nselect = ["FT301"]\n')
    proc = run_ftlint("--stdin-filename", "sub/cache.py", "-", input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_ftlint("--stdin-filename", "other/cache.py", "-", input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 1


def test_fix_prints_the_fixed_source_and_reports_on_stderr(tmp_path, run_ftlint):
    proc = run_ftlint("--fix", "--stdin-filename", "cache.py", "-", input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 0  # fixed, nothing left: as for files (and ruff)
    # A fill whose worst case is a second build is published in one step.
    assert "    if key not in _cache:\n        _cache.setdefault(key, len(key))\n" in proc.stdout
    compile(proc.stdout, "cache.py", "exec")
    assert "All checks passed" in proc.stderr
    assert not list(tmp_path.iterdir()), "nothing is written"
    again = run_ftlint("--fix", "-", input=proc.stdout, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == proc.stdout


def test_diff_prints_the_change(tmp_path, run_ftlint):
    proc = run_ftlint("--diff", "--stdin-filename", "cache.py", input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("--- cache.py\n+++ cache.py\n")
    assert "+        _cache.setdefault(key, len(key))\n" in proc.stdout
    clean = run_ftlint("--diff", "-", input="x = 1\n", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_unparsable_stdin_is_reported_not_fixed(tmp_path, run_ftlint):
    proc = run_ftlint("--fix", "-", input="x = (\n", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == "x = (\n"  # the buffer comes back as it was
    assert "FT002" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (("-", "other.py"), "cannot be checked together with other paths"),
    (("--stdin-filename", "x.py", "other.py"), "needs PATH '-'"),
    (("--add-noqa", "-"), "--add-noqa cannot be used with stdin"),
    (("--fix", "--verify", "true", "-"), "--verify cannot be used with stdin"),
])
def test_options_that_need_files_are_refused(tmp_path, run_ftlint, args, message):
    proc = run_ftlint(*args, input=SOURCE, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
