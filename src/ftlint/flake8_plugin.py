"""The flake8 plugin: ftlint's findings in flake8, and so in every editor that runs it.

flake8 finds the plugin through the ``flake8.extension`` entry point ``FT``.
Each file is checked on its own with :func:`ftlint.api.lint_source`, on the
lines flake8 has read (so ``flake8 -`` on stdin works too). flake8 does the
filtering: ``# noqa``, ``--select``/``--ignore``, ``--per-file-ignores``. The
one ftlint-only directive, a file-level ``# ftlint: noqa``, is honoured here.

Each finding reads exactly like a line of ``ftlint``'s text output::

    path:row:col: FT101 [medium] Module-level `_cache` is mutated ...

The message after the bracketed confidence is the CLI's ``message`` field,
unchanged. The plugin never raises: an unexpected error becomes a single
``FT000 ftlint internal error: ...`` finding at line 1.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import replace
from typing import Any, ClassVar, Iterable, Iterator, Optional, Sequence

from ftlint import __version__
from ftlint.config import Settings
from ftlint.diagnostics import Confidence

Result = tuple[int, int, str, type]

INTERNAL_ERROR = "FT000"
NOT_THREAD_SAFE_CHOICES = ("low", "ignore")


def _strings(value: Any) -> tuple[str, ...]:
    """A comma-separated option: flake8 hands over a list, or a string when unnormalized."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(s for s in (str(v).strip() for v in value) if s)


def _rule_states() -> dict[str, bool]:
    from ftlint.rules import default_states

    return default_states()


def _default_codes() -> tuple[str, ...]:
    return tuple(sorted(code for code, on in _rule_states().items() if on))


def codes_for(options: Any) -> tuple[str, ...]:
    """The rules to run: those flake8 will report, opt-in ones only by full code.

    Running only what flake8 reports keeps the findings identical to the CLI
    with the same selection: when a specific rule is deselected, the general
    finding it would have superseded (FT101 for an FT203 check-then-act) shows.
    As in ftlint's own ``select``, an opt-in rule (FT107) needs its full code
    in ``--select``/``--extend-select``: a bare ``--ignore`` drops flake8's
    default-ignore list and must not turn it on.
    """
    explicit = {c.strip().upper() for c in (*_strings(getattr(options, "select", None)),
                                            *_strings(getattr(options, "extend_select", None)))}
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)

        def chosen(code: str) -> bool:
            return engine.decision_for(code) is Decision.Selected
    except Exception:  # another flake8 version: flake8 still filters what we yield
        def chosen(code: str) -> bool:
            return True
    return tuple(sorted(code for code, on in _rule_states().items()
                        if (on or code in explicit) and chosen(code)))


