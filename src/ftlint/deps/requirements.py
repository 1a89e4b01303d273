"""What a project declares (requirements.txt or ``[project] dependencies``) and
which installed distributions that pulls in."""

from __future__ import annotations

import re
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from ftlint.deps.model import DepsError, Distribution, Missing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

# The option lines that concern us: includes we follow and editables we
# report. Other options (--index-url, -c constraints, ...) name no dependency.
_OPTION = re.compile(r"(-r|--requirement|-e|--editable)(?:\s*=\s*|\s+|(?=[^-]))(\S+)")
# pip's own comment syntax: '#' at the start or after whitespace.
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass
class Declared:
    source: str
    requirements: list[Requirement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # lines we could not judge


def read_requirements_file(path: Path, _seen: Optional[set[Path]] = None) -> Declared:
    """Parse a pip requirements file, following ``-r`` includes."""
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return Declared(str(path))  # an include cycle: pip would loop, we stop
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DepsError(f"cannot read requirements file {path}: {reason}") from None
    declared = Declared(str(path))
    for lineno, line in _logical_lines(text):
        where = f"{path}:{lineno}"
        if line.startswith("-"):
            option = _OPTION.match(line)
            if option and option.group(1) in ("-r", "--requirement"):
                included = read_requirements_file(path.parent / option.group(2), seen)
                declared.requirements += included.requirements
                declared.skipped += included.skipped
            elif option:
                declared.skipped.append(f"{where}: editable '{option.group(2)}' not audited")
            continue
        try:
            declared.requirements.append(Requirement(line))
        except InvalidRequirement as exc:
            if _looks_like_path_or_url(line):
                declared.skipped.append(f"{where}: '{line}' is a path or URL, not a name")
                continue
            raise DepsError(f"{where}: invalid requirement '{line}': {exc}") from None
    return declared


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines without comments, with backslash continuations joined, as pip does."""
    result: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw).strip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            # Per-requirement options such as '--hash=...' may follow the name.
            result.append((start, line.split(" --", 1)[0].strip()))
    if pending.strip():
        result.append((start, pending.strip()))
    return result


def _looks_like_path_or_url(line: str) -> bool:
    return line.startswith((".", "/", "~")) or "://" in line or "\\" in line or line.endswith(
        (".whl", ".tar.gz", ".zip"))


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml at or above ``start``: the project's root."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject(path: Path) -> Optional[Declared]:
    """``[project] dependencies``, or None when the file does not declare them
    statically (no [project] table, or dependencies listed under dynamic)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise DepsError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DepsError(f"invalid TOML in {path}: {exc}") from None
    project = data.get("project")
    if not isinstance(project, dict) or "dependencies" not in project:
        return None
    deps = project["dependencies"]
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise DepsError(f"{path}: [project] dependencies must be a list of strings")
    declared = Declared(str(path))
    for text in deps:
        try:
            declared.requirements.append(Requirement(text))
        except InvalidRequirement as exc:
            raise DepsError(f"{path}: invalid dependency '{text}': {exc}") from None
    return declared


def _applies(req: Requirement, environment: Mapping[str, str], extras: Iterable[str]) -> bool:
    """Whether ``req`` is needed when its parent is installed with ``extras``
    ('' standing for the parent without extras)."""
    if req.marker is None:
        return True
    try:
        return any(req.marker.evaluate({**environment, "extra": e}) for e in extras)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # cannot tell: audit it rather than silently drop it


def _satisfied(req: Requirement, version: str) -> bool:
    try:
        return req.specifier.contains(version, prereleases=True)
    except InvalidVersion:
        return True  # a legacy version string: cannot compare, do not accuse


def resolve(declared: Declared, installed: Mapping[str, Distribution],
            environment: Mapping[str, str]) -> tuple[dict[str, str], list[Missing]]:
    """Walk from the declared requirements through the installed metadata.

    Returns the audited distributions (canonical name -> what required it) and
    the requirements the environment does not satisfy. Markers are evaluated
    with the audited interpreter's values, extras are followed.
    """
    selected: dict[str, str] = {}
    missing: list[Missing] = []
    done: set[tuple[str, str]] = set()  # (distribution, extra) pairs already expanded
    queue = deque((req, declared.source) for req in declared.requirements
                  if _applies(req, environment, [""]))
    while queue:
        req, parent = queue.popleft()
        key = canonicalize_name(req.name)
        dist = installed.get(key)
        if dist is None or not _satisfied(req, dist.version):
            problem = Missing(str(req), parent, dist.version if dist else None)
            if problem not in missing:
                missing.append(problem)
            if dist is None:
                continue
        selected.setdefault(key, parent)
        extras = {canonicalize_name(e) for e in req.extras}
        todo = [e for e in ("", *sorted(extras)) if (key, e) not in done]
        if not todo:
            continue
        done.update((key, e) for e in todo)
        for text in dist.requires:
            try:
                sub = Requirement(text)
            except InvalidRequirement:
                continue  # broken metadata of an installed package is not ours to judge
            # When only new extras are expanded, take just what those add.
            if _applies(sub, environment, todo) and (
                    "" in todo or not _applies(sub, environment, [""])):
                queue.append((sub, dist.name))
    return selected, missing
