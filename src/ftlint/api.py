"""The small API every front-end uses: ``lint_source`` and ``lint_paths``.

Per-file work (:mod:`ftlint.engine`) is a pure function of (bytes, path,
settings): it keeps no global state, so files can be spread over processes
(or threads, on a free-threaded interpreter) and cached by content hash
(:mod:`ftlint.cache`). This module imports neither libcst nor the rules: a
run answered from the cache never loads the parser.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence, Union

from ftlint.config import Settings
from ftlint.diagnostics import INTERNAL_ERROR, IO_ERROR, Confidence, Diagnostic, Location
from ftlint.discovery import discover, read_source
from ftlint.project import (
    ModuleSummary, apply as apply_project, call_graph, locking_containers, module_name,
    reachable, startup_only, thread_owners,
)
from ftlint.rules.catalog import default_states

if TYPE_CHECKING:
    from ftlint.cache import Cache


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


def judge(results: Sequence[FileResult], settings: Settings,
          others: Sequence[FileResult] = ()) -> None:
    """The project pass over ``results``: reachability, start-up code,
    declared thread safety, test code. Every confidence is kept. ``others``
    are the project's other files, whose summaries count and whose
    diagnostics are left alone: the fixer judges each fixed file this way,
    so that `--fix`, `--diff` and a check agree on what is reported."""
    everything = [*results, *others]
    summaries = [r.summary for r in everything if r.summary is not None]
    graph = call_graph(summaries)
    threads = reachable(summaries, settings.thread_entry_points, graph)
    in_tests = [settings.is_test(_relative(r.path, settings.root)) for r in everything]
    tests = frozenset(r.summary.module for r, test in zip(everything, in_tests)
                      if test and r.summary is not None)
    startup = startup_only(summaries, threads, tests, graph)
    containers = locking_containers(summaries)
    owners = thread_owners(summaries, settings.thread_entry_points, graph)
    for r, in_test in zip(results, in_tests):  # the first len(results) of them
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
    from ftlint.engine import analyze_source

    result = analyze_source(source, path, settings, codes, apply_noqa)
    finish([result], settings)
    return result


def lint_file(path: str, settings: Settings, codes: Sequence[str],
              fixes: Union[bool, Confidence] = False) -> FileResult:
    try:
        data = read_source(path)
    except OSError as exc:
        return _error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
    return lint_data((path, data, None), settings, codes, fixes)


def lint_data(item: tuple[str, bytes, Optional[str]], settings: Settings, codes: Sequence[str],
              fixes: Union[bool, Confidence] = False) -> FileResult:
    """Per-file work on bytes already read: ``item`` is (path, bytes, module
    name or None)."""
    from ftlint.engine import analyze_source

    path, data, module = item
    return analyze_source(data, path, settings, codes, fixes=fixes, module=module)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


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
               on_result: Optional[Callable[[FileResult], None]] = None,
               cache: Optional[Cache] = None,
               progress: Optional[Callable[[int, int], None]] = None) -> Report:
    """Check files and directories. ``on_result`` sees each file's result as
    it arrives (the command line reports internal errors at once). With a
    ``cache``, files whose bytes, module and settings are unchanged since it
    was written are not analysed again (libcst is not even imported if none
    changed); the project pass always runs over all of them.

    With ``fixes`` (JSON output), the diagnostics shown carry their fixes.
    Building a fix costs code generation, so the files are analysed with the
    fixes of the findings that may be shown (at ``min-confidence`` or above
    before the project pass); a finding the project pass raises into view
    gets its fix from a second analysis of its file. ``progress`` is told
    (files done, files in all) as results arrive."""
    files = [str(p) for p in discover(paths, settings)]
    codes = enabled_rules(settings)
    jobs = jobs or os.cpu_count() or 1
    some_fixes = settings.min_confidence if fixes else False
    if cache is None:
        work = functools.partial(lint_file, settings=settings, codes=codes, fixes=some_fixes)
        results = _run(work, files, jobs, name=str, size=_file_size)
    else:
        results = _cached(files, settings, codes, some_fixes, jobs, cache)
    placed: list[Optional[FileResult]] = [None] * len(files)
    for done, (index, result) in enumerate(results, 1):
        if on_result is not None:
            on_result(result)
        placed[index] = result
        if progress is not None:
            progress(done, len(files))
    return _finished(Report([r for r in placed if r is not None]), settings, fixes)


def _run(work: Callable, items: list, jobs: int, name: Callable,
         size: Callable, pool_from: int = 16) -> Iterator[tuple[int, FileResult]]:
    """(index, ``work(item)``) for each of ``items``, on ``jobs`` workers
    for a run of ``pool_from`` items or more. The largest go first: the last
    file to finish is then a small one, so both workers stay busy to the end
    of the run."""
    _raise_recursion_limit()
    if jobs <= 1 or len(items) < max(pool_from, 2):
        return enumerate(map(work, items))
    order = sorted(range(len(items)), key=lambda i: -size(items[i]))
    return zip(order, _map_isolated(work, [items[i] for i in order], min(jobs, len(items)),
                                    name))


def _cached(files: list[str], settings: Settings, codes: tuple[str, ...],
            fixes: Union[bool, Confidence],
            jobs: int, cache: Cache) -> Iterator[tuple[int, FileResult]]:
    """(index, result) for each of ``files``: from ``cache`` where its entry
    is still good, else analysed (then stored)."""
    from ftlint.cache import content_hash

    todo: list[tuple[int, str, bytes, str, bytes]] = []
    packages: dict[str, tuple[str, ...]] = {}
    for index, path in enumerate(files):
        try:
            data = read_source(path)
        except OSError as exc:
            yield index, _error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
            continue
        module = module_name(path, packages)
        digest = content_hash(data)
        hit = cache.get(path, module, digest)
        if hit is not None:
            yield index, hit
        else:
            todo.append((index, path, data, module, digest))
    work = functools.partial(lint_data, settings=settings, codes=codes, fixes=fixes)
    fresh = _run(work, [(path, data, module) for _, path, data, module, _ in todo], jobs,
                 name=lambda item: item[0], size=lambda item: len(item[1]))
    for position, result in fresh:
        index, path, _, module, digest = todo[position]
        cache.put(path, module, digest, result)
        yield index, result


def _finished(report: Report, settings: Settings, fixes: bool = False) -> Report:
    """Keep a copy of each file's own result, then run the project pass (and,
    with ``fixes``, build the fixes still missing from what is shown)."""
    report.raw = [replace(r, diagnostics=copy.deepcopy(r.diagnostics)) for r in report.files]
    finish(report.files, settings)
    if fixes:
        _complete_fixes(report, settings)
    return report


def _complete_fixes(report: Report, settings: Settings) -> None:
    """The fixes of shown findings that were analysed without them."""
    codes = enabled_rules(settings)
    for result in report.files:
        pending = {(d.code, d.start, d.end): d for d in result.diagnostics if d.fix_pending}
        if not pending:
            continue
        again = lint_file(result.path, settings, codes, fixes=True)
        for d in again.diagnostics:
            shown = pending.get((d.code, d.start, d.end))
            if shown is not None:
                shown.fix, shown.fix_pending = d.fix, False


def relint(report: Report, settings: Settings, changed: dict[str, Optional[FileResult]],
           fixes: bool = False) -> Report:
    """``report`` again after the files in ``changed`` were rewritten (by
    ``--fix``): those are checked again, unless ``changed`` holds the result
    of checking what was written, and the others keep their own results;
    then the project pass runs over all. The same report as a full new run,
    at the cost of the changed files."""
    codes = enabled_rules(settings)
    some_fixes = settings.min_confidence if fixes else False

    def again(r: FileResult) -> FileResult:
        if r.path not in changed:
            return replace(r, diagnostics=copy.deepcopy(r.diagnostics))
        known = changed[r.path]
        if known is not None and not fixes:
            return replace(known, diagnostics=copy.deepcopy(known.diagnostics))
        return lint_file(r.path, settings, codes, fixes=some_fixes)

    return _finished(Report([again(r) for r in report.raw]), settings, fixes)


def _map_isolated(work: Callable, files: list, jobs: int,
                  name: Callable = str) -> Iterator[FileResult]:
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
            yield _error(name(pending[done]), INTERNAL_ERROR,
                         "internal error: the process checking this file died "
                         "(a crash in native code, such as the parser)")
            done += 1
        suspect = not suspect
        pending = pending[done:]
