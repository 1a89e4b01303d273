"""The pre-commit hooks, run by the real ``pre-commit try-repo``.

try-repo installs ftlint from a clone of this repository's committed HEAD into
an environment of its own (from PyPI for the dependencies), once per test
session: every test shares one PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RACY = """\
import threading

_cache = {}


def get(k):
    if k not in _cache:
        _cache[k] = 0
    return _cache[k]


threading.Thread(target=get, args=(1,)).start()
"""

CLEAN = """\
import threading

_lock = threading.Lock()
_cache = {}


def get(k):
    with _lock:
        if k not in _cache:
            _cache[k] = 0
        return _cache[k]
"""


def _pre_commit() -> str:
    candidate = Path(sys.executable).with_name("pre-commit")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return found


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Path:
    """A clone of the committed HEAD: what users get from `rev:`."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: try-repo needs the hooks at a commit")
    clone = tmp_path_factory.mktemp("hook-repo") / "ftlint"
    _git("clone", "-q", str(ROOT), str(clone), cwd=clone.parent)
    if not (clone / ".pre-commit-hooks.yaml").exists():
        pytest.fail(".pre-commit-hooks.yaml is not committed")
    return clone


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def try_repo(tmp_path, hook_repo, pre_commit_home):
    exe = _pre_commit()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))}
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)

    def run(hook: str, files: dict[str, str]) -> subprocess.CompletedProcess:
        work = tmp_path / "work"
        work.mkdir()
        _git("init", "-q", cwd=work)
        _git("config", "user.email", "dev@example.com", cwd=work)
        _git("config", "user.name", "Dev", cwd=work)
        for name, text in files.items():
            (work / name).write_text(text)
        _git("add", *files, cwd=work)
        return subprocess.run([exe, "try-repo", str(hook_repo), hook, "--all-files",
                               "--color", "never"],
                              cwd=work, env=env, capture_output=True, text=True, timeout=900)

    return run


def test_check_hook_fails_on_racy_code_and_prints_the_finding(try_repo):
    result = try_repo("ftlint", {"racy.py": RACY, "clean.py": CLEAN, "notes.txt": "x = 1\n"})
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "- hook id: ftlint" in out and "Failed" in out
    assert "racy.py:7:5: FT203" in out
    assert "clean.py" not in out.split("- hook id: ftlint", 1)[1]


def test_check_hook_passes_on_clean_code(try_repo):
    result = try_repo("ftlint", {"clean.py": CLEAN})
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "ftlint" in out and "Passed" in out


def test_fix_hook_rewrites_the_file_and_fails(try_repo, tmp_path):
    result = try_repo("ftlint-fix", {"racy.py": RACY})
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "- hook id: ftlint-fix" in out
    assert "files were modified by this hook" in out
    fixed = (tmp_path / "work" / "racy.py").read_text()
    assert "    _cache.setdefault(k, 0)\n" in fixed
    assert "if k not in _cache" not in fixed
