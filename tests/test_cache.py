"""The result cache, through the installed console script: a second run
answers from it (without importing libcst), and nothing it keeps can make a
run report something a run without it would not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import CHECK_THEN_ACT, ftlint_executable

WORKER = textwrap.dedent('''\
    counter = 0


    def work():
        global counter
        counter += 1
''')
STARTER = textwrap.dedent('''\
    import threading

    import worker


    def start():
        threading.Thread(target=worker.work).start()
''')


def run(cwd: Path, *args: str, env: dict | None = None, importtime: bool = False):
    prefix = [sys.executable, "-X", "importtime"] if importtime else []
    return subprocess.run([*prefix, ftlint_executable(), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def findings(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode in (0, 1), result.stderr
    return [{k: d[k] for k in ("filename", "code", "message", "location", "confidence",
                               "confidence_reason")}
            for d in json.loads(result.stdout)]


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.bin"))


def test_second_run_answers_from_the_cache_without_libcst(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    (tmp_path / "other.py").write_text(WORKER)
    first = run(tmp_path, ".", "--format", "json", importtime=True)
    assert "libcst" in first.stderr  # the first run parses
    second = run(tmp_path, ".", "--format", "json", importtime=True)
    assert findings(second) == findings(first) != []
    imported = [line for line in second.stderr.splitlines() if "import time:" in line]
    assert imported, "no -X importtime output"
    assert not any("libcst" in line for line in imported)
    cache = tmp_path / ".ftlint_cache"
    assert len(entries(cache)) == 2
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").exists()


def test_a_changed_file_is_analysed_again(tmp_path: Path) -> None:
    mod = tmp_path / "mod.py"
    mod.write_text(CHECK_THEN_ACT)
    assert [d["code"] for d in findings(run(tmp_path, ".", "--format", "json"))] == ["FT203"]
    mod.write_text("_cache = {}\n\n\ndef get(key):\n    return _cache.get(key)\n")
    assert findings(run(tmp_path, ".", "--format", "json")) == []
    mod.write_text(CHECK_THEN_ACT)  # back: the entry for these bytes is gone, not reused wrongly
    assert [d["code"] for d in findings(run(tmp_path, ".", "--format", "json"))] == ["FT203"]


def test_the_project_pass_reruns_over_cached_files(tmp_path: Path) -> None:
    """worker.py is unchanged, but a new module starts a thread on it: its
    cached result must be judged again."""
    (tmp_path / "worker.py").write_text(WORKER)
    before = findings(run(tmp_path, ".", "--format", "json", "--min-confidence", "low"))
    assert [d["confidence"] for d in before] == ["medium"]
    (tmp_path / "starter.py").write_text(STARTER)
    after = findings(run(tmp_path, ".", "--format", "json", "--min-confidence", "low"))
    uncached = findings(run(tmp_path, ".", "--format", "json", "--min-confidence", "low",
                            "--no-cache"))
    assert after == uncached
    [raised] = [d for d in after if d["filename"].endswith("worker.py")]
    assert raised["confidence"] == "high"
    assert "runs on other threads" in raised["confidence_reason"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_finding_the_project_pass_raises_into_view_is_answered_from_the_cache(
        tmp_path: Path, fmt: str) -> None:
    """worker.py's finding is medium on its own, so a `--min-confidence high`
    analysis builds no fix for it; the project pass raises it to high, and
    its fix (or its [*] mark) comes from a second analysis. That answer is
    stored: the next run neither analyses the file again nor imports libcst."""
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "starter.py").write_text(STARTER)
    args = (".", "--format", fmt, "--min-confidence", "high")
    first = run(tmp_path, *args)
    second = run(tmp_path, *args, importtime=True)
    uncached = run(tmp_path, *args, "--no-cache")
    assert first.stdout == second.stdout == uncached.stdout
    if fmt == "json":
        [finding] = json.loads(second.stdout)
        assert finding["confidence"] == "high" and finding["fix"]["edits"]
    else:
        assert "FT102 [*] [high]" in second.stdout
    imported = [line for line in second.stderr.splitlines() if "import time:" in line]
    assert imported, "no -X importtime output"
    assert not any("libcst" in line for line in imported)


def test_settings_that_change_results_are_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT + WORKER.replace("counter = 0\n", ""))
    everything = findings(run(tmp_path, ".", "--format", "json"))
    assert {d["code"] for d in everything} == {"FT203", "FT102"}
    only = findings(run(tmp_path, ".", "--format", "json", "--select", "FT102"))
    assert {d["code"] for d in only} == {"FT102"}
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ftlint]\nper-file-ignores = {"mod.py" = ["FT203"]}\n')
    ignored = findings(run(tmp_path, ".", "--format", "json"))
    assert {d["code"] for d in ignored} == {"FT102"}


def test_a_new_package_marker_changes_the_module_name(tmp_path: Path) -> None:
    """pkg/worker.py becomes module pkg.worker once pkg/__init__.py exists:
    a starter that imports pkg.worker then reaches it."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "worker.py").write_text(WORKER)
    (tmp_path / "starter.py").write_text(STARTER.replace("import worker", "from pkg import worker"))
    run(tmp_path, ".", "--format", "json")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    cached = findings(run(tmp_path, ".", "--format", "json", "--min-confidence", "low"))
    assert cached == findings(run(tmp_path, ".", "--format", "json", "--min-confidence", "low",
                                  "--no-cache"))
    assert [d["confidence"] for d in cached] == ["high"]


