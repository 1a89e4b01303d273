"""The project pass: thread entry points, reachability across modules,
configured entry points and decorators, and not-thread-safe declarations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ROOT

from ftlint.rules.base import expected_findings

PROJECT = ROOT / "fixtures" / "projects" / "webapp"


def _expected(root: Path) -> set[tuple[str, int, str, str]]:
    out = set()
    for path in sorted(root.rglob("*.py")):
        for row, code, conf in expected_findings(path.read_text()):
            out.add((path.relative_to(root).as_posix(), row, code, conf))
    return out


def test_reachability_across_modules(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    proc = run_ftlint("--format", "json", ".", cwd=root)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = {(d["filename"], d["location"]["row"], d["code"], d["confidence"]) for d in data}
    assert got == _expected(root)
    reasons = {(d["filename"], d["code"]): d["confidence_reason"] for d in data}
    assert "configured entry point `*.route`" in reasons[("webapp/views.py", "FT205")]
    assert "Thread()" in reasons[("webapp/jobs.py", "FT102")]
    assert "declares itself not thread-safe" in reasons[("webapp/single.py", "FT203")]


def test_single_file_has_no_cross_module_facts(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    proc = run_ftlint("--format", "json", "webapp/stats.py", cwd=root)
    [finding] = [d for d in json.loads(proc.stdout) if d["location"]["row"] == 7]
    assert finding["confidence"] == "medium", "without views.py nothing shows a thread"


def test_not_thread_safe_can_be_ignored(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + 'not-thread-safe = "ignore"\n')
    data = json.loads(run_ftlint("--format", "json", ".", cwd=root).stdout)
    assert not [d for d in data if d["filename"] == "webapp/single.py"]


def test_min_confidence_applies_after_reachability(tmp_path, run_ftlint):
    root = tmp_path / "webapp"
    shutil.copytree(PROJECT, root)
    data = json.loads(run_ftlint("--format", "json", "--min-confidence", "high", ".",
                                 cwd=root).stdout)
    assert {d["confidence"] for d in data} == {"high"}
    assert {(d["filename"], d["code"]) for d in data} == {
        ("webapp/stats.py", "FT201"), ("webapp/views.py", "FT205"), ("webapp/jobs.py", "FT102")}
