"""``--fix`` output that the project's formatter (ruff or black) leaves
unchanged: the real formatters, run on small projects."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ftlint.fixes import formatter
from ftlint.fixes.formatter import Formatter, Formatting, detect

# Clean under black and ruff at line-length 79. The fix adds `import
# threading` right under the docstring (both formatters want a blank line
# there) and indents the 77-character line under `with self._lock:`, past 79.
MODULE = textwrap.dedent('''\
    """A counter."""


    class Counter:
        """Thread-safe counter."""

        def __init__(self):
            self.count = 0
            self.total = 0

        def add(self, amount, weight):
            self.count += 1
            self.total = self.total + amount * weight + amount * weight * weight


    COUNTER = Counter()
''')
LONG = "self.total = self.total + amount * weight + amount * weight * weight"

# The same, with a line neither formatter would leave as it is, away from the fix.
UNFORMATTED = MODULE.replace("COUNTER = Counter()", "COUNTER = Counter( )\nNAMES = [ 'a','b' ]")

BLACK = "[tool.black]\nline-length = 79\n"
RUFF = "[tool.ruff]\nline-length = 79\n\n[tool.ruff.format]\nquote-style = \"single\"\n"


def tool(name: str) -> str:
    """The real formatter, installed with the test extra."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return found


def clean_under(name: str, project: Path, file: str = "mod.py") -> bool:
    args = ["format", "--check", file] if name == "ruff" else ["--check", "-q", file]
    return subprocess.run([tool(name), *args], cwd=project, capture_output=True,
                          timeout=60).returncode == 0


def project(tmp_path: Path, config: str, module: str = MODULE, extra: str = "") -> Path:
    (tmp_path / ".git").mkdir(parents=True)  # the formatter's configuration is looked for up to here
    (tmp_path / "pyproject.toml").write_text(config + extra)
    (tmp_path / "mod.py").write_text(module)
    return tmp_path


@pytest.mark.parametrize("name, config", [("black", BLACK), ("ruff", RUFF)],
                         ids=["black", "ruff"])
def test_fixed_file_is_clean_under_the_project_formatter(tmp_path, run_ftlint, name, config):
    root = project(tmp_path, config)
    assert clean_under(name, root)
    proc = run_ftlint("--fix", "mod.py", cwd=root)
    assert "Fixed 2 findings" in proc.stderr + proc.stdout, proc.stdout + proc.stderr
    fixed = (root / "mod.py").read_text()
    assert "with self._lock:" in fixed
    assert clean_under(name, root), fixed
    assert f"            {LONG}\n" not in fixed  # wrapped, not left past the line length
    assert '"""A counter."""\n\nimport threading\n' in fixed
    # Fixing again changes nothing, and the formatter is still content.
    again = run_ftlint("--fix", "mod.py", cwd=root)
    assert "Fixed" not in again.stderr + again.stdout
    assert (root / "mod.py").read_text() == fixed


@pytest.mark.parametrize("name, config", [("black", BLACK), ("ruff", RUFF)],
                         ids=["black", "ruff"])
def test_without_format_fixes_the_formatter_would_change_the_fix(tmp_path, run_ftlint, name,
                                                                 config):
    """What the tests above guard against: ftlint's own layout of the fix."""
    root = project(tmp_path, config, extra="\n[tool.ftlint]\nformat-fixes = false\n")
    run_ftlint("--fix", "mod.py", cwd=root)
    fixed = (root / "mod.py").read_text()
    assert "with self._lock:" in fixed
    assert f"            {LONG}\n" in fixed
    assert not clean_under(name, root)


@pytest.mark.parametrize("name, config", [("black", BLACK), ("ruff", RUFF)],
                         ids=["black", "ruff"])
def test_a_file_not_formatted_before_is_not_reformatted(tmp_path, run_ftlint, name, config):
    root = project(tmp_path, config, UNFORMATTED)
    assert not clean_under(name, root)
    run_ftlint("--fix", "mod.py", cwd=root)
    fixed = (root / "mod.py").read_text()
    # The same run with formatting off: byte for byte what ftlint alone writes.
    plain = project(tmp_path / "plain", config, UNFORMATTED,
                    extra="\n[tool.ftlint]\nformat-fixes = false\n")
    run_ftlint("--fix", "mod.py", cwd=plain)
    assert "with self._lock:" in fixed
    assert fixed == (plain / "mod.py").read_text()
    assert "COUNTER = Counter( )\nNAMES = [ 'a','b' ]\n" in fixed
    assert f"            {LONG}\n" in fixed


def test_diff_shows_the_formatted_fix_and_writes_nothing(tmp_path, run_ftlint):
    root = project(tmp_path, BLACK)
    proc = run_ftlint("--diff", "mod.py", cwd=root)
    assert proc.returncode == 1, proc.stderr
    assert "+            self.total = (\n" in proc.stdout
    assert f"+            {LONG}\n" not in proc.stdout
    assert (root / "mod.py").read_text() == MODULE


def test_no_formatter_configured_leaves_the_fix_as_it_is(tmp_path, run_ftlint):
    root = project(tmp_path, "[project]\nname = 'x'\n")
    run_ftlint("--fix", "mod.py", cwd=root)
    fixed = (root / "mod.py").read_text()
    assert "with self._lock:" in fixed
    assert f"            {LONG}\n" in fixed


