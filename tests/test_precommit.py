"""The pre-commit hooks, run by the real ``pre-commit try-repo``.

try-repo installs ftlint from a clone of this repository's committed HEAD into
an environment of its own (from PyPI for the dependencies). It builds that
environment in a temporary store on every call, whatever PRE_COMMIT_HOME says,
so the tests make only two calls, each running both hooks: one on racy code,
one on clean code.
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


EXCLUDING = """\
[tool.ftlint]
extend-exclude = ["generated"]
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


def _try_repo(work: Path, files: dict[str, str], hook_repo: Path,
              home: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run every hook of ``hook_repo`` on a new git repository holding ``files``;
    return the result and each hook's section of the output, by hook id."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))}
    env["PRE_COMMIT_HOME"] = str(home)  # keep the user's cache out of it
    work.mkdir()
    _git("init", "-q", cwd=work)
    _git("config", "user.email", "dev@example.com", cwd=work)
    _git("config", "user.name", "Dev", cwd=work)
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    _git("add", *files, cwd=work)
    result = subprocess.run([_pre_commit(), "try-repo", str(hook_repo), "--all-files",
                             "--color", "never"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    out = result.stdout + result.stderr
    sections = {}
    for hook in ("ftlint", "ftlint-fix"):
        marker = f"- hook id: {hook}\n"
        if marker in out:
            body = out.split(marker, 1)[1]
            sections[hook] = body.split("- hook id:", 1)[0]
    return result, sections


@pytest.fixture(scope="module")
def racy_run(tmp_path_factory, hook_repo, pre_commit_home):
    work = tmp_path_factory.mktemp("racy") / "work"
    # generated/ is excluded in the configuration: the hooks pass --force-exclude,
    # so the file pre-commit names there is skipped.
    result, sections = _try_repo(work, {"racy.py": RACY, "clean.py": CLEAN,
                                        "notes.txt": "x = 1\n", "generated/gen.py": RACY,
                                        "pyproject.toml": EXCLUDING}, hook_repo, pre_commit_home)
    return result, sections, work


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, hook_repo, pre_commit_home):
    work = tmp_path_factory.mktemp("clean") / "work"
    result, _ = _try_repo(work, {"clean.py": CLEAN}, hook_repo, pre_commit_home)
    return result


def test_check_hook_fails_on_racy_code_and_prints_the_finding(racy_run):
    result, sections, _ = racy_run
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "ftlint" in sections, out
    assert "racy.py:7:5: FT203" in sections["ftlint"], out
    assert "clean.py" not in sections["ftlint"]
    assert "gen.py" not in sections["ftlint"], "an excluded file is skipped"


def test_fix_hook_rewrites_the_file_and_fails(racy_run):
    result, sections, work = racy_run
    out = result.stdout + result.stderr
    assert "ftlint-fix" in sections, out
    assert "- files were modified by this hook" in sections["ftlint-fix"], out
    fixed = (work / "racy.py").read_text()
    assert "    _cache.setdefault(k, 0)\n" in fixed
    assert "if k not in _cache" not in fixed
    assert (work / "clean.py").read_text() == CLEAN
    assert (work / "generated" / "gen.py").read_text() == RACY  # excluded: not fixed


def test_hooks_pass_on_clean_code(clean_run):
    out = clean_run.stdout + clean_run.stderr
    assert clean_run.returncode == 0, out
    passed = [line for line in out.splitlines() if line.startswith("ftlint")]
    assert len(passed) == 2 and all(line.endswith("Passed") for line in passed), out
