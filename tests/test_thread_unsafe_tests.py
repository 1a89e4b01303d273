"""FT306 (thread-unsafe-test): opt-in, on where the project uses
pytest-run-parallel, and its fix makes a real parallel run pass."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

SUITE = textwrap.dedent('''\
    import os

    SEEN = []


    def test_environment_round_trip():
        for i in range(20000):
            os.environ["SAMPLE_VALUE"] = str(i)
            assert os.environ["SAMPLE_VALUE"] == str(i)


    def test_module_list():
        SEEN.clear()
        for i in range(20000):
            SEEN.append(i)
        assert SEEN == list(range(20000))


    def test_pure():
        assert sum(range(100)) == 4950
''')

USES_RUNNER = textwrap.dedent('''\
    [project]
    name = "sample"
    version = "0"

    [dependency-groups]
    test = ["pytest", "pytest-run-parallel"]
''')


def _project(root: Path, pyproject: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_sample.py").write_text(SUITE)
    (root / "pyproject.toml").write_text(pyproject)
    return root


def _codes(proc: subprocess.CompletedProcess) -> list[str]:
    return [line.split()[1] for line in proc.stdout.splitlines() if ": FT" in line]


def test_opt_in_unless_the_project_uses_the_runner(run_ftlint, tmp_path):
    plain = _project(tmp_path / "plain", '[project]\nname = "plain"\nversion = "0"\n')
    assert "FT306" not in _codes(run_ftlint("--no-cache", "tests", cwd=plain))
    selected = run_ftlint("--no-cache", "--extend-select", "ALL", "tests", cwd=plain)
    assert _codes(selected).count("FT306") == 2, selected.stdout
    ignored = run_ftlint("--no-cache", "--extend-select", "ALL", "--extend-ignore", "FT3",
                         "tests", cwd=plain)
    assert "FT306" not in _codes(ignored)

    uses = _project(tmp_path / "uses", USES_RUNNER)
    found = run_ftlint("--no-cache", "tests", cwd=uses)
    assert found.returncode == 1 and _codes(found).count("FT306") == 2, found.stdout
    assert "Test `test_environment_round_trip` changes `os.environ`" in found.stdout

    addopts = _project(tmp_path / "addopts", '[tool.pytest.ini_options]\n'
                                             'addopts = "--parallel-threads=4"\n')
    assert _codes(run_ftlint("--no-cache", "tests", cwd=addopts)).count("FT306") == 2


@pytest.fixture(scope="module")
def runner_venv(ft_python, tmp_path_factory) -> Path:
    """A free-threaded environment with pytest and pytest-run-parallel."""
    env_dir = tmp_path_factory.mktemp("runparallel")
    subprocess.run([str(ft_python), "-m", "venv", str(env_dir)], check=True)
    pip = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                          "pytest>=8", "pytest-run-parallel>=0.4"], capture_output=True, text=True)
    if pip.returncode != 0:
        pytest.skip(f"pytest-run-parallel could not be installed: {pip.stderr[-500:]}")
    return env_dir


def _parallel(env_dir: Path, project: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(env_dir / "bin" / "python"), "-m", "pytest", "-q",
                           "-p", "no:cacheprovider", *extra, "tests"],
                          cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHON_GIL": "0"})


@pytest.mark.freethreaded
def test_the_fix_makes_a_parallel_run_pass(run_ftlint, runner_venv, tmp_path):
    project = _project(tmp_path, USES_RUNNER)
    before = _parallel(runner_venv, project, "--parallel-threads", "4")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "test_environment_round_trip" in before.stdout and "test_module_list" in before.stdout

    fixed = run_ftlint("--no-cache", "--fix", "tests", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    source = (project / "tests" / "test_sample.py").read_text()
    assert source.count("@pytest.mark.thread_unsafe(reason=") == 2
    assert 'reason="changes os.environ"' in source and "import pytest" in source

    after = _parallel(runner_venv, project, "--parallel-threads", "4")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "3 passed" in after.stdout
    serial = _parallel(runner_venv, project)
    assert serial.returncode == 0, serial.stdout + serial.stderr
    again = run_ftlint("--no-cache", "--fix", "tests", cwd=project)
    assert again.returncode == 0 and (project / "tests" / "test_sample.py").read_text() == source
