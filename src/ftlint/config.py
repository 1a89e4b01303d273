"""Settings: the nearest configuration file of each file (``.ftlint.toml``,
``ftlint.toml`` or a pyproject.toml's ``[tool.ftlint]``), overridden by the
command line."""

from __future__ import annotations

import ast
import difflib
import fnmatch
import functools
import json
import os
import re
import sys
from dataclasses import dataclass, field, fields, replace
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
        off by default (opt-in) are enabled only by their full code or ``ALL``.
        """
        selected = self.select + self.extend_select
        ignored = self.ignore + self.extend_ignore
        enabled = set()
        for code, default_on in rules.items():
            best_sel = _longest_prefix(code, selected)
            best_ign = _longest_prefix(code, ignored)
            if best_sel < 0 or best_ign >= best_sel:
                continue
            if not default_on and best_sel != len(code) and not (
                    "ALL" in selected and best_ign < 0):
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
    "extend": "path",  # read by load_settings: the configuration this one builds on
}

# The configuration files looked for in each directory, in order of
# precedence (as ruff: .ruff.toml, ruff.toml, pyproject.toml). A
# pyproject.toml counts only if it has a [tool.ftlint] table.
CONFIG_FILES = (".ftlint.toml", "ftlint.toml", "pyproject.toml")


def config_in(directory: Path) -> Optional[Path]:
    """The configuration file of ``directory`` itself, or None."""
    for name in CONFIG_FILES:
        candidate = directory / name
        if candidate.is_file():
            if name != "pyproject.toml" or "ftlint" in _tool_table(_read_toml(candidate), candidate):
                return candidate
    return None


def find_config(paths: Sequence[str]) -> Optional[Path]:
    """The nearest configuration file above the common path of ``paths``."""
    start = Path(_common_directory(paths))
    for directory in (start, *start.parents):
        found = config_in(directory)
        if found is not None:
            return found
    return None


def _common_directory(paths: Sequence[str]) -> str:
    """The real directory that holds all of ``paths`` (the current one if none)."""
    if not paths:
        return os.getcwd()
    start = os.path.commonpath([os.path.realpath(p) for p in paths])
    if os.path.isfile(start) or not os.path.exists(start):
        start = os.path.dirname(start)
    return start


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


def _config_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml" or "tool" in data:
        table = _tool_table(data, path).get("ftlint", {})
    else:  # a dedicated ftlint.toml holds the keys at top level
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.ftlint] must be a table")
    return table


@functools.lru_cache(maxsize=64)
def console_scripts(root: str) -> tuple[tuple[str, str], ...]:
    """The console and GUI scripts a project declares, as ("module:function",
    script name): `[project.scripts]` of ``root``'s pyproject.toml,
    `console_scripts` of its setup.cfg, and in its setup.py the literal
    `entry_points=` of the `setup()` call and the functions its `scripts=`
    files call at their top level. Unreadable files declare none."""
    found: dict[str, str] = {}
    pyproject = Path(root) / "pyproject.toml"
    try:
        data = _read_toml(pyproject) if pyproject.is_file() else {}
    except Exception:  # noqa: BLE001 - a broken file is reported where it is a config
        data = {}
    project = data.get("project") if isinstance(data, dict) else None
    for table in ("scripts", "gui-scripts"):
        scripts = project.get(table) if isinstance(project, dict) else None
        if isinstance(scripts, dict):
            for name, target in scripts.items():
                if isinstance(target, str):
                    found.setdefault(target.split("[", 1)[0].strip(), str(name))
    setup_cfg = Path(root) / "setup.cfg"
    if setup_cfg.is_file():
        import configparser
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            lines = parser.get("options.entry_points", "console_scripts", fallback="")
        except (configparser.Error, UnicodeDecodeError):
            lines = ""
        for line in lines.splitlines():
            name, _, target = line.partition("=")
            if target.strip():
                found.setdefault(target.split("[", 1)[0].strip(), name.strip())
    for target, name in _setup_py_scripts(Path(root)):
        found.setdefault(target, name)
    return tuple(sorted((t, n) for t, n in found.items() if ":" in t))


def _setup_py_scripts(root: Path) -> list[tuple[str, str]]:
    """("module:function", script name) from setup.py: the literal
    `console_scripts`/`gui_scripts` of `setup(entry_points=...)`, and for each
    file of `setup(scripts=[...])` the imported functions it calls at its top
    level or in its `__main__` block (`import pkg.cli` ... `pkg.cli.main()`).
    setup.py is read, never run; what is not a literal is skipped."""
    tree = _parse_python(root / "setup.py")
    if tree is None:
        return []
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _dotted(node.func).rpartition(".")[2] == "setup"):
            continue
        for keyword in node.keywords:
            if keyword.arg == "entry_points" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    if not (isinstance(key, ast.Constant)
                            and key.value in ("console_scripts", "gui_scripts")):
                        continue
                    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                    for item in items:
                        if isinstance(item, ast.Constant) and isinstance(item.value, str):
                            for line in item.value.splitlines():
                                name, _, target = line.partition("=")
                                if target.strip():
                                    found.append((target.split("[", 1)[0].strip(), name.strip()))
            elif keyword.arg == "scripts" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                for item in keyword.value.elts:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        script = root / item.value
                        found.extend((t, script.name) for t in _script_calls(script))
    return found


def _parse_python(path: Path):
    try:
        return ast.parse(path.read_bytes()) if path.is_file() else None
    except (OSError, SyntaxError, ValueError):
        return None


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _script_calls(path: Path) -> list[str]:
    """The imported functions a script file calls at its top level or in its
    `if __name__ == "__main__":` block, as "module:function"."""
    tree = _parse_python(path)
    if tree is None:
        return []
    names: dict[str, str] = {}  # a local name -> what it is ("pkg.mod" or "pkg.mod:f")
    modules: set[str] = set()
    statements = list(tree.body)
    calls: list[str] = []
    while statements:
        statement = statements.pop(0)
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                modules.add(alias.name)
                if alias.asname:
                    names[alias.asname] = alias.name
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                names[alias.asname or alias.name] = f"{statement.module}:{alias.name}"
        elif (isinstance(statement, ast.If) and isinstance(statement.test, ast.Compare)
              and _dotted(statement.test.left) == "__name__"):
            statements[:0] = statement.body
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for node in ast.walk(statement):
                if isinstance(node, ast.Call):
                    calls.append(_dotted(node.func))
    targets = []
    for call in calls:
        head, _, rest = call.partition(".")
        if not rest and ":" in names.get(call, ""):
            targets.append(names[call])  # from pkg.cli import main; main()
            continue
        module, _, function = call.rpartition(".")
        if head in names and ":" not in names[head]:
            module = names[head] + module[len(head):]  # import pkg.cli as cli; cli.main()
        if module in modules or module in names.values():
            targets.append(f"{module}:{function}")
    return targets


_RUN_PARALLEL = re.compile(r"pytest[-_]run[-_]parallel|--parallel-threads\b", re.IGNORECASE)
_RUN_PARALLEL_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini", "setup.py",
                       "requirements-dev.txt", "requirements-test.txt", "requirements_dev.txt",
                       "requirements_test.txt", "dev-requirements.txt", "test-requirements.txt")


_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "tox.ini")


def uses_run_parallel(root: Path) -> bool:
    """Does the project at ``root`` use pytest-run-parallel: a dependency on
    it, or ``--parallel-threads`` in its pytest options?"""
    for name in _RUN_PARALLEL_FILES:
        path = Path(root) / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            continue
        if _RUN_PARALLEL.search(text):
            return True
    return False


def load_settings(config_path: Optional[Path], known_codes: Iterable[str]) -> Settings:
    """The settings of one configuration file, over those of the file it
    ``extend``s (if any); relative patterns are anchored at its directory."""
    if config_path is None:
        return Settings()
    config_path = Path(config_path)
    values = _load_values(config_path, set(known_codes), ())
    return replace(
        Settings(root=str(config_path.parent.resolve()), config_path=str(config_path)),
        **values,
    )


def _load_values(path: Path, known: set[str], chain: tuple[str, ...]) -> dict[str, Any]:
    """The values of the file at ``path``, layered over those of the file it
    extends, whose relative patterns stay relative to its own directory."""
    real = os.path.realpath(path)
    if real in chain:
        cycle = " -> ".join((*chain, real))
        raise ConfigError(f"{path}: 'extend' makes a cycle: {cycle}")
    table = dict(_config_table(path))
    base = table.pop("extend", None)
    values = parse_table(table, f"{path}", known)
    if base is None:
        return values
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: 'extend' must be a path (a non-empty string)")
    base_path = Path(os.path.expanduser(base))
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise ConfigError(f"{path}: 'extend': configuration file {base} not found")
    inherited = _load_values(base_path, known, (*chain, real))
    inherited = reanchor(inherited, base_path.parent.resolve(), path.parent.resolve())
    return layer(inherited, values)


# Lists that add to what they are layered over (as the command line's
# --ignore adds to the configured one); other keys replace it.
_ADDING = ("extend_select", "ignore", "extend_ignore", "extend_exclude")


def layer(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top``'s values over ``base``'s (both as parse_table returns them)."""
    out = dict(base)
    for attr, value in top.items():
        out[attr] = out.get(attr, ()) + value if attr in _ADDING else value
    return out


