from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One module-level check-then-act (FT203): the racy file several tests share.
# Each entry is an object of the module's own class, so two threads that
# miss together would hand out two different entries: the fix is a lock over
# the test and the store (a fill whose worst case is a second build of an
# equal value is published with `setdefault` instead).
CHECK_THEN_ACT = textwrap.dedent('''\
    _cache = {}


    def get(key):
        if key not in _cache:
            _cache[key] = Entry(key)
        return _cache[key]


    class Entry:
        def __init__(self, key):
            self.key = key
''')


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``, making folders."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def ftlint_executable() -> str:
    """The installed console script, next to the interpreter running tests."""
    candidate = Path(sys.executable).with_name("ftlint")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ftlint")
    if found is None:
        pytest.fail("the ftlint console script is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture
def run_ftlint():
    exe = ftlint_executable()

    def run(*args: str, cwd: Path | str | None = None, input: str | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], cwd=cwd, input=input, capture_output=True,
                              text=True, timeout=120, env={**os.environ, **(env or {})})

    return run


def free_threaded_python() -> Path | None:
    """A free-threaded interpreter: $FTLINT_FT_PYTHON, else the cached build."""
    candidates = []
    if os.environ.get("FTLINT_FT_PYTHON"):
        candidates.append(Path(os.environ["FTLINT_FT_PYTHON"]))
    candidates += sorted((Path.home() / ".cache" / "ft-python" / "bin").glob("python3.1[3-9]t"))
    for candidate in candidates:
        if candidate.exists():
            probe = subprocess.run([str(candidate), "-c",
                                    "import sys; sys.exit(sys._is_gil_enabled())"],
                                   capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


@pytest.fixture(scope="session")
def ft_python() -> Path:
    python = free_threaded_python()
    if python is None and os.environ.get("FTLINT_REQUIRE_FT"):
        pytest.fail("FTLINT_REQUIRE_FT is set but no free-threaded CPython was found")
    if python is None:
        pytest.skip("no free-threaded CPython found: set FTLINT_FT_PYTHON or build one "
                    "into ~/.cache/ft-python (.ci/build-ft-python.sh)")
    return python


# --- a free-threaded venv with the tiny extension packages --------------------

EXTENSION_PACKAGES = ROOT / "tests" / "deps" / "packages"


def _must_run(*command: str | Path) -> None:
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def ft_ext_venv(ft_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of the free-threaded interpreter with the packages of
    tests/deps/packages built and installed: ft-ready-ext (declares
    Py_mod_gil), gil-needing-ext (does not: importing it turns the GIL on),
    ft-pure-pkg (pure, requires ft-ready-ext) and broken-ext (its '.so'
    cannot be loaded). Returns the venv's python. Built once per session for
    the ``deps`` and ``watch`` tests."""
    root = tmp_path_factory.mktemp("ft-env")
    _must_run(ft_python, "-m", "venv", root / "venv")
    python = root / "venv" / "bin" / "python"
    _must_run(python, "-m", "pip", "install", "-q", "setuptools>=64")
    # Build from a copy: setuptools leaves build/ and *.egg-info behind.
    sources = root / "src"
    shutil.copytree(EXTENSION_PACKAGES, sources)
    names = ["ft_ready_ext", "gil_needing_ext", "ft_pure_pkg", "broken_ext"]
    _must_run(python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
              "-w", root / "wheels", *(sources / n for n in names))
    _must_run(python, "-m", "pip", "install", "-q", "--no-index", "--find-links",
              root / "wheels", "ft-pure-pkg", "gil-needing-ext", "broken-ext")
    return python