class Plugin:
    """A tree plugin (flake8 calls ``run``) that reads the file's own lines."""

    name = "ftlint"
    version = __version__

    # Set once per flake8 process by parse_options, before any file is checked.
    overrides: ClassVar[dict[str, Any]] = {}
    codes: ClassVar[Optional[tuple[str, ...]]] = None
    explicit: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        # ``tree`` makes this a tree plugin; the analysis needs libcst's tree.
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--ftlint-min-confidence", default=None, choices=("low", "medium", "high"),
            parse_from_config=True,
            help="ftlint: report only findings at or above this confidence "
                 "(low, medium, high). Default: min-confidence in [tool.ftlint], else medium",
        )
        manager.add_option(
            "--ftlint-thread-entry-points", default="", metavar="PATTERNS",
            parse_from_config=True, comma_separated_list=True,
            help="ftlint: comma-separated decorators or dotted names (fnmatch "
                 "patterns) of functions that run on threads.",
        )
        manager.add_option(
            "--ftlint-synchronizing-decorators", default="", metavar="NAMES",
            parse_from_config=True, comma_separated_list=True,
            help="ftlint: comma-separated decorators that hold a lock around "
                 "the whole function.",
        )
        manager.add_option(
            "--ftlint-not-thread-safe", default=None, choices=NOT_THREAD_SAFE_CHOICES,
            parse_from_config=True,
            help="ftlint: findings in code that declares itself not thread-safe: "
                 "report at low confidence, or ignore them. Default: not-thread-safe in "
                 "[tool.ftlint], else low",
        )
        # FT107 is opt-in, as in ftlint: `--extend-select FT107` turns it on.
        manager.extend_default_ignore([code for code, on in _rule_states().items() if not on])

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.overrides = overrides_from(options)
        cls.codes = codes_for(options)
        cls.explicit = _explicit(options)

    def run(self) -> Iterator[Result]:
        from ftlint.config import ConfigError

        try:
            results = list(self._check())
        except ConfigError as exc:  # the project's [tool.ftlint] is wrong: say where
            message = " ".join(str(exc).splitlines())
            results = [(1, 0, f"{INTERNAL_ERROR} ftlint configuration error: {message}",
                        type(self))]
        except Exception as exc:  # never take flake8 down with us
            detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            results = [(1, 0, f"{INTERNAL_ERROR} ftlint internal error: {detail}", type(self))]
        yield from results

    def _check(self) -> Iterable[Result]:
        from ftlint import api
        from ftlint.noqa import Suppressions
        from ftlint.workers import raise_recursion_limit

        source = "".join(self.lines)
        settings = replace(project_settings(self.filename), **self.overrides)
        codes = self.codes if self.codes is not None else _default_codes()
        # What the project's [tool.ftlint] turns off stays off, unless named
        # in flake8's own --select/--extend-select.
        enabled = settings.enabled_codes(_rule_states())
        codes = tuple(c for c in codes if c in enabled or c in self.explicit)
        if not codes:  # flake8 would drop every FT finding (e.g. --select E,W)
            return
        raise_recursion_limit()  # as the CLI does: long concatenations nest deeply
        result = api.lint_source(source, self.filename, settings, codes=codes, apply_noqa=False)
        file_codes = Suppressions(source).file_codes if "ftlint" in source else frozenset()
        for d in sorted(result.diagnostics, key=lambda d: d.sort_key()):
            if not d.is_error and any(c == "*" or d.code.startswith(c) for c in file_codes):
                continue
            tag = "error" if d.is_error else str(d.confidence)
            message = " ".join(d.message.splitlines())
            yield d.start.row, max(d.start.column - 1, 0), f"{d.code} [{tag}] {message}", type(self)


def overrides_from(options: Any) -> dict[str, Any]:
    """The settings flake8's options (command line and ``[flake8]``) give,
    over those of the project's own configuration."""
    from flake8.exceptions import ExecutionError

    overrides: dict[str, Any] = {}
    raw_confidence = getattr(options, "ftlint_min_confidence", None)
    if raw_confidence:
        try:
            overrides["min_confidence"] = Confidence.parse(str(raw_confidence))
        except ValueError as exc:
            raise ExecutionError(f"ftlint: --ftlint-min-confidence: {exc}") from None
    raw_unsafe = getattr(options, "ftlint_not_thread_safe", None)
    if raw_unsafe:
        not_thread_safe = str(raw_unsafe).strip().lower()
        if not_thread_safe not in NOT_THREAD_SAFE_CHOICES:
            raise ExecutionError(
                f"ftlint: --ftlint-not-thread-safe: invalid value {not_thread_safe!r} "
                f"(expected one of: {', '.join(NOT_THREAD_SAFE_CHOICES)})")
        overrides["not_thread_safe"] = not_thread_safe
    for option, key in (("ftlint_thread_entry_points", "thread_entry_points"),
                        ("ftlint_synchronizing_decorators", "synchronizing_decorators")):
        values = _strings(getattr(options, option, None))
        if values:
            overrides[key] = values
    return overrides


def project_settings(filename: str) -> Settings:
    """The settings of ``filename``: its nearest configuration file, as
    ``ftlint`` itself resolves them; looked up once per folder."""
    return _resolver().for_file(os.path.abspath(filename))


@functools.lru_cache(maxsize=None)
def _resolver():
    from ftlint.config import Resolver

    return Resolver()


def _explicit(options: Any) -> frozenset[str]:
    return frozenset(c.strip().upper()
                     for c in (*_strings(getattr(options, "select", None)),
                               *_strings(getattr(options, "extend_select", None))))
