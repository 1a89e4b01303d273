"""The small API every front-end uses: ``lint_source`` and ``lint_paths``.

Per-file work is a pure function of (bytes, settings): it keeps no global
state, so files can be spread over processes (or threads, on a free-threaded
interpreter) and, later, cached by content hash.
"""

from __future__ import annotations

import ast
import copy
import functools
import os
import re
import sys
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence, Union

import libcst as cst

from ftlint.analysis.builder import build_model
from ftlint.analysis.model import ModuleModel
from ftlint.config import Settings
from ftlint.diagnostics import INTERNAL_ERROR, IO_ERROR, SYNTAX_ERROR, Confidence, Diagnostic, Location
from ftlint.discovery import discover, read_source
from ftlint import gate
from ftlint.faults import inject
from ftlint.noqa import Suppressions
from ftlint.positions import compute_positions
from ftlint.project import (
    ModuleSummary, apply as apply_project, call_graph, locking_containers, module_name, reachable,
    startup_only, summarize, thread_owners,
)
from ftlint.rules import ALL_RULES, default_states
from ftlint.rules.base import Finding, Rule
from ftlint.rules.context import lower_in_coroutine, lower_in_setup


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: bool = False  # the file could not be read or parsed
    summary: Optional[ModuleSummary] = None
    hidden: int = 0  # findings below min-confidence


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)
    # Each file's result before the project pass, for `relint`.
    raw: list[FileResult] = field(default_factory=list, repr=False)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = [d for f in self.files for d in f.diagnostics]
        out.sort(key=Diagnostic.sort_key)
        return out

    @property
    def checked(self) -> int:
        return len(self.files)

    @property
    def hidden(self) -> int:
        """Findings below ``min-confidence``, not shown."""
        return sum(f.hidden for f in self.files)


def enabled_rules(settings: Settings) -> tuple[str, ...]:
    return tuple(sorted(settings.enabled_codes(default_states())))


def _error(path: str, kind: tuple[str, str], message: str, row: int = 1, col: int = 1) -> FileResult:
    code, name = kind
    loc = Location(row, col)
    return FileResult(path, [Diagnostic(path, code, name, message, loc, loc,
                                        Confidence.HIGH, "the file was not checked",
                                        is_error=True)], error=True)


_LIBCST_AT = re.compile(r"error at (\d+):(\d+)")


def _syntax_error(path: str, source: bytes | str, exc: cst.ParserSyntaxError) -> FileResult:
    """FT002 where CPython puts the error, in its words; if the running
    interpreter accepts the file, say that it is libcst that cannot parse it."""
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as err:
        if err.lineno:
            return _error(path, SYNTAX_ERROR, f"cannot parse: {err.msg}",
                          err.lineno, max(err.offset or 1, 1))
        accepted = False
    except (ValueError, RecursionError, MemoryError):  # null bytes, too deep
        accepted = False
    else:
        accepted = True
    at = _LIBCST_AT.search(exc.message)  # the message's own position is right
    row, col = (int(at[1]), int(at[2])) if at else (exc.raw_line, exc.raw_column + 1)
    message = (exc.message.splitlines() or ["invalid syntax"])[0]
    if accepted:
        version = ".".join(map(str, sys.version_info[:2]))
        message = (f"Python {version} accepts this code, but libcst (the parser ftlint uses) "
                   f"does not: {message.split(': expected')[0]}")
    return _error(path, SYNTAX_ERROR, f"cannot parse: {message}", row, col)


def parse(source: bytes | str) -> cst.Module:
    return cst.parse_module(source)


def _decode(source: bytes | str, tree: cst.Module) -> str:
    """The text for noqa scanning; decoding is far cheaper than tree.code."""
    if isinstance(source, str):
        return source
    try:
        return source.decode(tree.encoding)
    except (UnicodeDecodeError, LookupError):
        return tree.code


