"""Test code runs one test at a time under pytest: its findings are low by
default, dropped with ``test-code = "ignore"``, kept with ``"report"``."""

from __future__ import annotations

import json

import pytest

from conftest import CHECK_THEN_ACT

RACY = CHECK_THEN_ACT
FILES = ("lib.py", "tests/helpers.py", "pkg/test_things.py", "pkg/things_test.py",
         "conftest.py", "testing/server.py", "pkg/latest.py")
TEST_FILES = {"tests/helpers.py", "pkg/test_things.py", "pkg/things_test.py", "conftest.py",
              "testing/server.py"}


def project(tmp_path, config: str = ""):
    for name in FILES:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RACY)
    if config:
        (tmp_path / "pyproject.toml").write_text("[tool.ftlint]\n" + config)
    return tmp_path


def confidences(proc) -> dict[str, str]:
    return {d["filename"]: d["confidence"] for d in json.loads(proc.stdout)}


def test_test_code_is_low_by_default_and_says_why(tmp_path, run_ftlint):
    proc = run_ftlint("--min-confidence", "low", "--format", "json", ".", cwd=project(tmp_path))
    found = confidences(proc)
    assert set(found) == set(FILES)
    assert {f for f, c in found.items() if c == "low"} == TEST_FILES
    reasons = {d["filename"]: d["confidence_reason"] for d in json.loads(proc.stdout)}
    assert "test code" in reasons["conftest.py"] and "test code" not in reasons["lib.py"]
    shown = run_ftlint("--format", "json", "--min-confidence", "medium", ".", cwd=tmp_path)
    assert set(confidences(shown)) == {"lib.py", "pkg/latest.py"}


@pytest.mark.parametrize("mode,expected", [
    ("ignore", {"lib.py", "pkg/latest.py"}),
    ("report", set(FILES)),
])
def test_test_code_setting(tmp_path, run_ftlint, mode, expected):
    proc = run_ftlint("--format", "json", "--min-confidence", "medium", ".",
                      cwd=project(tmp_path, f'test-code = "{mode}"\n'))
    assert set(confidences(proc)) == expected


def test_test_patterns_replace_the_defaults(tmp_path, run_ftlint):
    proc = run_ftlint("--format", "json", "--min-confidence", "medium", ".",
                      cwd=project(tmp_path, 'test-patterns = ["pkg/"]\n'))
    assert set(confidences(proc)) == set(FILES) - {"pkg/test_things.py", "pkg/things_test.py",
                                                   "pkg/latest.py"}


def test_bad_test_settings_are_config_errors(tmp_path, run_ftlint):
    proc = run_ftlint(".", cwd=project(tmp_path, 'test-code = "sometimes"\n'))
    assert proc.returncode == 2 and "'test-code' must be one of: low, ignore, report" in proc.stderr


TEST_CASE_MODULE = RACY + '''

import unittest


class ServerTestCase(unittest.TestCase):
    def setUp(self):
        if "server" not in _cache:
            _cache["server"] = object()


class CustomTestCase(ServerTestCase):
    def tearDown(self):
        if "port" not in _cache:
            _cache["port"] = 0


class Loader:
    def load(self, key):
        if key not in _cache:
            _cache[key] = key
'''


@pytest.mark.parametrize("mode", ["low", "report"])
def test_test_case_methods_in_a_library_module_are_test_code(tmp_path, run_ftlint, mode):
    """A test-support module (``mylib/testing_support.py``) ships base test
    cases: their methods run as tests do, wherever the module lives, while
    the module's other code is checked as usual."""
    (tmp_path / "mylib").mkdir()
    (tmp_path / "mylib" / "__init__.py").write_text("")
    (tmp_path / "mylib" / "testing_support.py").write_text(TEST_CASE_MODULE)
    (tmp_path / "pyproject.toml").write_text(f'[tool.ftlint]\ntest-code = "{mode}"\n')
    proc = run_ftlint("--min-confidence", "low", "--format", "json", ".", cwd=tmp_path)
    found = {(d["location"]["row"], d["confidence"], "test case" in d["confidence_reason"])
             for d in json.loads(proc.stdout)}
    lines = TEST_CASE_MODULE.splitlines()
    rows = {name: lines.index(f"        if {name} not in _cache:") + 1
            for name in ('"server"', '"port"', "key")}
    by_row = {row: (conf, said) for row, conf, said in found}
    assert by_row[rows["key"]][0] != "low" and not by_row[rows["key"]][1]
    for name in ('"server"', '"port"'):
        if mode == "low":
            assert by_row[rows[name]] == ("low", True), name
        else:
            assert by_row[rows[name]][0] != "low" and not by_row[rows[name]][1], name
