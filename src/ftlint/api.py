"""The small API every front-end uses: ``lint_source`` and ``lint_paths``.

Per-file work (:mod:`ftlint.engine`) is a pure function of (bytes, path,
settings): it keeps no global state, so files can be spread over processes
(or threads, on a free-threaded interpreter) and cached by content hash
(:mod:`ftlint.cache`). This module imports neither libcst nor the rules: a
run answered from the cache never loads the parser.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence, Union

from ftlint.config import Resolver, Settings
from ftlint.diagnostics import IO_ERROR, Confidence, Diagnostic
from ftlint.discovery import discover, read_source
from ftlint.project import finish, judge, module_name, withdraw_forked
from ftlint.results import FileResult, Report, enabled_rules, file_error, internal_error
from ftlint.workers import run

__all__ = ["FileResult", "Report", "enabled_rules", "finish", "fix_source", "internal_error",
           "judge", "lint_data", "lint_file", "lint_paths", "lint_source", "relint"]

if TYPE_CHECKING:
    from ftlint.cache import Cache


def fix_source(source: bytes | str, path: str = "<stdin>", settings: Optional[Settings] = None,
               unsafe: bool = False, diagnostics: Optional[Iterable[Diagnostic]] = None):
    """Apply the fixes for one module's findings, proven before they are
    returned: see :mod:`ftlint.fixes.fixer`. Returns a ``FixResult``."""
    from ftlint.fixes.fixer import fix_source as _fix_source

    return _fix_source(source, path, settings, unsafe, diagnostics)


def lint_source(
    source: bytes | str,
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    codes: Optional[Iterable[str]] = None,
    apply_noqa: bool = True,
    fixes: bool = False,
    module: Optional[str] = None,
    others: Sequence[FileResult] = (),
    marks: bool = False,
    tree: Optional[object] = None,
) -> FileResult:
    """Check one module's source; with ``fixes``, build the fix of each
    finding shown, as JSON output needs. ``others`` are results of the
    project's other files (their summaries are enough): thread reachability
    is then followed across modules, as in a run over the project, for which
    ``module`` must be the module's dotted name. ``tree`` is ``source``
    already parsed by libcst, if it is. Never raises for bad input."""
    settings = settings or Settings()
    from ftlint.engine import analyze_source

    result = analyze_source(source, path, settings, codes, apply_noqa, module=module,
                            fixes=fixes, marks=marks, tree=tree)
    finish([result], settings, others)
    return result


def lint_file(path: str, settings: Settings, codes: Sequence[str],
              fixes: Union[bool, Confidence] = False,
              marks: Union[bool, Confidence] = False) -> FileResult:
    try:
        data = read_source(path)
    except OSError as exc:
        return file_error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
    return lint_data((path, data, None), settings, codes, fixes, marks)


def lint_data(item: tuple[str, bytes, Optional[str]], settings: Settings, codes: Sequence[str],
              fixes: Union[bool, Confidence] = False,
              marks: Union[bool, Confidence] = False) -> FileResult:
    """Per-file work on bytes already read: ``item`` is (path, bytes, module
    name or None)."""
    from ftlint.engine import analyze_source

    path, data, module = item
    return analyze_source(data, path, settings, codes, fixes=fixes, module=module, marks=marks)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def lint_paths(paths: Sequence[str], settings: Union[Settings, Resolver],
               jobs: Optional[int] = None,
               fixes: bool = False,
               on_result: Optional[Callable[[FileResult], None]] = None,
               cache: Optional[Cache] = None,
               progress: Optional[Callable[[int, int], None]] = None,
               marks: bool = False) -> Report:
    """Check files and directories. ``settings`` is one Settings for every
    file, or a :class:`Resolver` that gives each file its own (its nearest
    configuration). ``on_result`` sees each file's result as
    it arrives (the command line reports internal errors at once). With a
    ``cache``, files whose bytes, module and settings are unchanged since it
    was written are not analysed again (libcst is not even imported if none
    changed); the project pass always runs over all of them.

    With ``fixes`` (JSON output), the diagnostics shown carry their fixes.
    Building a fix costs code generation, so the files are analysed with the
    fixes of the findings that may be shown (at ``min-confidence`` or above
    before the project pass); a finding the project pass raises into view
    gets its fix from a second analysis of its file. ``marks`` (text output)
    says the same way which findings have a fix, without building its code.
    ``progress`` is told (files done, files in all) as results arrive."""
    resolver = Resolver.of(settings)
    files = [str(p) for p in discover(paths, resolver)]
    jobs = jobs or os.cpu_count() or 1
    groups = _Groups(resolver, fixes, marks)
    items = [(path, groups.index(path)) for path in files]
    remember = None
    if cache is None:
        work = functools.partial(_lint_item, groups=groups.table)
        results = run(work, items, jobs, name=lambda item: item[0],
                      size=lambda item: _file_size(item[0]))
    else:
        entries: dict[str, tuple[str, bytes, str]] = {}
        results = _cached(items, groups, jobs, cache, entries)

        def remember(raw: FileResult) -> None:
            if raw.path in entries:
                module, digest, key = entries[raw.path]
                cache.put(raw.path, module, digest, raw, key)
    placed: list[Optional[FileResult]] = [None] * len(files)
    for done, (index, result) in enumerate(results, 1):
        if on_result is not None:
            on_result(result)
        placed[index] = result
        if progress is not None:
            progress(done, len(files))
    return _finished(Report([r for r in placed if r is not None]), resolver, fixes, marks,
                     remember)


class _Groups:
    """The distinct settings of a run's files (one, with one configuration),
    each with its rule codes and the fixes its files are analysed with."""

    def __init__(self, resolver: Resolver, fixes: bool, marks: bool = False) -> None:
        self.resolver, self.fixes, self.marks = resolver, fixes, marks
        self.table: list[tuple[Settings, tuple[str, ...], Union[bool, Confidence],
                               Union[bool, Confidence]]] = []
        self._index: dict[int, int] = {}

    def index(self, path: str) -> int:
        settings = self.resolver.for_file(path)
        found = self._index.get(id(settings))
        if found is None:
            found = self._index[id(settings)] = len(self.table)
            self.table.append((settings, enabled_rules(settings),
                               settings.min_confidence if self.fixes else False,
                               settings.min_confidence if self.marks else False))
        return found


def _lint_item(item: tuple[str, int], groups: list) -> FileResult:
    path, group = item
    settings, codes, fixes, marks = groups[group]
    return lint_file(path, settings, codes, fixes, marks)


def _lint_data_item(item: tuple[str, bytes, Optional[str], int], groups: list) -> FileResult:
    path, data, module, group = item
    settings, codes, fixes, marks = groups[group]
    return lint_data((path, data, module), settings, codes, fixes, marks)


def _cached(items: list[tuple[str, int]], groups: _Groups, jobs: int,
            cache: Cache, entries: Optional[dict] = None) -> Iterator[tuple[int, FileResult]]:
    """(index, result) for each of ``items`` (path, settings group): from
    ``cache`` where its entry is still good, else analysed (then stored).
    ``entries`` learns each file's (module, content hash, key) in the cache."""
    from ftlint.cache import content_hash

    todo: list[tuple[int, str, bytes, str, bytes, int]] = []
    packages: dict[str, tuple[str, ...]] = {}
    keys = [cache.key_for(settings, codes) for settings, codes, _, _ in groups.table]
    for index, (path, group) in enumerate(items):
        try:
            data = read_source(path)
        except OSError as exc:
            yield index, file_error(path, IO_ERROR, f"cannot read: {exc.strerror or exc}")
            continue
        module = module_name(path, packages)
        digest = content_hash(data)
        if entries is not None:
            entries[path] = (module, digest, keys[group])
        hit = cache.get(path, module, digest, keys[group])
        if hit is not None:
            yield index, hit
        else:
            todo.append((index, path, data, module, digest, group))
    work = functools.partial(_lint_data_item, groups=groups.table)
    fresh = run(work, [(path, data, module, group) for _, path, data, module, _, group in todo],
                jobs, name=lambda item: item[0], size=lambda item: len(item[1]))
    for position, result in fresh:
        index, path, _, module, digest, group = todo[position]
        cache.put(path, module, digest, result, keys[group])
        yield index, result


