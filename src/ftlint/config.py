"""Settings: ``[tool.ftlint]`` in pyproject.toml, overridden by the command line."""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from ftlint.diagnostics import Confidence
from ftlint.gate import DEFAULT_MAX_FILE_SIZE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build",
    "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
    "__pycache__", ".pytest_cache", ".ftlint_cache",
)


# gitignore-style patterns of test code: test directories, pytest's file names.
DEFAULT_TEST_PATTERNS = ("test/", "tests/", "testing/", "test_*.py", "*_test.py", "conftest.py")


class ConfigError(Exception):
    """A problem with the configuration or the command line: exit code 2."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("FT",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    # Low findings lack evidence that several threads reach the code: shown
    # on request (`--min-confidence low`), counted in the summary otherwise.
    min_confidence: Confidence = Confidence.MEDIUM
    thread_entry_points: tuple[str, ...] = ()
    synchronizing_decorators: tuple[str, ...] = ()
    not_thread_safe: str = "low"  # or "ignore": findings in code declared not thread-safe
    respect_gitignore: bool = True
    # Larger files are reported (FT002) instead of parsed: libcst holds 400
    # to 900 bytes of memory per byte of source. 0 means no limit.
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # Tests run one after another under pytest: their findings are at most
    # "low" ("ignore" drops them; "report" keeps them, for pytest-run-parallel).
    test_code: str = "low"
    test_patterns: tuple[str, ...] = DEFAULT_TEST_PATTERNS
    # --fix lays its output out with the project's formatter (ruff or black).
    format_fixes: bool = True
    # Where relative patterns are anchored: the config file's directory.
    root: str = field(default_factory=os.getcwd)
    config_path: Optional[str] = None
    # The result cache's directory, relative to ``root`` (default .ftlint_cache).
    cache_dir: Optional[str] = None

    def enabled_codes(self, rules: Mapping[str, bool]) -> frozenset[str]:
        """Resolve select/ignore by prefix; the most specific prefix wins.

        ``rules`` maps each code to whether it is on by default. Rules that are
        off by default (opt-in) are enabled only by their full code.
        """
        selected = self.select + self.extend_select
        ignored = self.ignore + self.extend_ignore
        enabled = set()
        for code, default_on in rules.items():
            best_sel = _longest_prefix(code, selected)
            best_ign = _longest_prefix(code, ignored)
            if best_sel < 0 or best_ign >= best_sel:
                continue
            if not default_on and best_sel != len(code):
                continue
            enabled.add(code)
        return frozenset(enabled)

    def is_test(self, relpath: str) -> bool:
        return bool(self.test_patterns) and _glob_spec_lines(self.test_patterns).match_file(relpath)

    def ignored_for(self, relpath: str) -> tuple[str, ...]:
        codes: list[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if _glob_spec(pattern).match_file(relpath):
                codes.extend(pattern_codes)
        return tuple(codes)


def _longest_prefix(code: str, prefixes: Iterable[str]) -> int:
    best = -1
    for prefix in prefixes:
        if prefix == "ALL" or code.startswith(prefix):
            best = max(best, 0 if prefix == "ALL" else len(prefix))
    return best


def _glob_spec(pattern: str):
    return _glob_spec_lines((pattern,))


@functools.lru_cache(maxsize=64)
def _glob_spec_lines(patterns: tuple[str, ...]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


# Keys of [tool.ftlint]; the value says how to read it.
_KEYS = {
    "select": "codes",
    "extend-select": "codes",
    "ignore": "codes",
    "extend-ignore": "codes",
    "per-file-ignores": "per-file",
    "exclude": "strings",
    "extend-exclude": "strings",
    "min-confidence": "confidence",
    "thread-entry-points": "strings",
    "synchronizing-decorators": "strings",
    "not-thread-safe": "choice:low,ignore",
    "respect-gitignore": "bool",
    "max-file-size": "size",
    "test-code": "choice:low,ignore,report",
    "test-patterns": "strings",
    "format-fixes": "bool",
    "cache-dir": "path",
}


def find_config(paths: Sequence[str]) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.ftlint] table, above the paths."""
    if paths:
        resolved = [Path(os.path.realpath(p)) for p in paths]
        start = Path(os.path.commonpath([str(p) for p in resolved]))
        if start.is_file() or not start.exists():
            start = start.parent
    else:
        start = Path.cwd()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            data = _read_toml(candidate)
            if "ftlint" in _tool_table(data, candidate):
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: not UTF-8 ({exc.reason} at byte "
                          f"{exc.start})") from None


def _tool_table(data: dict[str, Any], path: Path) -> dict[str, Any]:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table, not {type(tool).__name__}")
    return tool


def load_settings(config_path: Optional[Path], known_codes: Iterable[str]) -> Settings:
    if config_path is None:
        return Settings()
    data = _read_toml(config_path)
    if config_path.name == "pyproject.toml" or "tool" in data:
        table = _tool_table(data, config_path).get("ftlint", {})
    else:  # a dedicated ftlint.toml holds the keys at top level
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{config_path}: [tool.ftlint] must be a table")
    values = parse_table(table, f"{config_path}", set(known_codes))
    return replace(
        Settings(root=str(config_path.parent.resolve()), config_path=str(config_path)),
        **values,
    )


