"""Every front-end reports the same findings for the same settings: the text
and JSON output, a run answered from the cache, ``--diff`` (it fixes only
what is reported) and the flake8 plugin, which reads the same
``[tool.ftlint]`` through the same code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ftlint_executable

MODULE = textwrap.dedent('''\
    import os
    import threading

    counter = 0
    _cache = {}
    _seen = []
    _NAMES = ["a", "b"]


    def bump():
        global counter
        counter += 1


    def start():
        threading.Thread(target=bump).start()


    def get(key):
        if key not in _cache:
            _cache[key] = key * 2
        return _cache[key]


    def handler(item):
        _seen.append(item)
        if item not in _seen[:-1]:
            _seen.insert(0, item)


    def configure(path):
        os.chdir(path)


    class Tally:
        """Counts things. Not thread-safe."""

        def __init__(self):
            self.n = 0

        def add(self):
            self.n += 1


    def locked(function):
        return function


    class Guarded:
        """Thread-safe."""

        def __init__(self):
            self.n = 0

        @locked
        def add(self):
            self.n += 1


    class Shared:
        """Thread-safe: one instance serves every request."""

        def __init__(self):
            self.hits = 0
            self.names = {}

        def hit(self, name):
            self.hits += 1
            if name not in self.names:
                self.names[name] = len(self.names)
''')
TEST_MODULE = textwrap.dedent('''\
    _calls = {}


    def test_twice():
        if "x" not in _calls:
            _calls["x"] = 1
''')
SETTINGS = [
    "",
    'not-thread-safe = "ignore"',
    'min-confidence = "low"',
    'min-confidence = "high"',
    'test-code = "ignore"',
    'test-code = "report"\nmin-confidence = "low"',
    'ignore = ["FT203"]',
    'select = ["FT2"]\nmin-confidence = "low"',
    'per-file-ignores = {"mod.py" = ["FT102"]}',
    'thread-entry-points = ["mod.handler"]',
    'synchronizing-decorators = ["locked"]',
    'extend-select = ["FT107"]\nmin-confidence = "low"',
    'test-patterns = ["mod.py"]',
    'max-file-size = 500',
]
LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<row>\d+):(?P<col>\d+): (?P<code>FT\d{3})(?: \[\*\])? "
                  r"\[(?P<conf>\w+)\]")


def project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.ftlint]\n{config}\n")
    (tmp_path / "mod.py").write_text(MODULE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mod.py").write_text(TEST_MODULE)
    return tmp_path


def ftlint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([ftlint_executable(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return proc


def from_text(output: str) -> set[tuple]:
    return {(Path(m["path"]).as_posix(), int(m["row"]), int(m["col"]), m["code"], m["conf"])
            for m in map(LINE.match, output.splitlines()) if m}


def from_json(output: str) -> set[tuple]:
    # Text tags a file that was not checked "[error]"; JSON gives it a confidence.
    return {(Path(d["filename"]).as_posix(), d["location"]["row"], d["location"]["column"],
             d["code"], "error" if d["code"] in ("FT000", "FT001", "FT002") else d["confidence"])
            for d in json.loads(output)}


@pytest.mark.parametrize("config", SETTINGS)
def test_text_json_cache_and_diff_agree(tmp_path: Path, config: str) -> None:
    root = project(tmp_path, config)
    text = from_text(ftlint(root, "--no-cache", "--quiet", "mod.py", "tests").stdout)
    as_json = from_json(ftlint(root, "--no-cache", "--format", "json", "mod.py", "tests").stdout)
    assert text == as_json
    ftlint(root, "--quiet", "mod.py", "tests")  # fills the cache
    cached = from_text(ftlint(root, "--quiet", "mod.py", "tests").stdout)
    cached_json = from_json(ftlint(root, "--format", "json", "mod.py", "tests").stdout)
    assert cached == cached_json == text
    diff = ftlint(root, "--no-cache", "--diff", "--show-fixes", "mod.py", "tests")
    where = None
    fixed = set()
    for line in (diff.stdout + diff.stderr).splitlines():
        if line.endswith(":") and not line.startswith(" "):
            where = Path(line.split(" (")[0].rstrip(":")).as_posix()
        m = re.match(r"  fixed (FT\d+) at (\d+):", line)
        if m:
            fixed.add((where, int(m[2]), m[1]))
    reported = {(path, row, code) for path, row, _, code, _ in text}
    assert fixed <= reported, (fixed, reported)
    if any(conf != "error" for *_, conf in text):  # findings, not files left unchecked
        assert fixed or "not fixed" in diff.stdout + diff.stderr


def test_the_settings_change_what_is_reported(tmp_path: Path) -> None:
    """The agreement above means something only if the settings matter."""
    seen = set()
    for index, config in enumerate(SETTINGS):
        (tmp_path / str(index)).mkdir()
        root = project(tmp_path / str(index), config)
        seen.add(frozenset(from_text(ftlint(root, "--no-cache", "--quiet", "mod.py",
                                            "tests").stdout)))
    assert len(seen) >= 7


@pytest.mark.parametrize("config", ["", 'min-confidence = "high"',
                                    'thread-entry-points = ["mod.handler"]'])
def test_json_fixes_are_those_of_a_full_build(tmp_path: Path, config: str) -> None:
    """JSON builds only the fixes of what may be shown, and of what the
    project pass raises into view; each equals the fix a run that builds
    every fix gives."""
    root = project(tmp_path, config)
    shown = json.loads(ftlint(root, "--no-cache", "--format", "json", "mod.py").stdout)
    every = json.loads(ftlint(root, "--no-cache", "--format", "json", "--min-confidence", "low",
                              "mod.py").stdout)
    full = {(d["code"], d["location"]["row"], d["location"]["column"]): d["fix"] for d in every}
    assert shown
    assert any(d["fix"] for d in shown)
    for d in shown:
        assert d["fix"] == full[(d["code"], d["location"]["row"], d["location"]["column"])]


def _flake8(cwd: Path, *args: str) -> set[tuple]:
    flake8 = Path(sys.executable).with_name("flake8")
    proc = subprocess.run([str(flake8), "--select", "FT", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode in (0, 1), proc.stderr
    return from_text(proc.stdout.replace("./", ""))


@pytest.mark.parametrize("config", SETTINGS)
def test_flake8_reads_the_same_configuration(tmp_path: Path, config: str) -> None:
    """One module checked alone (flake8 sees one file at a time): the plugin
    reports what ``ftlint`` reports for that file, with the same
    ``[tool.ftlint]``."""
    root = project(tmp_path, config)
    # flake8 leaves opt-in rules out by default, whatever [tool.ftlint] says:
    # its own selection must name them (docs/flake8.md).
    extra = ["--extend-select", "FT107"] if "FT107" in config else []
    cli = from_text(ftlint(root, "--no-cache", "--quiet", "mod.py").stdout)
    assert _flake8(root, *extra, "mod.py") == cli
    tests_cli = from_text(ftlint(root, "--no-cache", "--quiet", "tests/test_mod.py").stdout)
    assert _flake8(root, *extra, "tests/test_mod.py") == tests_cli


def test_flake8_options_still_win(tmp_path: Path) -> None:
    root = project(tmp_path, 'min-confidence = "high"')
    high = _flake8(root, "mod.py")
    low = _flake8(root, "--ftlint-min-confidence", "low", "mod.py")
    assert high < low
    assert low == from_text(ftlint(root, "--no-cache", "--quiet", "--min-confidence", "low",
                                   "mod.py").stdout)


def test_flake8_reports_a_broken_configuration(tmp_path: Path) -> None:
    root = project(tmp_path, 'mystery = "x"')
    flake8 = Path(sys.executable).with_name("flake8")
    proc = subprocess.run([str(flake8), "--select", "FT", "mod.py"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert "FT000 ftlint configuration error" in proc.stdout
    assert "unknown option 'mystery'" in proc.stdout