def _supersede(found: list[tuple[type[Rule], Finding]], model: ModuleModel,
               enabled: set[str]) -> list[tuple[type[Rule], Finding]]:
    """Drop a general finding when a more specific rule reports the same write."""
    acts: dict[int, list[int]] = {}
    for compound in model.compounds:
        if compound.write is not None:
            acts.setdefault(id(compound.node), []).append(id(compound.write))
    covered: dict[str, set[int]] = {}
    for rule, finding in found:
        for code in rule.supersedes:
            if code in enabled and finding.access is not None:
                ids = covered.setdefault(code, set())
                ids.add(id(finding.access))
                ids.update(acts.get(id(finding.node), ()))
    return [(rule, f) for rule, f in found
            if f.access is None or id(f.access) not in covered.get(rule.code, ())]


def _extra(finding: Finding, model: ModuleModel) -> dict:
    extra: dict = dict(finding.facts)
    function = finding.function
    if function is not None:
        extra["function"] = function.qualname
        while function is not None and function.class_name is None:
            function = function.parent
        if function is not None:
            extra["class"] = function.class_name
    access = finding.access
    if access is not None and access.ref[0] == "instance":
        extra["state"] = f"{access.ref[1]}.{access.ref[2]}"
    if access is not None and access.write and access.atomic and model.compound_for(access) is None:
        extra["atomic"] = True  # one atomic operation: reachability alone does not make it high
    return extra


def internal_error(path: str, exc: BaseException) -> FileResult:
    """ftlint itself failed on this file: one FT000 finding, the run goes on.
    The traceback travels along (as text, so workers can hand it back) for
    ``--verbose``."""
    import traceback

    result = _error(path, INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}".rstrip(": "))
    result.diagnostics[0].reason = "ftlint failed on this file; it was not checked"
    result.diagnostics[0].extra["traceback"] = "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    return result


def analyze_source(
    source: bytes | str,
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    codes: Optional[Iterable[str]] = None,
    apply_noqa: bool = True,
    module: Optional[str] = None,
    fixes: bool = False,
) -> FileResult:
    """Per-file work: findings (before the project pass) and the summary.

    With ``fixes``, each diagnostic that has a fix carries it in ruff's JSON
    shape (this costs one code generation per fix). Never raises: a failure
    of ftlint on this file is its FT000 finding."""
    try:
        return _analyze(source, path, settings or Settings(), codes, apply_noqa, module, fixes)
    except Exception as exc:  # noqa: BLE001 - one file never ends a run
        return internal_error(path, exc)


@dataclass
class Analysis:
    """One module's per-file analysis: what the fixer works on, and what a
    check reports (``result``, before the project pass)."""
    tree: cst.Module
    model: ModuleModel
    found: list  # (rule class, Finding), in rule order
    positions: dict  # id(finding.node) -> (start, end)
    result: FileResult


def _analyze(source: bytes | str, path: str, settings: Settings,
             codes: Optional[Iterable[str]], apply_noqa: bool, module: Optional[str],
             fixes: bool) -> FileResult:
    analysis = analyze(source, path, settings, codes, apply_noqa, module, fixes)
    return analysis if isinstance(analysis, FileResult) else analysis.result


def analyze(source: bytes | str, path: str, settings: Settings,
            codes: Optional[Iterable[str]] = None, apply_noqa: bool = True,
            module: Optional[str] = None, fixes: bool = False,
            fresh_locks: frozenset = frozenset()) -> Union[Analysis, FileResult]:
    """Parse, model, run the rules and place the findings; a file that cannot
    be parsed or modelled gives its error result instead. ``fresh_locks``
    names the locks earlier passes of ``--fix`` added (their fixes may take
    them again)."""
    selected = tuple(codes) if codes is not None else enabled_rules(settings)
    refused = gate.check(source, settings.max_file_size)  # before libcst can crash on it
    if refused is not None:
        return _error(path, SYNTAX_ERROR, refused.message, refused.row, refused.column)
    try:
        tree = parse(source)
    except cst.ParserSyntaxError as exc:
        return _syntax_error(path, source, exc)
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
        return _error(path, IO_ERROR, f"cannot decode: {exc}")
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot parse: too deeply nested")
    inject("analyze", path)
    module = module or module_name(path)
    package = module if os.path.basename(path) == "__init__.py" else module.rpartition(".")[0]
    try:
        model = build_model(path, tree, settings.synchronizing_decorators, package)
    except RecursionError:
        return _error(path, SYNTAX_ERROR, "cannot analyse: too deeply nested")
    model.fresh_locks = fresh_locks
    result = FileResult(path, summary=summarize(model, module))
    found = [(ALL_RULES[code], f) for code in selected for f in ALL_RULES[code]().check(model)]
    found = _supersede(found, model, set(selected))
    for rule, finding in found:
        lower_in_coroutine(rule.code, finding, model)
        lower_in_setup(rule.code, finding)
    positions = compute_positions(tree, [f.node for _, f in found]) if found else {}
    analysis = Analysis(tree, model, found, positions, result)
    if not found:
        return analysis
    text = _decode(source, tree)
    suppressions = Suppressions(text) if apply_noqa else None
    ignored = settings.ignored_for(_relative(path, settings.root))
    seen = set()
    for rule, finding in found:
        start, end = positions[id(finding.node)]
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
            finding.confidence, finding.reason, extra=_extra(finding, model),
            fix=_fix_json(finding, model) if fixes else None,
        ))
    return analysis


