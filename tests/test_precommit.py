"""The pre-commit hooks, run by the real ``pre-commit try-repo``.

try-repo installs ftlint from a clone of this repository's committed HEAD into
an environment of its own (from PyPI for the dependencies). It builds that
environment in a temporary store on every call, whatever PRE_COMMIT_HOME says,
so the tests make only two calls, each running both hooks: one on racy code,
one on clean code.
"""

from __future__ import annotations

import os
import re
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


# The README's snippet, as a user copies it ------------------------------------

def _yaml_snippet(doc: Path, heading: str) -> str:
    """The first ```yaml block after ``heading`` in ``doc``, verbatim."""
    text = doc.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    return section.split("```yaml\n", 1)[1].split("\n```", 1)[0] + "\n"


def _field(snippet: str, key: str) -> str:
    values = [line.split(f"{key}:", 1)[1].split("#", 1)[0].strip()
              for line in snippet.splitlines() if line.strip().startswith(f"- {key}:")
              or line.strip().startswith(f"{key}:")]
    assert len(values) == 1, (key, snippet)
    return values[0]


def _is_sha(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)


README_SNIPPET = _yaml_snippet(ROOT / "README.md", "## pre-commit")


@pytest.fixture(scope="session")
def snippet_repo(tmp_path_factory) -> Path:
    """This repository at its committed HEAD, as the snippet's ``repo`` would
    serve it: HEAD on a branch named as the snippet's ``rev`` (a CI checkout
    may be on any branch, or none)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the snippet needs the hooks at a commit")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    clone = tmp_path_factory.mktemp("snippet-repo") / "ftlint"
    _git("clone", "-q", "--no-checkout", str(ROOT), str(clone), cwd=clone.parent)
    rev = _field(README_SNIPPET, "rev")
    if _is_sha(rev):
        _git("checkout", "-q", rev, cwd=clone)  # the pinned commit must be in the history
    else:
        _git("checkout", "-q", "-B", rev, head, cwd=clone)
    return clone


def _work_repo(work: Path, files: dict[str, str], config: str) -> dict[str, str]:
    work.mkdir()
    _git("init", "-q", cwd=work)
    _git("config", "user.email", "dev@example.com", cwd=work)
    _git("config", "user.name", "Dev", cwd=work)
    files = {**files, ".pre-commit-config.yaml": config}
    for name, text in files.items():
        (work / name).write_text(text)
    _git("add", *files, cwd=work)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PRE_COMMIT", "GIT_", "VIRTUAL_ENV"))}
    return env


def _snippet_config(repo: Path) -> str:
    """The README's snippet with only the ``repo:`` URL replaced."""
    url = _field(README_SNIPPET, "repo")
    assert README_SNIPPET.count(url) == 1
    return README_SNIPPET.replace(url, str(repo))


def test_readme_and_pre_commit_page_show_the_same_repo_and_rev():
    page = _yaml_snippet(ROOT / "docs" / "pre-commit.md", "Add to `.pre-commit-config.yaml`:")
    for key in ("repo", "rev"):
        assert _field(page, key) == _field(README_SNIPPET, key), key
    # A release tag may not survive where the repository is published: a
    # branch, or a full SHA.
    rev = _field(README_SNIPPET, "rev")
    assert _is_sha(rev) or not re.fullmatch(r"v?\d+(\.\d+)*", rev), rev


def test_readme_snippet_works_as_written(tmp_path, snippet_repo, pre_commit_home):
    """`pre-commit run` with the README's configuration: it installs the hook
    from ``rev``, fails on racy code with the finding and passes on clean
    code. Two runs sharing one PRE_COMMIT_HOME, so the hook's environment is
    built once."""
    config = _snippet_config(snippet_repo)
    rev = _field(README_SNIPPET, "rev")
    results = {}
    for name, files in (("racy", {"racy.py": RACY, "clean.py": CLEAN}),
                        ("clean", {"clean.py": CLEAN})):
        work = tmp_path / name
        env = _work_repo(work, files, config)
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
        results[name] = subprocess.run(
            [_pre_commit(), "run", "--all-files", "--color", "never"],
            cwd=work, env=env, capture_output=True, text=True, check=False, timeout=900)
    racy, clean = results["racy"], results["clean"]
    out = racy.stdout + racy.stderr
    assert racy.returncode == 1, out
    assert "racy.py:7:5: FT203" in out, out
    assert "clean.py" not in out, out
    out = clean.stdout + clean.stderr
    assert clean.returncode == 0, out
    assert [line for line in out.splitlines() if line.startswith("ftlint")
            and line.endswith("Passed")], out
    if not _is_sha(rev):
        # What docs/pre-commit.md tells readers to expect from a branch name.
        assert "appears to be a mutable reference" in out, out


def test_autoupdate_freeze_pins_the_commit(tmp_path, snippet_repo):
    """What the docs say to run for an immutable ``rev``: the SHA of the
    repository's newest commit (no venv is built, so it is quick)."""
    work = tmp_path / "work"
    env = _work_repo(work, {}, _snippet_config(snippet_repo))
    env["PRE_COMMIT_HOME"] = str(tmp_path / "home")
    proc = subprocess.run([_pre_commit(), "autoupdate", "--freeze", "--color", "never"],
                          cwd=work, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=snippet_repo, check=True,
                          capture_output=True, text=True).stdout.strip()
    updated = (work / ".pre-commit-config.yaml").read_text()
    assert _field(updated, "rev") == head, updated
