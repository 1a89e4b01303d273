"""The flake8 plugin, through the real ``flake8`` command, as editors run it."""

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

import ftlint
from ftlint import flake8_plugin
from ftlint.flake8_plugin import Plugin

RACY = textwrap.dedent('''\
    import threading

    _cache = {}
    _count = 0
    _log = []
    NAMES = ["a", "b"]


    def get(key):
        if key not in _cache:
            _cache[key] = key * 2
        return _cache[key]


    def hit():
        global _count
        _count += 1


    def note(x):
        _log.append(x)


    threading.Thread(target=hit).start()
''')
# Rows of the findings above.
CHECK_THEN_ACT, RMW, APPEND, CONSTANT = 10, 17, 21, 6

LINE = re.compile(r"^(?P<path>.+?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<text>.*)$")
FT_TEXT = re.compile(r"^\[(?P<conf>low|medium|high|error)\] (?P<msg>.+)$")


def flake8_executable() -> str:
    candidate = Path(sys.executable).with_name("flake8")
    if not candidate.exists():
        pytest.skip("flake8 is not installed next to the interpreter (pip install -e '.[test]')")
    return str(candidate)


def run_flake8(cwd: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([flake8_executable(), *args], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def project(tmp: Path, files: dict[str, str], config: str = "", every_finding: bool = True) -> Path:
    """Files plus a ``.flake8``, so no config from above the tmp dir leaks in.
    Unless the config sets it, the plugin reports at every confidence
    (``every_finding=False`` keeps its default, medium)."""
    config = textwrap.dedent(config)
    if every_finding and "ftlint-min-confidence" not in config:
        config = "ftlint-min-confidence = low\n" + config
    (tmp / ".flake8").write_text("[flake8]\n" + config, encoding="utf-8")
    for name, content in files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return tmp


def lines(output: str, prefix: str = "FT") -> list[re.Match]:
    return [m for m in map(LINE.match, output.splitlines()) if m and m["code"].startswith(prefix)]


def found(proc: subprocess.CompletedProcess) -> list[tuple[str, int, str]]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [(Path(m["path"]).name, int(m["row"]), m["code"]) for m in lines(proc.stdout)]


# -- the plugin is there, and reports ------------------------------------------

def test_listed_in_flake8_version(tmp_path):
    proc = run_flake8(project(tmp_path, {}), "--version")
    assert proc.returncode == 0, proc.stderr
    assert f"ftlint: {ftlint.__version__}" in proc.stdout


def test_findings_with_ft_codes(tmp_path):
    proc = run_flake8(project(tmp_path, {"racy.py": RACY}), "racy.py")
    assert proc.returncode == 1
    assert found(proc) == [("racy.py", CHECK_THEN_ACT, "FT203"), ("racy.py", RMW, "FT102"),
                           ("racy.py", APPEND, "FT101")]
    first = lines(proc.stdout)[0]
    assert first["col"] == "5"  # flake8 prints 1-based columns, like the CLI
    text = FT_TEXT.match(first["text"])
    assert text and text["conf"] == "medium" and "_cache" in text["msg"]


def test_same_findings_as_cli_json(tmp_path):
    project(tmp_path, {"racy.py": RACY})
    cli = subprocess.run([ftlint_executable(), "--min-confidence", "low", "--format", "json", "racy.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    expected = [(d["code"], d["location"]["row"], d["location"]["column"], d["confidence"],
                 d["message"]) for d in json.loads(cli.stdout)]
    assert len(expected) == 3
    got = []
    for m in lines(run_flake8(tmp_path, "racy.py").stdout):
        text = FT_TEXT.match(m["text"])
        got.append((m["code"], int(m["row"]), int(m["col"]), text["conf"], text["msg"]))
    assert got == expected


def test_same_lines_as_cli_text(tmp_path):
    project(tmp_path, {"racy.py": RACY})
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    cli = subprocess.run([ftlint_executable(), "--min-confidence", "low", "--quiet", "racy.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={**env, "NO_COLOR": "1"})
    # The same lines, but for `[*]`: ftlint marks what its --fix fixes; flake8 fixes nothing.
    cli_lines = [m.group(0).replace(f"{m['code']} [*] ", f"{m['code']} ") for m in lines(cli.stdout)]
    assert len(cli_lines) == 3 and "[*]" in cli.stdout
    assert [m.group(0) for m in lines(run_flake8(tmp_path, "racy.py").stdout)] == cli_lines


def test_several_files_in_parallel_workers(tmp_path):
    files = {f"pkg/mod{i}.py": RACY for i in range(4)}
    proc = run_flake8(project(tmp_path, files), "--jobs", "2", "pkg")
    assert sorted(found(proc)) == sorted((f"mod{i}.py", row, code) for i in range(4)
                                         for row, code in ((CHECK_THEN_ACT, "FT203"),
                                                           (RMW, "FT102"), (APPEND, "FT101")))


def test_stdin(tmp_path):
    proc = run_flake8(project(tmp_path, {}), "--stdin-display-name", "svc.py", "-", input=RACY)
    assert found(proc) == [("svc.py", CHECK_THEN_ACT, "FT203"), ("svc.py", RMW, "FT102"),
                           ("svc.py", APPEND, "FT101")]


# -- flake8 does the filtering -------------------------------------------------

def test_select_and_extend_ignore(tmp_path):
    project(tmp_path, {"racy.py": RACY})
    assert found(run_flake8(tmp_path, "--select", "FT2", "racy.py")) == [
        ("racy.py", CHECK_THEN_ACT, "FT203")]
    # Without FT203 the general finding it superseded shows, as with the CLI.
    assert found(run_flake8(tmp_path, "--extend-ignore", "FT203", "racy.py")) == [
        ("racy.py", CHECK_THEN_ACT + 1, "FT101"), ("racy.py", RMW, "FT102"),
        ("racy.py", APPEND, "FT101")]


def test_noqa_comment(tmp_path):
    source = RACY.replace("if key not in _cache:", "if key not in _cache:  # noqa: FT203")
    source = source.replace("_log.append(x)", "_log.append(x)  # noqa")
    proc = run_flake8(project(tmp_path, {"racy.py": source}), "racy.py")
    assert found(proc) == [("racy.py", RMW, "FT102")]


def test_file_level_ftlint_noqa(tmp_path):
    project(tmp_path, {"all.py": "# ftlint: noqa\n" + RACY,
                       "some.py": "# ftlint: noqa: FT1\n" + RACY})
    proc = run_flake8(tmp_path, "all.py", "some.py")
    assert found(proc) == [("some.py", CHECK_THEN_ACT + 1, "FT203")]


def test_per_file_ignores_in_config(tmp_path):
    project(tmp_path, {"app/racy.py": RACY, "tests/test_racy.py": RACY}, config="""\
        per-file-ignores =
            tests/*: FT1,FT203
    """)
    proc = run_flake8(tmp_path, "app", "tests")
    assert [f for f in found(proc) if f[0] == "test_racy.py"] == []
    assert len([f for f in found(proc) if f[0] == "racy.py"]) == 3


def test_default_min_confidence_is_medium(tmp_path):
    project(tmp_path, {"racy.py": RACY}, every_finding=False)
    assert found(run_flake8(tmp_path, "racy.py")) == [("racy.py", CHECK_THEN_ACT, "FT203"),
                                                      ("racy.py", RMW, "FT102")]
    low = run_flake8(tmp_path, "--ftlint-min-confidence", "low", "racy.py")
    assert ("racy.py", APPEND, "FT101") in found(low)


def test_min_confidence_in_config(tmp_path):
    project(tmp_path, {"racy.py": RACY}, config="ftlint-min-confidence = medium\n")
    assert found(run_flake8(tmp_path, "racy.py")) == [("racy.py", CHECK_THEN_ACT, "FT203"),
                                                      ("racy.py", RMW, "FT102")]
    high = run_flake8(tmp_path, "--ftlint-min-confidence", "high", "racy.py")
    assert found(high) == [("racy.py", RMW, "FT102")]


def test_invalid_min_confidence_in_config_is_a_clean_error(tmp_path):
    project(tmp_path, {"racy.py": RACY}, config="ftlint-min-confidence = huge\n")
    proc = run_flake8(tmp_path, "racy.py")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "ftlint-min-confidence" in proc.stdout and "huge" in proc.stdout


def test_thread_entry_points_and_synchronizing_decorators_in_config(tmp_path):
    source = textwrap.dedent('''\
        _hits = 0
        _seen = []


        @app.route("/")
        def index():
            global _hits
            _hits += 1


        @one_at_a_time
        def mark(v):
            _seen.append(v)
    ''')
    project(tmp_path, {"web.py": source})
    before = lines(run_flake8(tmp_path, "web.py").stdout)
    assert [(m["row"], m["code"], FT_TEXT.match(m["text"])["conf"]) for m in before] == [
        ("8", "FT102", "medium"), ("13", "FT101", "low")]
    project(tmp_path, {}, config="""\
        ftlint-thread-entry-points = *.route, other.tasks.*
        ftlint-synchronizing-decorators =
            one_at_a_time,
            other.locked
    """)
    after = lines(run_flake8(tmp_path, "web.py").stdout)
    # The route is an entry point: its read-modify-write is high; the
    # decorated function holds a lock, so its append is no finding.
    assert [(m["row"], m["code"], FT_TEXT.match(m["text"])["conf"]) for m in after] == [
        ("8", "FT102", "high")]


def test_ft107_is_opt_in(tmp_path):
    project(tmp_path, {"racy.py": RACY})
    assert "FT107" not in [c for *_, c in found(run_flake8(tmp_path, "racy.py"))]
    # A bare --ignore replaces flake8's default ignore list; FT107 stays off.
    assert "FT107" not in [c for *_, c in found(run_flake8(tmp_path, "--ignore", "E501",
                                                           "racy.py"))]
    assert "FT107" not in [c for *_, c in found(run_flake8(tmp_path, "--select", "FT",
                                                           "racy.py"))]
    on = found(run_flake8(tmp_path, "--extend-select", "FT107", "racy.py"))
    assert ("racy.py", CONSTANT, "FT107") in on and len(on) == 4


def test_syntax_error_is_flake8s_e999_only(tmp_path):
    project(tmp_path, {"broken.py": "def f(:\n    pass\n", "racy.py": RACY})
    proc = run_flake8(tmp_path, "broken.py", "racy.py")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    broken = [m for m in lines(proc.stdout, prefix="") if Path(m["path"]).name == "broken.py"]
    assert [m["code"] for m in broken] == ["E999"]
    assert len(found(proc)) == 3  # the other file is still checked


def test_clean_file_passes(tmp_path):
    clean = textwrap.dedent('''\
        import threading

        _cache = {}
        _lock = threading.Lock()


        def get(key):
            with _lock:
                return _cache.setdefault(key, key * 2)
    ''')
    proc = run_flake8(project(tmp_path, {"clean.py": clean}), "clean.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_internal_error_on_one_file_is_its_ft000_and_flake8_goes_on(tmp_path):
    tmp = project(tmp_path, {"a.py": RACY, "b.py": RACY})
    proc = subprocess.run([flake8_executable(), "a.py", "b.py"], cwd=tmp, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore",
                               "FTLINT_TEST_FAULT": "analyze:raise:a.py"})
    assert proc.returncode == 1
    assert [c for name, _, c in found(proc) if name == "a.py"] == ["FT000"]
    assert "internal error: RuntimeError" in proc.stdout
    assert [c for name, _, c in found(proc) if name == "b.py"] == ["FT203", "FT102", "FT101"]


# -- the plugin class on its own ---------------------------------------------------

def test_internal_error_is_one_ft000_finding(monkeypatch):
    from ftlint import api

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(api, "lint_source", boom)
    results = list(Plugin(None, RACY.splitlines(keepends=True), "racy.py").run())
    assert results == [(1, 0, "FT000 ftlint internal error: RuntimeError: kaboom second line",
                        Plugin)]


def test_unparsable_source_yields_nothing_and_does_not_raise():
    # flake8 reports E999 and never calls a tree plugin; called anyway, the
    # plugin answers with ftlint's own FT002 rather than raising.
    results = list(Plugin(None, ["def f(:\n"], "broken.py").run())
    assert [r[2].split()[0] for r in results] in ([], ["FT002"])


def test_defaults_without_parse_options(monkeypatch):
    monkeypatch.setattr(Plugin, "overrides", {})
    monkeypatch.setattr(Plugin, "codes", None)
    results = list(Plugin(None, RACY.splitlines(keepends=True), "racy.py").run())
    assert [(row, text.split()[0]) for row, _, text, _ in results] == [
        (CHECK_THEN_ACT, "FT203"), (RMW, "FT102")]  # the default hides the low FT101
    assert all(isinstance(col, int) and col >= 0 for _, col, _, _ in results)
    assert flake8_plugin.INTERNAL_ERROR == "FT000"


def test_not_thread_safe_option(tmp_path):
    project(tmp_path, {"worker.py": "__thread_safe__ = False\n" + RACY})
    assert [c for *_, c in found(run_flake8(tmp_path, "worker.py"))] == ["FT203", "FT102", "FT101"]
    quiet = run_flake8(tmp_path, "--ftlint-not-thread-safe", "ignore", "worker.py")
    assert found(quiet) == []
