"""Gradual adoption through the installed console script: --add-noqa, --baseline."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

RACY = '''\
import threading

_cache = {}
_log = []


def get(key):
    if key not in _cache:  # noqa: E501
        _cache[key] = 0
    if key not in _cache:
        _cache[key] = 1
    return _cache[key]


def record(value):
    _log.append(value)


threading.Thread(target=get, args=(1,)).start()
'''


def findings(output: str) -> list[tuple[int, str]]:
    """(row, code) of each finding line in text output."""
    out = []
    for line in output.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[3].strip().startswith("FT"):
            out.append((int(parts[1]), parts[3].split()[0]))
    return out


@pytest.fixture
def racy(tmp_path: Path) -> Path:
    path = tmp_path / "racy.py"
    path.write_text(RACY)
    return path


def test_add_noqa_adds_and_merges_codes(tmp_path, racy, run_ftlint):
    before = run_ftlint("--min-confidence", "low", "racy.py", cwd=tmp_path)
    assert before.returncode == 1
    rows = findings(before.stdout)
    assert (8, "FT203") in rows and (10, "FT203") in rows and (16, "FT101") in rows, before.stdout
    os.chmod(racy, 0o640)

    result = run_ftlint("--min-confidence", "low", "--add-noqa", "racy.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Added {len(rows)} noqa comments in 1 file." in result.stderr
    lines = racy.read_text().splitlines()
    assert lines[7] == "    if key not in _cache:  # noqa: E501, FT203"
    assert lines[9] == "    if key not in _cache:  # noqa: FT203"
    assert lines[15] == "    _log.append(value)  # noqa: FT101"
    assert stat.S_IMODE(racy.stat().st_mode) == 0o640
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    after = run_ftlint("--min-confidence", "low", "racy.py", cwd=tmp_path)
    assert after.returncode == 0, after.stdout
    # Nothing left to add: the file is left alone.
    mtime = racy.stat().st_mtime_ns
    again = run_ftlint("--min-confidence", "low", "--add-noqa", "racy.py", cwd=tmp_path)
    assert again.returncode == 0 and "Added 0 noqa comments in 0 files." in again.stderr
    assert racy.stat().st_mtime_ns == mtime


def test_add_noqa_keeps_crlf_bom_and_encoding(tmp_path, run_ftlint):
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(b"\xef\xbb\xbf" + RACY.replace("\n", "\r\n").encode())
    latin = tmp_path / "latin.py"
    latin.write_bytes(("# -*- coding: latin-1 -*-\n" + RACY.replace(
        "return _cache[key]", "return _cache[key], 'caf\xe9'")).encode("latin-1"))

    result = run_ftlint("--min-confidence", "low", "--add-noqa", "crlf.py", "latin.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in 2 files" in result.stderr

    data = crlf.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == RACY.count("\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert b"    if key not in _cache:  # noqa: E501, FT203\r\n" in data
    text = latin.read_bytes().decode("latin-1")
    assert "'caf\xe9'" in text and "_cache[key] = 0" in text
    assert "    if key not in _cache:  # noqa: FT203\n" in text

    assert run_ftlint("--min-confidence", "low", "crlf.py", "latin.py", cwd=tmp_path).returncode == 0


def test_add_noqa_never_writes_into_a_string(tmp_path, run_ftlint):
    source = '''\
_items = []


def add(k):
    _items.extend(["""
#""", k])  # a "#" in a string is not a comment
    s = "#"; _items.append(s)
    _items.append("# noqa: E1")
'''
    path = tmp_path / "strings.py"
    path.write_text(source)
    before = findings(run_ftlint("--min-confidence", "low", "strings.py", cwd=tmp_path).stdout)
    assert {row for row, _ in before} == {5, 7, 8}, before

    result = run_ftlint("--min-confidence", "low", "--add-noqa", "strings.py", cwd=tmp_path)
    assert result.returncode == 1  # the finding that could not be suppressed remains
    assert "strings.py:5: FT101 not suppressed: the line is inside a multi-line string" \
        in result.stderr
    assert "strings.py:8: FT101 not suppressed: a string on the line contains '# noqa'" \
        in result.stderr
    assert "Added 1 noqa comment in 1 file." in result.stderr
    lines = path.read_text().splitlines()
    assert lines[4] == '    _items.extend(["""'
    assert lines[6] == '    s = "#"; _items.append(s)  # noqa: FT101'
    assert lines[7] == '    _items.append("# noqa: E1")'
    assert findings(run_ftlint("--min-confidence", "low", "strings.py", cwd=tmp_path).stdout) == [(5, "FT101"), (8, "FT101")]


def test_baseline_hides_recorded_findings_and_reports_new_ones(tmp_path, racy, run_ftlint):
    (tmp_path / "pyproject.toml").write_text("[tool.ftlint]\n")
    baseline = tmp_path / "ftlint-baseline.json"
    first = run_ftlint("--min-confidence", "low", "--baseline", baseline.name, "racy.py", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Recorded 3 findings in the new baseline" in first.stderr
    data = json.loads(baseline.read_text())
    assert data["version"] == 1
    assert sorted((f["path"], f["code"], f["line"]) for f in data["findings"]) == [
        ("racy.py", "FT101", 16), ("racy.py", "FT203", 8), ("racy.py", "FT203", 10)]
    assert all(len(f["fingerprint"]) >= 16 for f in data["findings"])

    # Same code, shifted down by new lines above it, and re-indented: still hidden.
    shifted = RACY.replace("import threading\n", "import threading\nimport os\n\nX = 1\n")
    racy.write_text(shifted)
    second = run_ftlint("--min-confidence", "low", "--baseline", baseline.name, "racy.py", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert findings(second.stdout) == []
    assert "3 findings hidden by the baseline" in second.stderr

    # The paths in it are relative to the project root, not the working directory.
    (tmp_path / "sub").mkdir()
    from_sub = run_ftlint("--min-confidence", "low", "--baseline", str(baseline), str(racy), cwd=tmp_path / "sub")
    assert from_sub.returncode == 0, from_sub.stdout + from_sub.stderr

    # A new finding, and a second copy of a baselined line in another function, are reported.
    racy.write_text(shifted + "\n\ndef put(key):\n    if key not in _cache:\n"
                              "        _cache[key] = 2\n")
    third = run_ftlint("--min-confidence", "low", "--baseline", baseline.name, "racy.py", cwd=tmp_path)
    assert third.returncode == 1
    assert findings(third.stdout) == [(26, "FT203")], third.stdout
    assert "3 findings hidden by the baseline" in third.stderr


def test_bad_baseline_is_an_error(tmp_path, racy, run_ftlint):
    (tmp_path / "b.json").write_text("{not json")
    result = run_ftlint("--min-confidence", "low", "--baseline", "b.json", "racy.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "b.json" in result.stderr and "baseline" in result.stderr


def test_add_noqa_after_a_form_feed_line(tmp_path, run_ftlint):
    # A form feed is not a line break for the parser: rows must not shift.
    path = tmp_path / "ff.py"
    path.write_text("_log = []\n\x0c\n\ndef add(x):\n    _log.append(x)\n")
    assert run_ftlint("--min-confidence", "low", "ff.py", cwd=tmp_path).returncode == 1
    result = run_ftlint("--min-confidence", "low", "--add-noqa", "ff.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text().splitlines()[-1] == "    _log.append(x)  # noqa: FT101"
    assert run_ftlint("--min-confidence", "low", "ff.py", cwd=tmp_path).returncode == 0