def reanchor(values: Mapping[str, Any], base: Path, root: Path) -> dict[str, Any]:
    """``values`` whose relative patterns and paths were written relative to
    ``base``, made relative to ``root``: a pattern that cannot match below
    ``root`` is dropped, the cache directory becomes absolute."""
    if base == root:
        return dict(values)
    out = dict(values)
    for attr in ("exclude", "extend_exclude", "test_patterns"):
        if attr in out:
            out[attr] = tuple(p for p in (_reanchor(p, base, root) for p in out[attr])
                              if p is not None)
    if "per_file_ignores" in out:
        out["per_file_ignores"] = tuple((p, codes) for p, codes in (
            (_reanchor(p, base, root), codes) for p, codes in out["per_file_ignores"])
            if p is not None)
    if "cache_dir" in out:
        out["cache_dir"] = str(base / os.path.expanduser(out["cache_dir"]))
    return out


def _reanchor(pattern: str, base: Path, root: Path) -> Optional[str]:
    """A gitignore-style pattern relative to ``base``, relative to ``root``
    (None if it cannot match anything below ``root``). A pattern without a
    slash but at its end matches at any depth and stays as it is."""
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if not body or body.startswith("#") or "/" not in body.rstrip("/"):
        return pattern
    trailing = "/" if body.endswith("/") else ""
    parts = [p for p in body.strip("/").split("/") if p]
    try:
        down = root.relative_to(base).parts  # root below base: match its steps
    except ValueError:
        try:
            up = base.relative_to(root).parts  # base below root: prefix them
        except ValueError:
            return None  # unrelated directories
        parts = [*up, *parts]
    else:
        for step in down:
            if not parts:
                return None  # it names root or a directory above it
            if parts[0] == "**":
                break  # matches at any depth, below root too
            if not fnmatch.fnmatchcase(step, parts[0]):
                return None
            parts = parts[1:]
        if not parts:
            return None
    return ("!" if negate else "") + "/" + "/".join(parts) + trailing


