"""Which release of a project pip would install for the target, from what
the index lists, and whether that is a free-threaded wheel.

The choice follows pip: files whose tags the target does not accept, whose
requires-python excludes it, or that are yanked (PEP 592: unless the
requirement pins that version with == or ===) are not candidates; the
specifier then picks the newest version, with pre-releases only when it asks
for them or nothing else matches; within that version the wheel with the most
preferred tag wins over the sdist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Optional, Sequence

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename, InvalidWheelFilename, canonicalize_name, parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ftlint.deps.index import IndexFile
from ftlint.deps.target import Target

_GIL_ABI = re.compile(r"^cp(\d)(\d+)$")
_FT_ABI = re.compile(r"^cp(\d)(\d+)t$")


class Availability(str, Enum):
    FT_WHEEL = "ft-wheel"
    PURE_PYTHON = "pure-python"
    BUILDS_FROM_SOURCE = "builds-from-source"
    NOT_INSTALLABLE = "not-installable"
    ERROR = "error"  # the index could not be read: exit code 2


@dataclass(frozen=True)
class Candidate:
    version: Version
    filename: str
    tags: frozenset[Tag]  # empty for an sdist
    requires_python: Optional[str]
    yanked: bool
    yanked_reason: Optional[str]

    @property
    def is_wheel(self) -> bool:
        return bool(self.tags)


@dataclass(frozen=True)
class Choice:
    verdict: Availability
    evidence: str
    version: Optional[str] = None
    filename: Optional[str] = None
    tag: Optional[str] = None  # the wheel tag pip would install by
    next_step: Optional[str] = None
    upgrade: Optional[str] = None  # a requirement that gets a free-threaded wheel


def candidates(name: str, files: Iterable[IndexFile]) -> list[Candidate]:
    """The wheels and sdists of ``name`` among ``files``; other files (eggs,
    installers, unparsable or foreign names) are ignored, as pip does."""
    key = canonicalize_name(name)
    found: list[Candidate] = []
    for f in files:
        try:
            if f.filename.endswith(".whl"):
                project, version, _, tags = parse_wheel_filename(f.filename)
            else:
                project, version = parse_sdist_filename(f.filename)
                tags = frozenset()
        except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
            continue
        if project == key:
            found.append(Candidate(version, f.filename, frozenset(tags), f.requires_python,
                                   f.yanked, f.yanked_reason))
    return found


def choose(req: Requirement, files: Sequence[IndexFile], target: Target) -> Choice:
    every = candidates(req.name, files)
    rank = target.rank()
    python = Version(f"{target.version}.{target.micro}")
    pinned = any(s.operator in ("==", "===") and not s.version.endswith(".*")
                 for s in req.specifier)
    usable = [c for c in every if (pinned or not c.yanked) and _python_ok(c, python)
              and (not c.is_wheel or _best_rank(c, rank) is not None)]
    allowed = list(req.specifier.filter({c.version for c in usable}))
    if not allowed:
        step, upgrade = _advice(req, usable, None, target, rank)
        return Choice(Availability.NOT_INSTALLABLE, _why_none(req, every, python, target),
                      next_step=step, upgrade=upgrade)
    version = max(allowed)
    in_version = [c for c in usable if c.version == version]
    wheels = sorted((c for c in in_version if c.is_wheel), key=lambda c: _best_rank(c, rank))
    if wheels:
        best = wheels[0]
        tag = target.tags[_best_rank(best, rank)]  # type: ignore[index]
        if tag.split("-")[1].endswith("t"):
            verdict, evidence = Availability.FT_WHEEL, best.filename
        else:
            verdict, evidence = Availability.PURE_PYTHON, best.filename + (
                "" if tag.endswith("-any") else " (no Python ABI: no extension module)")
        return Choice(verdict, evidence + _yanked(best), str(version), best.filename, tag)
    sdist = in_version[0]
    evidence = (f"no wheel for {target.abi} on this platform "
                f"({_wheel_facts(every, version, target)}): pip would build "
                f"{sdist.filename}{_yanked(sdist)}")
    has_wheels = any(c.is_wheel and c.version == version for c in every)
    step, upgrade = _advice(req, usable, version, target, rank, has_wheels)
    return Choice(Availability.BUILDS_FROM_SOURCE, evidence, str(version), sdist.filename,
                  next_step=step, upgrade=upgrade)


def upgrade_step(name: str, installed: str, files: Sequence[IndexFile],
                 target: Target) -> Optional[str]:
    """The next step for an installed release without a free-threaded wheel:
    the --available wording ("upgrade to NAME>=X: it ships cp313t wheels")
    when a release newer than ``installed`` gets a free-threaded (or pure
    Python) wheel on ``target``; None when none does, or the version is not
    a version."""
    try:
        current = Version(installed)
    except InvalidVersion:
        return None
    rank = target.rank()
    python = Version(f"{target.version}.{target.micro}")
    usable = [c for c in candidates(name, files) if c.version > current and not c.yanked
              and _python_ok(c, python)
              and (not c.is_wheel or _best_rank(c, rank) is not None)]
    step, upgrade = _advice(Requirement(name), usable, current, target, rank)
    return step if upgrade is not None else None


def _yanked(c: Candidate) -> str:
    if not c.yanked:
        return ""
    return f" (yanked: {c.yanked_reason})" if c.yanked_reason else " (yanked)"


def _python_ok(c: Candidate, python: Version) -> bool:
    if not c.requires_python:
        return True
    try:
        return SpecifierSet(c.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a requires-python it cannot parse


def _best_rank(c: Candidate, rank: dict[str, int]) -> Optional[int]:
    found = [rank[str(t)] for t in c.tags if str(t) in rank]
    return min(found) if found else None


def _route(files: list[Candidate], rank: dict[str, int], target: Target) -> Optional[str]:
    """What pip would install from one version's usable files: 'ft', 'pure'
    or 'source'."""
    wheels = [_best_rank(c, rank) for c in files if c.is_wheel]
    best = min((r for r in wheels if r is not None), default=None)
    if best is not None:
        return "ft" if target.tags[best].split("-")[1].endswith("t") else "pure"
    return "source" if files else None


def _advice(req: Requirement, usable: list[Candidate], selected: Optional[Version],
            target: Target, rank: dict[str, int],
            has_wheels: bool = True) -> tuple[Optional[str], Optional[str]]:
    """(the next step, the requirement it suggests) when the selected release
    has no free-threaded wheel: the versions from which on every release has
    one (or is pure Python), else the newest that has one."""
    by_version: dict[Version, list[Candidate]] = {}
    for c in usable:
        by_version.setdefault(c.version, []).append(c)
    finals = sorted(v for v in by_version if not v.is_prerelease)
    versions = finals if finals and not req.specifier.prereleases else sorted(by_version)
    routes = {v: _route(by_version[v], rank, target) for v in versions}
    good = [v for v in versions if routes[v] in ("ft", "pure")]
    what = {"ft": f"ships {target.abi} wheels", "pure": "is pure Python"}
    if not good:
        pre = [v for v in sorted(by_version)
               if v.is_prerelease and _route(by_version[v], rank, target) == "ft"]
        if pre:
            suggestion = f"{req.name}=={pre[-1]}"
            return f"only pre-release {suggestion} {what['ft']}", suggestion
        if selected is None:
            return None, None
        if not has_wheels:
            return (f"build it for {target.version}t and check the result with "
                    "`ftlint deps`", None)
        return (f"no release ships {target.abi} wheels for this platform: ask upstream "
                "for them, or build it and check the result with `ftlint deps`", None)
    if routes[versions[-1]] in ("ft", "pure"):
        start = versions[-1]
        for v in reversed(versions):
            if routes[v] not in ("ft", "pure"):
                break
            start = v
        suggestion = f"{req.name}>={start}"
        verb = "upgrade to" if selected is not None and start > selected else "use"
        return f"{verb} {suggestion}: it {what[routes[start] or 'ft']}", suggestion
    newest = good[-1]
    suggestion = f"{req.name}=={newest}"
    verb = "upgrade to" if selected is not None and newest > selected else "pin"
    return (f"{verb} {suggestion}, the newest release that {what[routes[newest] or 'ft']}",
            suggestion)


def _wheel_facts(every: list[Candidate], version: Version, target: Target) -> str:
    """What wheels the version has instead, in a few words."""
    tags = [t for c in every if c.version == version and c.is_wheel for t in c.tags]
    if not tags:
        return "only an sdist, so whether it has extension modules cannot be told"
    facts = []
    other_platforms = sorted({t.platform for t in tags if t.abi == target.abi})
    if other_platforms:
        shown = ", ".join(other_platforms[:2]) + (", ..." if len(other_platforms) > 2 else "")
        facts.append(f"{target.abi} wheels for {shown} only")
    ft_other = sorted({t.abi for t in tags if _FT_ABI.match(t.abi) and t.abi != target.abi},
                      key=_abi_order)
    if ft_other:
        facts.append(f"{_abi_list(ft_other)} wheels")
    if any(t.abi == "abi3" for t in tags):
        facts.append("abi3 wheels, which free-threaded builds cannot load")
    gil = sorted({t.abi for t in tags if _GIL_ABI.match(t.abi)}, key=_abi_order)
    if gil:
        facts.append(f"GIL-build wheels for {_abi_list(gil)}")
    return "; ".join(facts) or "wheels for other interpreters only"


def _abi_order(abi: str) -> tuple[int, ...]:
    found = _GIL_ABI.match(abi.rstrip("t"))
    return (int(found.group(1)), int(found.group(2))) if found else (0,)


def _abi_list(abis: list[str]) -> str:
    return ", ".join(abis) if len(abis) <= 3 else f"{abis[0]} to {abis[-1]}"


def _why_none(req: Requirement, every: list[Candidate], python: Version,
              target: Target) -> str:
    """Why no release can be installed, in the order pip would rule them out."""
    if not every:
        return "the index lists no wheel or sdist for it"
    matching = [c for c in every if req.specifier.contains(c.version, prereleases=True)]
    if not matching:
        newest = max(c.version for c in every)
        return f"no release matches '{req.specifier}' (newest: {newest})"
    kept = [c for c in matching if not c.yanked]
    if not kept:
        newest = max(matching, key=lambda c: c.version)
        reason = f": {newest.yanked_reason}" if newest.yanked_reason else ""
        return f"every matching release is yanked (newest: {newest.version}{reason})"
    fitting = [c for c in kept if _python_ok(c, python)]
    if not fitting:
        newest = max(kept, key=lambda c: c.version)
        return (f"every matching release excludes Python {target.version} "
                f"({newest.version} requires Python {newest.requires_python})")
    version = max(c.version for c in fitting)
    return (f"{version} has no wheel for {target.abi} on this platform and no sdist "
            f"({_wheel_facts(every, version, target)})")