def parse_table(table: Mapping[str, Any], where: str, known: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in table.items():
        kind = _KEYS.get(key)
        if kind is None:
            hint = difflib.get_close_matches(key, _KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(
                f"{where}: unknown option '{key}' in [tool.ftlint]{suggestion}; "
                f"known options: {', '.join(sorted(_KEYS))}"
            )
        attr = key.replace("-", "_")
        label = f"{where}: '{key}'"
        if kind == "codes":
            values[attr] = validate_codes(_strings(raw, label), known, label)
        elif kind == "strings":
            values[attr] = _strings(raw, label)
            if key == "test-patterns":
                try:
                    _glob_spec_lines(values[attr])
                except ValueError as exc:
                    raise ConfigError(f"{label}: {exc}") from None
        elif kind.startswith("choice:"):
            choices = kind.split(":", 1)[1].split(",")
            if raw not in choices:
                raise ConfigError(f"{label} must be one of: {', '.join(choices)}")
            values[attr] = raw
        elif kind == "bool":
            if not isinstance(raw, bool):
                raise ConfigError(f"{label} must be true or false")
            values[attr] = raw
        elif kind == "path":
            if not isinstance(raw, str) or not raw.strip():
                raise ConfigError(f"{label} must be a path (a non-empty string)")
            values[attr] = raw
        elif kind == "size":
            values[attr] = _size(raw, label)
        elif kind == "confidence":
            try:
                values[attr] = Confidence.parse(str(raw))
            except ValueError as exc:
                raise ConfigError(f"{label}: {exc}") from None
        elif kind == "per-file":
            if not isinstance(raw, dict):
                raise ConfigError(f"{label} must be a table of glob = [codes]")
            values[attr] = tuple(
                (pattern, validate_codes(_strings(codes, label), known, label))
                for pattern, codes in raw.items()
            )
    return values


_UNITS = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024 ** 2, "m": 1024 ** 2,
          "gb": 1024 ** 3, "g": 1024 ** 3}


def _size(raw: Any, label: str) -> int:
    """Bytes from an integer or a string such as "10MB" or "512 KB" (0: no limit)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*", raw.lower())
        if match:
            return int(float(match.group(1)) * _UNITS[match.group(2)])
    raise ConfigError(f'{label} must be a number of bytes or a size such as "10MB"')


def _strings(raw: Any, label: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ConfigError(f"{label} must be a list of strings")
    return tuple(raw)


def validate_codes(codes: Iterable[str], known: set[str], label: str) -> tuple[str, ...]:
    """Every code must be a rule code or a prefix of one (or ALL)."""
    out = []
    for code in codes:
        code = code.strip().upper()
        if not code:
            continue
        if code != "ALL" and not any(k.startswith(code) for k in known):
            hint = difflib.get_close_matches(code, sorted(known), n=1)
            suggestion = f" (did you mean {hint[0]}?)" if hint else ""
            raise ConfigError(f"{label}: unknown rule code or prefix '{code}'{suggestion}")
        out.append(code)
    return tuple(out)


def split_codes(text: Optional[str]) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(c for c in (part.strip() for part in text.replace(" ", ",").split(",")) if c)


def resolve_settings(paths: Sequence[str], config_file: Optional[Path] = None,
                     **overrides: Optional[str]) -> Settings:
    """The settings for a run over ``paths``: the nearest configuration (or
    ``config_file``), then the command line's ``overrides`` (select and
    ignore lists as comma-separated text, exclude patterns, min-confidence).
    The one place settings are made: the command line, ``ftlint clean`` and
    the flake8 plugin all come here, so that they agree."""
    from ftlint.rules.catalog import known_codes

    known = set(known_codes())
    if config_file is not None and not Path(config_file).is_file():
        raise ConfigError(f"{config_file}: config file not found")
    settings = load_settings(Path(config_file) if config_file else find_config(paths), known)
    changes: dict[str, Any] = {}
    for key in ("select", "extend_select", "ignore", "extend_ignore"):
        if overrides.get(key) is not None:
            codes = validate_codes(split_codes(overrides[key]), known,
                                   f"--{key.replace('_', '-')}")
            if key == "select":
                changes[key] = codes
            else:  # the command line adds to what the config says
                changes[key] = getattr(settings, key) + codes
    if overrides.get("exclude") is not None:
        changes["exclude"] = split_codes(overrides["exclude"])
    if overrides.get("extend_exclude") is not None:
        changes["extend_exclude"] = settings.extend_exclude + split_codes(overrides["extend_exclude"])
    if overrides.get("min_confidence"):
        try:
            changes["min_confidence"] = Confidence.parse(str(overrides["min_confidence"]))
        except ValueError as exc:
            raise ConfigError(f"--min-confidence: {exc}") from None
    return replace(settings, **changes)
