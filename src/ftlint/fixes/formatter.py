"""Run the project's formatter (ruff or black) over fixed code.

A fix indents statements under a ``with`` and adds imports and locks; in a
project that runs a formatter, that output is not always what the formatter
would write (a line grown past the line length, a missing blank line). So,
when the project configures ruff or black, each fixed file goes through it,
on stdin, before it is written:

- only if the original file was already clean under that formatter: ftlint
  never reformats code that the user did not ask it to touch;
- only if the formatted code has the same syntax tree and the same findings
  as the fixed code: the formatter may lay the fix out, never change it;
- on any failure of the formatter (missing, an error, a timeout) the fix is
  kept as ftlint wrote it.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

TIMEOUT = 30.0  # seconds for one run of the formatter


@dataclass(frozen=True)
class Formatter:
    name: str  # "ruff" or "black"
    root: Path  # where its configuration was found: the formatter runs there
    source: str  # the file that says so, for messages


def _tool(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            tool = tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return tool if isinstance(tool, dict) else {}


# A repository of .pre-commit-config.yaml and the hook ids of it that format.
_HOOKS = (("ruff-pre-commit", "ruff-format", "ruff"), ("psf/black", "black", "black"),
          ("psf/black", "black-jupyter", "black"))
_REPO = re.compile(r"^\s*-?\s*repo:\s*['\"]?([^'\"\s#]+)")
_ID = re.compile(r"^\s*-?\s*id:\s*['\"]?([\w.-]+)")


def _pre_commit(path: Path) -> Optional[str]:
    """The formatter a .pre-commit-config.yaml runs, read line by line (no
    YAML parser needed for the usual layout)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    repo = ""
    for line in text.splitlines():
        match = _REPO.match(line)
        if match:
            repo = match.group(1)
            continue
        match = _ID.match(line)
        if match:
            for repo_part, hook, name in _HOOKS:
                if repo_part in repo and match.group(1) == hook:
                    return name
    return None


def _in_directory(directory: Path) -> Optional[Formatter]:
    for name in ("ruff.toml", ".ruff.toml"):
        if (directory / name).is_file():
            return Formatter("ruff", directory, name)
    pyproject = directory / "pyproject.toml"
    tool = _tool(pyproject) if pyproject.is_file() else {}
    precommit = directory / ".pre-commit-config.yaml"
    hooked = _pre_commit(precommit) if precommit.is_file() else None
    # A hook that runs is the strongest sign; then ruff's format table (a
    # project may configure ruff's linter and format with black); then black.
    if hooked:
        return Formatter(hooked, directory, ".pre-commit-config.yaml")
    ruff = tool.get("ruff")
    if isinstance(ruff, dict) and "format" in ruff:
        return Formatter("ruff", directory, "pyproject.toml")
    if "black" in tool:
        return Formatter("black", directory, "pyproject.toml")
    if "ruff" in tool:
        return Formatter("ruff", directory, "pyproject.toml")
    return None


def detect(path: str) -> Optional[Formatter]:
    """The formatter configured for ``path``: the nearest directory above it
    that configures one, not above the root of its repository."""
    start = Path(os.path.abspath(path)).parent
    for directory in (start, *start.parents):
        found = _in_directory(directory)
        if found is not None:
            return found
        if (directory / ".git").exists() or (directory / ".hg").exists():
            return None
    return None


def command(name: str) -> Optional[list[str]]:
    """How to run the formatter: on PATH, next to this interpreter, or as a
    module of it; None if it is not installed."""
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is not None:
        return [found]
    try:
        importable = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        importable = False
    return [sys.executable, "-m", name] if importable else None


def _arguments(name: str, path: str) -> list[str]:
    if name == "ruff":
        return ["format", "--force-exclude", "--stdin-filename", path, "-"]
    # black applies its `force-exclude` setting to the file named by --stdin-filename
    return ["--stdin-filename", path, "-q", "-"]


def run(exe: Sequence[str], formatter: Formatter, path: str, source: bytes) -> Optional[bytes]:
    """``source`` as the formatter writes it, None on any failure."""
    try:
        proc = subprocess.run([*exe, *_arguments(formatter.name, os.path.abspath(path))],
                              input=source,
                              capture_output=True, cwd=formatter.root, timeout=TIMEOUT)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if proc.returncode != 0 or (source.strip() and not proc.stdout.strip()):
        return None  # an error, or a file the formatter's config excludes
    return proc.stdout


def _tree(source: bytes) -> Optional[str]:
    try:
        return ast.dump(ast.parse(source))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


class Formatting:
    """Formats the fixed files of one ``--fix`` run; remembers what it found
    out about each directory and says once that a formatter is missing."""

    def __init__(self, note: Optional[Callable[[str], None]] = None, settings=None) -> None:
        self.note = note
        # With settings, the formatted code must have the findings the fixed code has.
        self.settings = settings
        self._formatters: dict[str, Optional[Formatter]] = {}
        self._commands: dict[str, Optional[list[str]]] = {}

    def _say(self, message: str) -> None:
        if self.note is not None:
            self.note(message)

    def _formatter(self, path: str) -> Optional[Formatter]:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in self._formatters:
            self._formatters[directory] = detect(path)
        return self._formatters[directory]

    def _command(self, formatter: Formatter) -> Optional[list[str]]:
        if formatter.name not in self._commands:
            exe = self._commands[formatter.name] = command(formatter.name)
            if exe is None:
                self._say(f"{formatter.name} is configured ({formatter.root / formatter.source}) "
                          f"but not installed: fixes are written unformatted")
        return self._commands[formatter.name]

    def format(self, path: str, original: bytes, fixed: bytes) -> bytes:
        """``fixed`` laid out by the project's formatter, or ``fixed`` itself
        when there is none, the original was not clean under it, or it fails."""
        try:
            return self._format(path, original, fixed)
        except Exception as exc:  # noqa: BLE001 - layout is optional; the fix is not lost
            self._say(f"{path}: not formatted: {type(exc).__name__}: {exc}")
            return fixed

    def _format(self, path: str, original: bytes, fixed: bytes) -> bytes:
        if not isinstance(fixed, bytes) or not isinstance(original, bytes):
            return fixed
        formatter = self._formatter(path)
        if formatter is None:
            return fixed
        try:
            encoding = tokenize.detect_encoding(io.BytesIO(original).readline)[0]
        except SyntaxError:
            return fixed
        if encoding not in ("utf-8", "utf-8-sig"):
            return fixed  # the formatters read and write UTF-8 on stdin
        exe = self._command(formatter)
        if exe is None:
            return fixed
        if run(exe, formatter, path, original) != original:
            return fixed  # not formatted before: leave the user's layout alone
        formatted = run(exe, formatter, path, fixed)
        if formatted is None or formatted == fixed:
            return fixed
        tree = _tree(formatted)
        if tree is None or tree != _tree(fixed):
            return fixed
        try:
            compile(formatted, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return fixed
        if self.settings is not None and _findings(formatted, path, self.settings) != _findings(
                fixed, path, self.settings):
            return fixed  # a `# noqa` comment moved to another line, say
        return formatted


def _findings(source: bytes, path: str, settings) -> list[tuple[str, str, str]]:
    from ftlint import engine  # the formatting step sits on top of the linter

    result = engine.analyze_source(source, path, settings)
    return sorted((d.code, d.message, str(d.confidence)) for d in result.diagnostics)
