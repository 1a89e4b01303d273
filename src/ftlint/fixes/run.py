"""Fix the files of a report: what ``ftlint --fix`` and ``--diff`` do.

Returns data; the command line decides what to print.
"""

from __future__ import annotations

import difflib
import functools
import io
import os
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ftlint.config import Resolver, Settings
from ftlint.fileio import WriteRefused, real_roots, write_atomic
from ftlint.fixes.fixer import FixResult, fix_source
from ftlint.fixes.formatter import Formatting


@dataclass
class FileFix:
    path: str
    result: FixResult
    diff: str = ""
    # Why the file was not written: it could not be read or written, ftlint
    # refused to write it ("left unchanged: ...") or failed on it ("internal error").
    error: Optional[str] = None

    @property
    def checked(self):
        """The check of what was written, before the project pass, when the
        fixer has it and nothing (the formatter) changed the code after it."""
        return self.result.checked if self.changed else None

    @property
    def changed(self) -> bool:
        return self.error is None and self.result.changed


def unified_diff(path: str, old: bytes, new: bytes, encoding: str) -> str:
    try:
        a, b = old.decode(encoding), new.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        a, b = old.decode("latin-1"), new.decode("latin-1")
    lines = difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                 fromfile=path, tofile=path)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def fix_files(report, settings: Union[Settings, Resolver], unsafe: bool = False,
              write: bool = True,
              roots: Optional[Sequence[str]] = None,
              note: Optional[Callable[[str], None]] = None,
              jobs: Optional[int] = None) -> list[FileFix]:
    """Fix every file of ``report`` with a finding; write only proven results.

    With ``roots`` (the checked PATHS), a file whose real path lies outside
    them is never written. A failure on one file is that file's ``error``;
    the other files are still fixed. A fixed file that was clean under the
    project's formatter goes through it (``format-fixes``); ``note`` hears
    once about a formatter that is configured but not installed. The files
    are fixed on ``jobs`` workers (default: the CPUs), as they are checked.
    With a Resolver, each file is fixed with its own settings."""
    from ftlint.results import FileResult
    from ftlint.workers import run

    allowed = real_roots(roots) if roots is not None else None
    resolver = Resolver.of(settings)
    formattings: dict[int, Optional[Formatting]] = {}

    def formatting_of(own: Settings) -> Optional[Formatting]:
        if id(own) not in formattings:
            formattings[id(own)] = Formatting(note, own) if own.format_fixes else None
        return formattings[id(own)]

    out: list[FileFix] = []
    tasks = []
    for file in report.files:
        wanted = [d for d in file.diagnostics if not d.is_error]
        if file.error or not wanted:
            continue
        try:
            data = Path(file.path).read_bytes()
        except OSError as exc:
            out.append(FileFix(file.path, FixResult(b""), error=f"cannot read: {exc.strerror or exc}"))
            continue
        tasks.append((file.path, data, wanted, resolver.for_file(file.path)))
    # The project's other files count in the fixer's project pass: their
    # summaries, without their findings.
    project = [FileResult(f.path, summary=f.summary) for f in report.files]
    work = functools.partial(_fix_one, unsafe=unsafe, project=project)
    # A fix costs seconds where a check costs milliseconds: a pool pays
    # from two files on.
    results = run(work, tasks, jobs or os.cpu_count() or 1, name=lambda task: task[0],
                   size=lambda task: len(task[1]), pool_from=2)
    done: dict[int, object] = dict(results)
    for index, (path, data, _, own) in enumerate(tasks):
        formatting = formatting_of(own)
        result = done[index]
        if isinstance(result, str):  # the fixer itself failed on this file
            out.append(FileFix(path, FixResult(data), error=result))
            continue
        if not isinstance(result, FixResult):  # the worker died: an FT000 result
            message = result.diagnostics[0].message if result.diagnostics else "internal error"
            out.append(FileFix(path, FixResult(data), error=f"{message}, left unchanged"))
            continue
        try:
            if result.changed and formatting is not None:
                formatted = formatting.format(path, data, result.new_source)
                if formatted != result.new_source:
                    result = replace(result, new_source=formatted, checked=None)
            fixed = FileFix(path, result)
            if result.changed:
                encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
                fixed.diff = unified_diff(path, data, result.new_source, encoding)
        except Exception as exc:  # noqa: BLE001 - one file's failure is that file's error
            out.append(FileFix(path, FixResult(data), error=(
                f"internal error while fixing, left unchanged: {type(exc).__name__}: {exc}")))
            continue
        if result.changed and write:
            try:
                write_atomic(path, result.new_source, allowed, expected=data)
            except WriteRefused as exc:
                fixed.error = f"left unchanged: {exc}"
            except OSError as exc:
                fixed.error = f"cannot write: {exc.strerror or exc}"
        out.append(fixed)
    order = {f.path: i for i, f in enumerate(report.files)}
    out.sort(key=lambda f: order[f.path])
    return out


def _fix_one(task: tuple, unsafe: bool, project: list):
    """One file's fix, in a worker: the FixResult, or why the fixer failed."""
    path, data, wanted, settings = task
    others = [r for r in project if r.path != path]
    try:
        return fix_source(data, path, settings, unsafe, wanted, others=others)
    except Exception as exc:  # noqa: BLE001 - one file's failure is that file's error
        return f"internal error while fixing, left unchanged: {type(exc).__name__}: {exc}"
