"""The small API every front-end uses: ``lint_source`` and ``lint_paths``.

Per-file work is a pure function of (bytes, settings): it keeps no global
state, so files can be spread over processes (or threads, on a free-threaded
interpreter) and, later, cached by content hash.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

import libcst as cst

from ftlint.analysis.builder import build_model
from ftlint.config import Settings
from ftlint.diagnostics import IO_ERROR, SYNTAX_ERROR, Confidence, Diagnostic, Location
from ftlint.discovery import discover
from ftlint.noqa import Suppressions
from ftlint.positions import compute_positions
from ftlint.rules import ALL_RULES, default_states


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: bool = False  # the file could not be read or parsed


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = [d for f in self.files for d in f.diagnostics]
        out.sort(key=Diagnostic.sort_key)
        return out

    @property
    def checked(self) -> int:
        return len(self.files)


def enabled_rules(settings: Settings) -> tuple[str, ...]:
    return tuple(sorted(settings.enabled_codes(default_states())))


def _error(path: str, kind: tuple[str, str], message: str, row: int = 1, col: int = 1) -> FileResult:
    code, name = kind
    loc = Location(row, col)
    return FileResult(path, [Diagnostic(path, code, name, message, loc, loc,
                                        Confidence.HIGH, "the file was not checked",
                                        is_error=True)], error=True)


def parse(source: bytes | str) -> cst.Module:
    return cst.parse_module(source)


def lint_source(
    source: bytes | str,
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    codes: Optional[Iterable[str]] = None,
    apply_noqa: bool = True,
) -> FileResult:
    """Check one module's source. Never raises for bad input."""
    settings = settings or Settings()
    selected = tuple(codes) if codes is not None else enabled_rules(settings)
    try:
        module = parse(source)
    except cst.ParserSyntaxError as exc:
        return _error(path, SYNTAX_ERROR, f"cannot parse: {exc.message}",
                      exc.raw_line, exc.raw_column + 1)
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
        return _error(path, IO_ERROR, f"cannot decode: {exc}")
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot parse: too deeply nested")
    try:
        model = build_model(path, module)
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot analyse: too deeply nested")
    findings = []
    for code in selected:
        rule = ALL_RULES[code]()
        findings.extend((rule, f) for f in rule.check(model))
    if not findings:
        return FileResult(path)
    text = module.code if isinstance(source, bytes) else source
    suppressions = Suppressions(text) if apply_noqa else None
    ignored = settings.ignored_for(_relative(path, settings.root))
    positions = compute_positions(module, [f.node for _, f in findings])
    result = FileResult(path)
    seen = set()
    for rule, finding in findings:
        start, end = positions[id(finding.node)]
        if finding.confidence < settings.min_confidence:
            continue
        if any(rule.code.startswith(c) for c in ignored):
            continue
        if suppressions is not None and suppressions.suppressed(rule.code, start.row):
            continue
        key = (rule.code, start, end)
        if key in seen:
            continue
        seen.add(key)
        result.diagnostics.append(Diagnostic(
            path, rule.code, rule.name, finding.message, start, end,
            finding.confidence, finding.reason,
            extra={"function": finding.function} if finding.function else {},
        ))
    return result


def lint_file(path: str, settings: Settings, codes: Sequence[str]) -> FileResult:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return _error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
    return lint_source(data, path, settings, codes)


def _relative(path: str, root: str) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


# Long implicit string concatenations (pydoc_data/topics.py) nest thousands of
# nodes deep, and libcst's visitors recurse.
RECURSION_LIMIT = 20_000


def _raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def _executor(jobs: int) -> Executor:
    # libcst's parser holds the GIL; on a free-threaded build threads scale.
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return ThreadPoolExecutor(jobs)
    return ProcessPoolExecutor(jobs, initializer=_raise_recursion_limit)


def lint_paths(paths: Sequence[str], settings: Settings, jobs: Optional[int] = None) -> Report:
    files = [str(p) for p in discover(paths, settings)]
    codes = enabled_rules(settings)
    jobs = jobs or os.cpu_count() or 1
    _raise_recursion_limit()
    report = Report()
    if jobs > 1 and len(files) >= 16:
        with _executor(min(jobs, len(files))) as pool:
            chunk = max(1, len(files) // (jobs * 8))
            report.files = list(pool.map(lint_file, files, [settings] * len(files),
                                         [codes] * len(files), chunksize=chunk))
    else:
        report.files = [lint_file(f, settings, codes) for f in files]
    return report
