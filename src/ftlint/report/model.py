"""The data of a report: each current finding with its status, the counts
per directory, rule and file, and what changed since a baseline or an
earlier report. Plain data, rendered by the ``render_*`` modules."""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Optional

if TYPE_CHECKING:
    from ftlint.report.readiness import Readiness

CONFIDENCES = ("high", "medium", "low")

# What became of a current finding.
REPORTED = "reported"  # `ftlint` reports it: at or above min-confidence, not baselined
BASELINED = "baselined"  # at or above min-confidence, but matched by the baseline
HIDDEN = "hidden"  # below the file's min-confidence: counted, not shown by `ftlint`


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the project root, with "/"
    line: int
    column: int
    code: str
    name: str
    message: str
    confidence: str
    status: str
    fixable: Optional[str]  # "safe", "unsafe" or None: what --fix could do
    fingerprint: str  # the baseline's key: see ftlint.adoption.fingerprint
    function: Optional[str] = None

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path) or "."


@dataclass(frozen=True)
class NotChecked:
    """A file that could not be read or parsed, or that ftlint failed on."""

    path: str
    code: str
    message: str


@dataclass
class Counts:
    """Findings of one group (a directory, a rule, a file, or all)."""

    high: int = 0  # reported, by confidence
    medium: int = 0
    low: int = 0
    hidden: int = 0
    baselined: int = 0
    safe: int = 0  # reported findings `ftlint --fix` fixes
    unsafe: int = 0  # ... and the ones `--unsafe-fixes` adds

    @property
    def reported(self) -> int:
        return self.high + self.medium + self.low

    @property
    def total(self) -> int:
        return self.reported + self.hidden + self.baselined

    def add(self, finding: Finding) -> None:
        if finding.status == HIDDEN:
            self.hidden += 1
        elif finding.status == BASELINED:
            self.baselined += 1
        else:
            setattr(self, finding.confidence, getattr(self, finding.confidence) + 1)
            if finding.fixable == "safe":
                self.safe += 1
            elif finding.fixable == "unsafe":
                self.unsafe += 1

    def sort_key(self) -> tuple[int, ...]:
        """Most reported first, the surest first among equals."""
        return (-self.reported, -self.high, -self.medium, -self.low, -self.hidden,
                -self.baselined)

    def as_dict(self) -> dict[str, int]:
        return {"reported": self.reported, "high": self.high, "medium": self.medium,
                "low": self.low, "hidden": self.hidden, "baselined": self.baselined,
                "fixable_safe": self.safe, "fixable_unsafe": self.unsafe}


def grouped(findings: Iterable[Finding], key: Callable[[Finding], str]) -> list[tuple[str, Counts]]:
    """Counts per ``key``, hotspots first."""
    groups: dict[str, Counts] = {}
    for finding in findings:
        groups.setdefault(key(finding), Counts()).add(finding)
    return sorted(groups.items(), key=lambda item: (item[1].sort_key(), item[0]))


@dataclass(frozen=True)
class Gone:
    """A finding of the earlier record that no current finding matches."""

    path: str
    code: str
    line: Optional[int]
    function: Optional[str]


@dataclass
class Comparison:
    """An earlier record of findings (the baseline, or a previous report)
    against the current findings.

    A recorded finding is *fixed* when no current finding, at any
    confidence, has its path and fingerprint; it is *still there* otherwise.
    Recorded findings of files that exist but were not checked this time
    (outside PATHS, excluded) are neither. *New* findings are the reported
    and baselined ones the record does not hold."""

    kind: str  # "baseline" or "since"
    source: str  # the file, as given
    recorded: int = 0  # findings of the record in checked (or deleted) files
    still: int = 0
    fixed: list[Gone] = field(default_factory=list)
    new: int = 0
    not_checked: int = 0  # findings of the record in files not checked now

    def as_dict(self) -> dict:
        return {"source": self.source, "recorded": self.recorded, "still": self.still,
                "fixed": len(self.fixed), "new": self.new, "not_checked": self.not_checked,
                "fixed_findings": [{"path": g.path, "code": g.code, "line": g.line,
                                    "function": g.function} for g in self.fixed]}


@dataclass
class ReportData:
    title: str
    project: str  # the project root's name
    paths: tuple[str, ...]
    generated: str  # ISO 8601, UTC
    version: str  # ftlint's
    min_confidence: str  # the project root's; files may have their own
    files_checked: int
    findings: list[Finding] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    baseline: Optional[Comparison] = None
    since: Optional[Comparison] = None
    readiness: Optional[Readiness] = None  # None with --no-deps

    def with_status(self, status: str) -> list[Finding]:
        return [f for f in self.findings if f.status == status]

    def totals(self) -> Counts:
        counts = Counts()
        for finding in self.findings:
            counts.add(finding)
        return counts

    def hidden_by_confidence(self) -> Counter:
        return Counter(f.confidence for f in self.findings if f.status == HIDDEN)

    def by_directory(self) -> list[tuple[str, Counts]]:
        return grouped(self.findings, lambda f: f.directory)

    def by_rule(self) -> list[tuple[str, Counts]]:
        """Keyed by ``CODE name``."""
        return grouped(self.findings, lambda f: f"{f.code} {f.name}")

    def by_file(self) -> list[tuple[str, Counts]]:
        return grouped(self.findings, lambda f: f.path)

    @property
    def comparisons(self) -> list[Comparison]:
        return [c for c in (self.baseline, self.since) if c is not None]


def plural(count: int, noun: str, many: Optional[str] = None) -> str:
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def confidence_parts(counts: Counts) -> str:
    """``3 high, 9 medium``: the reported findings by confidence."""
    return ", ".join(f"{getattr(counts, c)} {c}" for c in CONFIDENCES if getattr(counts, c))