def parse_table(table: Mapping[str, Any], where: str, known: set[str],
                section: str = " in [tool.ftlint]") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key == "extend":  # read by load_settings, in a configuration file
            raise ConfigError(f"{where}: 'extend' belongs in a configuration file")
        kind = _KEYS.get(key)
        if kind is None:
            hint = difflib.get_close_matches(key, _KEYS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(
                f"{where}: unknown option '{key}'{section}{suggestion}; "
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
    """One set of settings for ``paths``: those of their common directory
    (see :class:`Resolver`; a run over several projects takes each file's
    own with ``Resolver.for_file``)."""
    return Resolver(config_file, overrides=overrides).for_paths(paths)


def parse_config_options(values: Sequence[str]) -> tuple[Optional[Path], tuple[dict[str, Any], ...]]:
    """``--config`` values, as ruff reads them: an existing file is the
    configuration file for every file of the run; anything else must be an
    inline TOML ``key = value`` override. Returns (file, overrides)."""
    config_file: Optional[Path] = None
    inline: list[dict[str, Any]] = []
    for value in values:
        if os.path.isfile(value):
            if config_file is not None:
                raise ConfigError(f"--config: only one configuration file can be given "
                                  f"({config_file} and {value})")
            config_file = Path(value)
            continue
        if os.path.isdir(value):
            raise ConfigError(f"--config {value!r}: is a directory, not a configuration file")
        try:
            inline.append(tomllib.loads(value))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"--config {value!r}: no such configuration file, nor a TOML "
                f"'key = value' override ({exc}); pass the path of a .toml file or an "
                f"override such as --config \"min-confidence = 'high'\"") from None
    return config_file, tuple(inline)


class Resolver:
    """The settings of each file, as ruff finds them: those of the nearest
    configuration file above it (:data:`CONFIG_FILES`), or of the one
    ``config_file`` given for all files; then the ``inline`` overrides
    (``--config key=value``), then the command line's ``overrides`` (select
    and ignore lists as comma-separated text, exclude patterns,
    min-confidence).

    Settings are made once per configuration file and looked up once per
    directory, so files under the same configuration share one (hashable)
    :class:`Settings` object. The one place settings are made: the command
    line, ``ftlint clean``, the flake8 plugin and the language server all
    come here, so that they agree."""

    def __init__(self, config_file: Optional[Path] = None,
                 inline: Sequence[Mapping[str, Any]] = (),
                 overrides: Optional[Mapping[str, Optional[str]]] = None,
                 fixed: Optional[Settings] = None) -> None:
        from ftlint.rules.catalog import known_codes

        self._known = set(known_codes())
        self._by_config: dict[Optional[str], Settings] = {}
        self._by_dir: dict[str, Settings] = {}
        self._by_real: dict[str, Settings] = {}
        self._cwd = Path(os.getcwd())
        self._inline = self._parse_inline(inline)
        self._changes = self._parse_overrides(overrides or {})
        self.fixed: Optional[Settings] = fixed
        if fixed is None and config_file is not None:
            if not Path(config_file).is_file():
                raise ConfigError(f"{config_file}: config file not found")
            self.fixed = self._settings(Path(config_file))

    @classmethod
    def of(cls, settings: "Settings | Resolver") -> "Resolver":
        """``settings`` as a resolver (one Settings: the same for every file)."""
        return settings if isinstance(settings, Resolver) else cls(fixed=settings)

    def for_file(self, path: str) -> Settings:
        """The settings of the file at ``path``."""
        if self.fixed is not None:
            return self.fixed
        return self.for_directory(os.path.dirname(path) or ".")

    def for_directory(self, directory: str) -> Settings:
        """The settings of the files directly in ``directory``."""
        if self.fixed is not None:
            return self.fixed
        found = self._by_dir.get(directory)
        if found is None:
            found = self._by_dir[directory] = self.for_real_directory(os.path.realpath(directory))
        return found

    def for_paths(self, paths: Sequence[str]) -> Settings:
        """The settings of the directory that holds all of ``paths``: the
        project root's, for what a run has once (the cache, a baseline)."""
        if self.fixed is not None:
            return self.fixed
        return self.for_real_directory(_common_directory(paths))

    def for_real_directory(self, real: str) -> Settings:
        """``for_directory`` for a directory's real path."""
        found = self._by_real.get(real)
        if found is not None:
            return found
        missing = []
        current = real
        project = None  # the nearest directory with a project file, for a run without config
        while True:
            found = self._by_real.get(current)
            if found is not None:
                break
            config = config_in(Path(current))
            if config is not None:
                found = self._by_real[current] = self._settings(config)
                break
            if project is None and any(os.path.isfile(os.path.join(current, name))
                                       for name in _PROJECT_FILES):
                project = current
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                found = self._settings(None, project)
                break
            current = parent
        for directory in missing:
            self._by_real[directory] = found
        return found

    def _settings(self, config: Optional[Path], project: Optional[str] = None) -> Settings:
        key = str(config) if config is not None else f"none:{project}"
        found = self._by_config.get(key)
        if found is None:
            settings = load_settings(config, self._known)
            root = config.parent if config is not None else project
            if root is not None and "FT306" in self._known and uses_run_parallel(Path(root)):
                # The thread-unsafe-tests rule is opt-in, and on where its runner is.
                settings = replace(settings, extend_select=(*settings.extend_select, "FT306"))
            found = self._by_config[key] = self._apply(settings)
        return found

    def _parse_inline(self, tables: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for table in tables:
            values = layer(values, parse_table(table, "--config", self._known, section=""))
        return values

    def _parse_overrides(self, overrides: Mapping[str, Optional[str]]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for key in ("select", "extend_select", "ignore", "extend_ignore"):
            if overrides.get(key) is not None:
                changes[key] = validate_codes(split_codes(overrides[key]), self._known,
                                              f"--{key.replace('_', '-')}")
        if overrides.get("exclude") is not None:
            changes["exclude"] = split_codes(overrides["exclude"])
        if overrides.get("extend_exclude") is not None:
            changes["extend_exclude"] = split_codes(overrides["extend_exclude"])
        if overrides.get("min_confidence"):
            try:
                changes["min_confidence"] = Confidence.parse(str(overrides["min_confidence"]))
            except ValueError as exc:
                raise ConfigError(f"--min-confidence: {exc}") from None
        return changes

    def _apply(self, settings: Settings) -> Settings:
        """The inline overrides (their relative patterns anchored at the
        current directory, as ruff does), then the command line's options;
        lists named extend-* add to the configuration's."""
        if not self._inline and not self._changes:
            return settings
        values = {f.name: getattr(settings, f.name) for f in fields(settings)}
        values = layer(values, reanchor(self._inline, self._cwd.resolve(), Path(settings.root)))
        values = layer(values, self._changes)
        return replace(settings, **values)


def show_settings(settings: Settings) -> list[str]:
    """``settings`` as lines of ``key = value`` (TOML), in a stable order."""
    lines = []
    for f in fields(settings):
        if f.name == "config_path":
            continue
        value = getattr(settings, f.name)
        if f.name == "cache_dir" and value is None:
            value = ".ftlint_cache"
        if f.name == "per_file_ignores":
            text = "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value) + "}"
        else:
            text = _toml(value)
        lines.append(f"{f.name.replace('_', '-')} = {text}")
    return lines


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Confidence):
        return json.dumps(str(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))