def test_corrupt_and_foreign_entries_are_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    expected = findings(run(tmp_path, ".", "--format", "json"))
    [entry] = entries(tmp_path / ".ftlint_cache")
    good = entry.read_bytes()
    for bad in (b"", good[:len(good) // 2], good[:-1] + bytes([good[-1] ^ 1]), b"junk" * 50):
        entry.write_bytes(bad)
        assert findings(run(tmp_path, ".", "--format", "json")) == expected
        assert entry.read_bytes() == good  # rebuilt
    entry.unlink()
    entry.mkdir()  # an entry that cannot even be read, or written
    assert findings(run(tmp_path, ".", "--format", "json")) == expected


def test_an_unwritable_cache_does_not_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    result = run(tmp_path, ".", "--format", "json", "--cache-dir", str(blocker / "cache"))
    assert [d["code"] for d in findings(result)] == ["FT203"]
    assert result.stderr == ""


def test_where_the_cache_lives(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    run(tmp_path, ".", "--no-cache")
    assert not (tmp_path / ".ftlint_cache").exists()
    run(tmp_path, ".", env={"FTLINT_CACHE_DIR": str(tmp_path / "env-cache")})
    assert entries(tmp_path / "env-cache")
    (tmp_path / "sub").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.ftlint]\ncache-dir = "build/ftlint"\n')
    run(tmp_path / "sub", "..")  # relative to the configuration's directory
    assert entries(tmp_path / "build" / "ftlint")
    run(tmp_path, ".", "--cache-dir", "cli-cache")
    assert entries(tmp_path / "cli-cache")
    assert not (tmp_path / ".ftlint_cache").exists()
    bad = run(tmp_path, ".", env={"FTLINT_CACHE_DIR": ""})
    assert bad.returncode == 1  # an empty variable is unset, not an error


def test_cache_dir_must_be_a_path(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ftlint]\ncache-dir = 3\n")
    result = run(tmp_path, ".")
    assert result.returncode == 2
    assert "'cache-dir' must be a path" in result.stderr


def test_clean_removes_the_cache(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    run(tmp_path, ".")
    assert (tmp_path / ".ftlint_cache").is_dir()
    result = run(tmp_path, "clean")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".ftlint_cache").exists()
    again = run(tmp_path, "clean")
    assert again.returncode == 0 and "No cache" in again.stderr
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "data.txt").write_text("keep me")
    refused = run(tmp_path, "clean", "--cache-dir", "precious")
    assert refused.returncode == 2
    assert (tmp_path / "precious" / "data.txt").exists()


def test_runs_at_the_same_time_agree(tmp_path: Path) -> None:
    for i in range(24):  # enough files for the process pool
        (tmp_path / f"m{i}.py").write_text(CHECK_THEN_ACT if i % 2 else WORKER)
    expected = findings(run(tmp_path, ".", "--format", "json", "--no-cache"))
    exe = ftlint_executable()
    procs = [subprocess.Popen([exe, ".", "--format", "json"], cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert findings(subprocess.CompletedProcess([], proc.returncode, out, err)) == expected
    assert findings(run(tmp_path, ".", "--format", "json")) == expected
    leftovers = [p for p in (tmp_path / ".ftlint_cache").rglob(".tmp-*")]
    assert leftovers == []


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_fix_then_check_uses_fresh_results(tmp_path: Path, fmt: str) -> None:
    """--fix rewrites a cached file: the next check sees the new bytes."""
    (tmp_path / "mod.py").write_text(CHECK_THEN_ACT)
    run(tmp_path, ".", "--format", fmt)
    fixed = run(tmp_path, ".", "--fix", "--format", fmt)
    assert fixed.returncode in (0, 1), fixed.stderr
    cached = run(tmp_path, ".", "--format", "json")
    assert findings(cached) == findings(run(tmp_path, ".", "--format", "json", "--no-cache"))