def _fix_json(finding: Finding, model: ModuleModel) -> Optional[dict]:
    from ftlint.fixes import Fix
    from ftlint.fixes.apply import edits_json

    if not isinstance(finding.fix, Fix):
        return None
    try:
        return edits_json(model, finding.fix)
    except Exception:  # noqa: BLE001 - a fix that cannot be shown is not offered
        return None


def fix_source(source: bytes | str, path: str = "<stdin>", settings: Optional[Settings] = None,
               unsafe: bool = False, diagnostics: Optional[Iterable[Diagnostic]] = None):
    """Apply the fixes for one module's findings, proven before they are
    returned: see :mod:`ftlint.fixes.fixer`. Returns a ``FixResult``."""
    from ftlint.fixes.fixer import fix_source as _fix_source

    return _fix_source(source, path, settings, unsafe, diagnostics)


def finish(results: Sequence[FileResult], settings: Settings) -> None:
    """The project pass, then the confidence filter."""
    judge(results, settings)
    for r in results:
        shown = [d for d in r.diagnostics if d.is_error or d.confidence >= settings.min_confidence]
        r.hidden = len(r.diagnostics) - len(shown)
        r.diagnostics = shown


def judge(results: Sequence[FileResult], settings: Settings) -> None:
    """The project pass over ``results``: reachability, start-up code,
    declared thread safety, test code. Every confidence is kept. The fixer
    judges each fixed file this way, so that `--fix`, `--diff` and a check
    agree on what is reported."""
    summaries = [r.summary for r in results if r.summary is not None]
    graph = call_graph(summaries)
    threads = reachable(summaries, settings.thread_entry_points, graph)
    in_tests = [settings.is_test(_relative(r.path, settings.root)) for r in results]
    tests = frozenset(r.summary.module for r, test in zip(results, in_tests)
                      if test and r.summary is not None)
    startup = startup_only(summaries, threads, tests, graph)
    containers = locking_containers(summaries)
    owners = thread_owners(summaries, settings.thread_entry_points, graph)
    for r, in_test in zip(results, in_tests):
        if r.summary is not None:
            try:
                r.diagnostics = apply_project(r.diagnostics, r.summary, threads,
                                              settings.not_thread_safe, startup, containers,
                                              owners)
            except Exception as exc:  # noqa: BLE001 - one file never ends a run
                r.diagnostics, r.error = internal_error(r.path, exc).diagnostics, True
        if settings.test_code != "report" and in_test:
            r.diagnostics = _in_test_code(r.diagnostics, settings.test_code)


def _in_test_code(diagnostics: list[Diagnostic], mode: str) -> list[Diagnostic]:
    """pytest runs tests one after another: a race there needs a parallel
    runner, so findings are at most low (or dropped with ``ignore``)."""
    kept = []
    for d in diagnostics:
        if not d.is_error:
            if mode == "ignore":
                continue
            if d.confidence > Confidence.LOW:
                d.confidence = Confidence.LOW
                d.reason = (f"{d.reason}; lowered: test code, which pytest runs one test at "
                            "a time (test-code = \"report\" keeps it)")
        kept.append(d)
    return kept


def lint_source(
    source: bytes | str,
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    codes: Optional[Iterable[str]] = None,
    apply_noqa: bool = True,
) -> FileResult:
    """Check one module's source on its own. Never raises for bad input."""
    settings = settings or Settings()
    result = analyze_source(source, path, settings, codes, apply_noqa)
    finish([result], settings)
    return result


