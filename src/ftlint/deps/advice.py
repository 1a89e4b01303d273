"""Next steps for the installed audit: for a distribution that re-enables the
GIL (or cannot be verified and has no free-threaded wheel tag), ask the
package index pip is configured with whether a newer release ships a
free-threaded wheel for the audited interpreter, as ``--available`` does.

Advice is a bonus: an index that cannot be read, or pypi-simple not being
installed, never changes a verdict or the exit code.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Optional

from packaging import markers

from ftlint.deps.available import MAX_REQUESTS, _fetch
from ftlint.deps.index import ProjectFiles, index_config, load_client
from ftlint.deps.model import DepsError, Entry, Interpreter, Report, Verdict
from ftlint.deps.releases import upgrade_step
from ftlint.deps.target import Target, build_target

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def needs_advice(entry: Entry) -> bool:
    """Re-enables the GIL, or is unknown with extension modules and no
    free-threaded wheel tag (not one built here from source either)."""
    if entry.verdict is Verdict.GIL_RE_ENABLING:
        return True
    return (entry.verdict is Verdict.UNKNOWN and bool(entry.dist.extension_modules)
            and not entry.free_threaded_tags)


def interpreter_target(interpreter: Interpreter) -> Optional[Target]:
    """The audited interpreter as an install target (3.13t on this machine's
    platform tags); None for a GIL build, or one that runs on another
    platform than ftlint (whose platform tags ftlint cannot list)."""
    if not interpreter.free_threaded or interpreter.implementation != "CPython":
        return None
    found = _VERSION.match(interpreter.version)
    if not found:
        return None
    here = markers.default_environment()
    theirs = interpreter.marker_environment
    if any(theirs.get(key) != here[key] for key in ("sys_platform", "platform_machine")):
        return None
    try:
        return build_target(f"{found.group(1)}.{found.group(2)}.{found.group(3) or 0}t", ())
    except DepsError:
        return None


def add_next_steps(report: Report, timeout: float) -> Report:
    """The report with a next step on each entry a newer release would fix;
    ``report.index_problem`` says why none could be found, if the index
    could not be read. Index requests run in parallel, one per project."""
    target = interpreter_target(report.interpreter)
    todo = [i for i, e in enumerate(report.entries) if needs_advice(e)]
    if target is None or not todo:
        return report
    try:
        load_client()
    except DepsError:
        return replace(report, index_problem="not looked up: pypi-simple is not installed "
                       "(pip install 'ftlint[index]'; --no-index skips the lookups)")
    try:
        config = index_config(None, ())
    except DepsError as exc:
        return replace(report, index_problem=f"the package index could not be read ({exc})")
    names = list(dict.fromkeys(report.entries[i].dist.name for i in todo))
    with ThreadPoolExecutor(max_workers=min(MAX_REQUESTS, len(names))) as pool:
        pages: dict[str, ProjectFiles] = dict(
            zip(names, pool.map(lambda n: _fetch(n, config, timeout), names)))
    entries = list(report.entries)
    problems: list[str] = []
    for i in todo:
        entry = entries[i]
        page = pages[entry.dist.name]
        problems += page.errors
        try:
            step = upgrade_step(entry.dist.name, entry.dist.version, page.files, target)
        except Exception:  # one project's odd page or name: no advice for it
            step = None
        if step is not None:
            entries[i] = replace(entry, next_step=step)
    problem = ("the package index could not be read (" + "; ".join(dict.fromkeys(problems))
               + ")") if problems else None
    return replace(report, entries=entries, index_problem=problem)