def _finished(report: Report, settings: Union[Settings, Resolver], fixes: bool = False,
              marks: bool = False,
              remember: Optional[Callable[[FileResult], None]] = None) -> Report:
    """Keep a copy of each file's own result, then run the project pass (and,
    with ``fixes`` or ``marks``, build the fixes still missing from what is
    shown; ``remember`` stores a file's own result that learned them)."""
    report.raw = [replace(r, diagnostics=[d.detached() for d in r.diagnostics]) for r in report.files]
    finish(report.files, settings)
    if fixes or marks:
        _complete_fixes(report, settings, fixes, remember)
    return report


def _complete_fixes(report: Report, settings: Union[Settings, Resolver],
                    fixes: bool = True,
                    remember: Optional[Callable[[FileResult], None]] = None) -> None:
    """The fixes (with ``fixes``, else only whether there is one) of shown
    findings that were analysed without them. The file's own result learns
    them too, and ``remember`` stores it: the next run that raises the same
    findings into view (every run, while nothing changes) does not analyse
    the file again."""
    resolver = Resolver.of(settings)
    raw_of = {r.path: r for r in report.raw}
    for result in report.files:
        pending = {(d.code, d.start, d.end): d for d in result.diagnostics if d.fix_pending}
        if not pending:
            continue
        own = resolver.for_file(result.path)
        again = lint_file(result.path, own, enabled_rules(own), fixes=fixes, marks=not fixes)
        if again.error:
            continue
        learned = {(d.code, d.start, d.end): d for d in again.diagnostics}
        raw = raw_of.get(result.path)
        for shown in [*pending.values(),
                      *(d for d in (raw.diagnostics if raw else ()) if d.fix_pending)]:
            d = learned.get((shown.code, shown.start, shown.end))
            if d is not None:
                shown.fix, shown.fix_pending = d.fix, False
                if "fixable" in d.extra:
                    shown.extra["fixable"] = d.extra["fixable"]
                if "process_lock" in d.extra:
                    shown.extra["process_lock"] = True
        if remember is not None and raw is not None:
            remember(raw)
    withdraw_forked(report.files, [r.summary for r in report.files if r.summary is not None])


def relint(report: Report, settings: Union[Settings, Resolver],
           changed: dict[str, Optional[FileResult]], fixes: bool = False,
           marks: bool = False) -> Report:
    """``report`` again after the files in ``changed`` were rewritten (by
    ``--fix``): those are checked again, unless ``changed`` holds the result
    of checking what was written, and the others keep their own results;
    then the project pass runs over all. The same report as a full new run,
    at the cost of the changed files."""
    resolver = Resolver.of(settings)

    def again(r: FileResult) -> FileResult:
        if r.path not in changed:
            return replace(r, diagnostics=[d.detached() for d in r.diagnostics])
        known = changed[r.path]
        if known is not None and not fixes and not marks:
            return replace(known, diagnostics=[d.detached() for d in known.diagnostics])
        own = resolver.for_file(r.path)
        return lint_file(r.path, own, enabled_rules(own),
                         fixes=own.min_confidence if fixes else False,
                         marks=own.min_confidence if marks else False)

    return _finished(Report([again(r) for r in report.raw]), resolver, fixes, marks)