def lint_file(path: str, settings: Settings, codes: Sequence[str],
              fixes: bool = False) -> FileResult:
    try:
        data = read_source(path)
    except OSError as exc:
        return _error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
    return analyze_source(data, path, settings, codes, fixes=fixes)


def _relative(path: str, root: str) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


# Long implicit string concatenations (pydoc_data/topics.py) nest thousands of
# nodes deep, and libcst's visitors recurse.
RECURSION_LIMIT = 20_000


def _raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        # Process-wide on purpose: raised once, before any worker starts.
        sys.setrecursionlimit(RECURSION_LIMIT)  # noqa: FT302


def _executor(jobs: int) -> Executor:
    # libcst's parser holds the GIL; on a free-threaded build threads scale.
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return ThreadPoolExecutor(jobs)
    # Imported here: multiprocessing costs start-up time, and small runs
    # (a pre-commit hook's few files) never need it.
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, initializer=_raise_recursion_limit)


def lint_paths(paths: Sequence[str], settings: Settings, jobs: Optional[int] = None,
               fixes: bool = False,
               on_result: Optional[Callable[[FileResult], None]] = None) -> Report:
    """Check files and directories. ``on_result`` sees each file's result as
    it arrives (the command line reports internal errors at once)."""
    files = [str(p) for p in discover(paths, settings)]
    codes = enabled_rules(settings)
    jobs = jobs or os.cpu_count() or 1
    _raise_recursion_limit()
    report = Report()
    work = functools.partial(lint_file, settings=settings, codes=codes, fixes=fixes)
    if jobs > 1 and len(files) >= 16:
        results = _map_isolated(work, files, min(jobs, len(files)))
    else:
        results = map(work, files)
    for result in results:
        if on_result is not None:
            on_result(result)
        report.files.append(result)
    return _finished(report, settings)


def _finished(report: Report, settings: Settings) -> Report:
    """Keep a copy of each file's own result, then run the project pass."""
    report.raw = [replace(r, diagnostics=copy.deepcopy(r.diagnostics)) for r in report.files]
    finish(report.files, settings)
    return report


def relint(report: Report, settings: Settings, changed: dict[str, Optional[FileResult]],
           fixes: bool = False) -> Report:
    """``report`` again after the files in ``changed`` were rewritten (by
    ``--fix``): those are checked again, unless ``changed`` holds the result
    of checking what was written, and the others keep their own results;
    then the project pass runs over all. The same report as a full new run,
    at the cost of the changed files."""
    codes = enabled_rules(settings)

    def again(r: FileResult) -> FileResult:
        if r.path not in changed:
            return replace(r, diagnostics=copy.deepcopy(r.diagnostics))
        known = changed[r.path]
        if known is not None and not fixes:
            return replace(known, diagnostics=copy.deepcopy(known.diagnostics))
        return lint_file(r.path, settings, codes, fixes=fixes)

    return _finished(Report([again(r) for r in report.raw]), settings)


def _map_isolated(work: Callable[[str], FileResult], files: list[str],
                  jobs: int) -> Iterator[FileResult]:
    """``map(work, files)`` on a pool of ``jobs`` workers, where a worker that
    dies (a crash in native code) costs one file, not the run: after a crash
    the unfinished files are retried one at a time until the file that kills
    its worker is found; it becomes an FT000 finding and the rest go back to
    the full pool. Results come in the order of ``files``."""
    from concurrent.futures.process import BrokenProcessPool

    pending = list(files)
    suspect = False  # after a crash, run one file at a time to find the culprit
    while pending:
        with _executor(1 if suspect else jobs) as pool:
            futures = [pool.submit(work, f) for f in pending]
            done = 0
            try:
                for future in futures:
                    result = future.result()
                    done += 1
                    yield result
            except BrokenProcessPool:
                pass
        if done == len(pending):
            return
        if suspect:  # one worker, in order: the first unfinished file killed it
            yield _error(pending[done], INTERNAL_ERROR,
                         "internal error: the process checking this file died "
                         "(a crash in native code, such as the parser)")
            done += 1
        suspect = not suspect
        pending = pending[done:]