# -- which formatter ------------------------------------------------------------


def test_detect_reads_pyproject_ruff_toml_and_pre_commit(tmp_path):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "pkg" / "sub"
    sub.mkdir(parents=True)
    file = str(sub / "mod.py")
    assert detect(file) is None
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert detect(file) == Formatter("ruff", tmp_path, "pyproject.toml")
    # ruff's linter with black as the formatter.
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\n[tool.black]\n")
    assert detect(file).name == "black"
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.format]\n[tool.black]\n")
    assert detect(file).name == "ruff"
    # A pre-commit hook says what runs.
    (tmp_path / ".pre-commit-config.yaml").write_text(textwrap.dedent("""\
        repos:
          - repo: https://github.com/astral-sh/ruff-pre-commit
            rev: v0.6.0
            hooks:
              - id: ruff
          - repo: https://github.com/psf/black-pre-commit-mirror
            rev: 24.8.0
            hooks:
              - id: black
    """))
    assert detect(file) == Formatter("black", tmp_path, ".pre-commit-config.yaml")
    # The nearest configuration wins.
    (tmp_path / "pkg" / "ruff.toml").write_text("line-length = 79\n")
    assert detect(file) == Formatter("ruff", tmp_path / "pkg", "ruff.toml")
    # Not above the repository's root.
    inner = tmp_path / "vendor"
    (inner / ".git").mkdir(parents=True)
    assert detect(str(inner / "mod.py")) is None


def test_pre_commit_ruff_format_hook(tmp_path):
    (tmp_path / ".pre-commit-config.yaml").write_text(textwrap.dedent("""\
        repos:
        - repo: https://github.com/astral-sh/ruff-pre-commit
          rev: v0.6.0
          hooks:
          - id: ruff
            args: [--fix]
          - id: ruff-format
    """))
    (tmp_path / ".git").mkdir()
    assert detect(str(tmp_path / "mod.py")) == Formatter("ruff", tmp_path,
                                                         ".pre-commit-config.yaml")


# -- failures keep the fix as ftlint wrote it -----------------------------------

ORIGINAL = b"x = 1\n"
FIXED = b"import threading\nx = 1\n"


def fake(tmp_path: Path, script: str) -> Formatting:
    """A Formatting whose black is ``script`` (stdin in, stdout out)."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(BLACK)
    (tmp_path / "fake.py").write_text(textwrap.dedent(script))
    formatting = Formatting()
    formatting._commands["black"] = [sys.executable, str(tmp_path / "fake.py")]
    return formatting


@pytest.mark.parametrize("script", [
    # fails
    "import sys\nsys.exit(123)\n",
    # changes what the code means
    "import sys\ndata = sys.stdin.buffer.read()\n"
    "sys.stdout.buffer.write(data if b'threading' not in data else b'x = 2\\n')\n",
    # writes what does not parse
    "import sys\ndata = sys.stdin.buffer.read()\n"
    "sys.stdout.buffer.write(data if b'threading' not in data else b'x = (\\n')\n",
])
def test_a_failing_or_wrong_formatter_keeps_the_fix(tmp_path, script):
    formatting = fake(tmp_path, script)
    assert formatting.format(str(tmp_path / "mod.py"), ORIGINAL, FIXED) == FIXED


def test_a_timeout_keeps_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(formatter, "TIMEOUT", 0.5)
    formatting = fake(tmp_path, "import time\ntime.sleep(30)\n")
    assert formatting.format(str(tmp_path / "mod.py"), ORIGINAL, FIXED) == FIXED


def test_a_formatter_that_only_lays_out_is_used(tmp_path):
    formatting = fake(tmp_path, "import sys\ndata = sys.stdin.buffer.read()\n"
                                "sys.stdout.buffer.write(data.replace(b'\\nx', b'\\n\\nx'))\n")
    assert formatting.format(str(tmp_path / "mod.py"), ORIGINAL, FIXED) == (
        b"import threading\n\nx = 1\n")


def test_a_configured_formatter_not_installed_is_noted_once(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(BLACK)
    monkeypatch.setattr(formatter, "command", lambda name: None)
    notes: list[str] = []
    formatting = Formatting(notes.append)
    for name in ("a.py", "b.py"):
        assert formatting.format(str(tmp_path / name), ORIGINAL, FIXED) == FIXED
    assert len(notes) == 1 and "black is configured" in notes[0] and "not installed" in notes[0]


def test_a_formatter_that_moves_a_noqa_comment_keeps_the_fix(tmp_path):
    """The syntax tree has no comments: the findings are compared too."""
    from ftlint.config import Settings

    suppressed = textwrap.dedent('''\
        _cache = {}


        def get(key):
            if key not in _cache:  # noqa: FT203
                _cache[key] = key * 2
            return _cache[key]
    ''').encode()
    fixed = b"import threading\n\n" + suppressed
    formatting = fake(tmp_path, "import sys\ndata = sys.stdin.buffer.read()\n"
                                "sys.stdout.buffer.write(data if b'threading' not in data else\n"
                                "                        data.replace(b'  # noqa: FT203', b''))\n")
    path = str(tmp_path / "mod.py")
    assert formatting.format(path, suppressed, fixed) != fixed  # without the check
    formatting.settings = Settings()
    assert formatting.format(path, suppressed, fixed) == fixed
