"""``ftlint deps --available``: before anything is installed, ask the package
index what the declared requirements would install on a free-threaded
target, and whether that is a free-threaded wheel.

Only the direct requirements are looked up: resolving what they require in
turn would mean reading every candidate's metadata, which is pip's job.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ftlint.deps.index import IndexConfig, ProjectFiles, index_config, load_client, project_files
from ftlint.deps.model import DepsError
from ftlint.deps.releases import Availability, Choice, choose
from ftlint.deps.requirements import (
    Declared, find_pyproject, read_pyproject, read_requirements_file,
)
from ftlint.deps.target import Target, build_target

# Index requests run in parallel: they wait on the network, not the CPU.
MAX_REQUESTS = 8


@dataclass(frozen=True)
class AvailableOptions:
    requirements: Optional[Path] = None
    project: Optional[Path] = None
    target: str = "3.14t"
    platforms: tuple[str, ...] = ()
    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    timeout: float = 30.0


@dataclass(frozen=True)
class Checked:
    """One requirement and what the index offers the target for it."""

    requirement: str
    name: str
    source: str
    choice: Choice

    @property
    def verdict(self) -> Availability:
        return self.choice.verdict


@dataclass
class AvailableReport:
    target: Target
    index: IndexConfig
    sources: list[str]
    entries: list[Checked] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not looked up, and why
    warnings: list[str] = field(default_factory=list)

    def with_verdict(self, verdict: Availability) -> list[Checked]:
        return [e for e in self.entries if e.verdict is verdict]


def declared_inputs(options: AvailableOptions) -> list[Declared]:
    """--requirements FILE; else the static [project] dependencies of the
    nearest pyproject.toml; else the requirements*.txt files beside it (or in
    the current directory)."""
    if options.requirements is not None:
        return [read_requirements_file(options.requirements)]
    if options.project is not None and not options.project.is_dir():
        raise DepsError(f"--project {options.project}: not a directory")
    start = options.project or Path.cwd()
    pyproject = find_pyproject(start)
    if pyproject is not None:
        declared = read_pyproject(pyproject)
        if declared is not None:
            return [declared]
    root = pyproject.parent if pyproject is not None else start.resolve()
    files = sorted(p for p in root.glob("requirements*.txt") if p.is_file())
    if not files:
        raise DepsError(f"nothing to check: no static [project] dependencies in a "
                        f"pyproject.toml and no requirements*.txt in {_shown(root)}; "
                        "name a requirements file with -r")
    return [read_requirements_file(Path(_shown(f))) for f in files]


def _shown(path: Path) -> str:
    """A path relative to the current directory when it is below it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def _applies(req: Requirement, target: Target) -> bool:
    if req.marker is None:
        return True
    try:
        return bool(req.marker.evaluate(target.marker_environment))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # cannot tell: look it up rather than silently drop it


def run_available(options: AvailableOptions) -> AvailableReport:
    target = build_target(options.target, options.platforms)  # bad input fails first
    inputs = declared_inputs(options)
    load_client()
    config = index_config(options.index_url, options.extra_index_urls)
    report = AvailableReport(target, config, [d.source for d in inputs])
    todo: list[tuple[Requirement, str]] = []
    seen: set[str] = set()
    for declared in inputs:
        report.skipped += declared.skipped
        for req in declared.requirements:
            text = str(req)
            if text in seen:
                continue
            seen.add(text)
            if req.url:
                report.skipped.append(f"{text}: a direct URL, not looked up on the index")
            elif not _applies(req, target):
                report.skipped.append(f"{text}: its marker excludes {target.describe()}")
            else:
                todo.append((req, declared.source))
    names = list(dict.fromkeys(canonicalize_name(req.name) for req, _ in todo))
    pages: dict[str, ProjectFiles] = {}
    if names:
        with ThreadPoolExecutor(max_workers=min(MAX_REQUESTS, len(names))) as pool:
            fetched = pool.map(lambda n: _fetch(n, config, options.timeout), names)
            pages = dict(zip(names, fetched))
    for req, source in todo:
        choice = _judge(req, pages[canonicalize_name(req.name)], target, config)
        report.entries.append(Checked(str(req), req.name, source, choice))
    return report


def _fetch(name: str, config: IndexConfig, timeout: float) -> ProjectFiles:
    try:
        return project_files(name, config, timeout)
    except Exception as exc:  # one project's surprise must not end the run
        return ProjectFiles(name, errors=[f"internal error: {type(exc).__name__}: {exc}"])


def _judge(req: Requirement, page: ProjectFiles, target: Target,
           config: IndexConfig) -> Choice:
    if page.errors:
        return Choice(Availability.ERROR, "; ".join(page.errors))
    if not page.found_on:
        where = ", ".join(config.shown())
        return Choice(Availability.NOT_INSTALLABLE, f"no project of that name on {where}",
                      next_step="check the name, or the index (--index-url)")
    try:
        return choose(req, page.files, target)
    except Exception as exc:
        return Choice(Availability.ERROR, f"internal error: {type(exc).__name__}: {exc}")
