"""The facts ``ftlint deps`` gathers and the verdicts it reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from packaging.utils import canonicalize_name


class DepsError(Exception):
    """Bad input or an interpreter that cannot be audited: exit code 2."""


class Verdict(str, Enum):
    READY = "ready"
    GIL_RE_ENABLING = "gil-re-enabling"
    UNKNOWN = "unknown"
    PURE_PYTHON = "pure-python"
    # The distribution could not be audited: unreadable metadata, a probe
    # process that crashed or hung, an internal error. Exit code 1.
    ERROR = "error"


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str
    implementation: str
    prefix: str
    free_threaded: bool
    gil_enabled: Optional[bool]  # None before 3.13: the GIL cannot be turned off at all
    marker_environment: dict[str, str]
    # Where distributions were looked for besides the standard library: the
    # site-packages directories and what their .pth files add, in sys.path order.
    site_packages: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Interpreter:
        return cls(executable=data["executable"], version=data["version"],
                   implementation=data["implementation"], prefix=data["prefix"],
                   free_threaded=bool(data["free_threaded"]),
                   gil_enabled=data["gil_enabled"],
                   marker_environment=dict(data["marker_environment"]),
                   site_packages=tuple(data.get("site_packages") or ()))

    def describe(self) -> str:
        if self.free_threaded:
            build = "free-threaded build, GIL " + ("enabled" if self.gil_enabled else "disabled")
        else:
            build = "GIL build"
        return f"{self.executable} ({self.implementation} {self.version}, {build})"


@dataclass(frozen=True)
class Distribution:
    """One installed distribution, as its metadata describes it."""

    name: str
    version: str
    location: str
    file_list: Optional[str]  # where the files came from: "RECORD", "top_level.txt" or None
    extension_files: tuple[str, ...]
    extension_modules: tuple[str, ...]
    wheel_tags: tuple[str, ...]
    direct_url: Optional[str]  # the raw direct_url.json, if pip wrote one
    classifiers: tuple[str, ...]
    requires: tuple[str, ...]
    error: Optional[str] = None  # why its metadata could not be read

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Distribution:
        return cls(name=data["name"], version=data["version"] or "?",
                   location=data["location"], file_list=data["file_list"],
                   extension_files=tuple(data["extension_files"]),
                   extension_modules=tuple(data["extension_modules"]),
                   wheel_tags=tuple(data["wheel_tags"]), direct_url=data["direct_url"],
                   classifiers=tuple(data["classifiers"]), requires=tuple(data["requires"]),
                   error=data.get("error"))

    @classmethod
    def broken(cls, name: str, error: str, version: Optional[str] = None) -> Distribution:
        """A distribution known only by name, that could not be audited."""
        return cls(name=name, version=version or "?", location="?", file_list=None,
                   extension_files=(), extension_modules=(), wheel_tags=(),
                   direct_url=None, classifiers=(), requires=(), error=error)


@dataclass(frozen=True)
class ProbeOutcome:
    """What importing a distribution's extension modules in a fresh
    free-threaded process showed."""

    ran: bool
    gil_enabled_after: Optional[bool] = None
    # The module named by CPython's warning: it may belong to another
    # distribution that the imported module pulled in.
    module: Optional[str] = None
    imported_module: Optional[str] = None  # the import that was running then
    warning: Optional[str] = None
    error: Optional[str] = None
    imported: tuple[str, ...] = ()
    # The probe itself failed (its process crashed, hung or did not answer), as
    # opposed to an import that raised, which the probe reports in `error`.
    failed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"ran": self.ran, "gil_enabled_after": self.gil_enabled_after,
                "module": self.module, "warning": self.warning, "error": self.error,
                "imported": list(self.imported), "failed": self.failed}


NOT_PROBED = ProbeOutcome(ran=False)


@dataclass(frozen=True)
class Entry:
    """A distribution with its verdict."""

    dist: Distribution
    verdict: Verdict
    evidence: str
    free_threaded_tags: tuple[str, ...]
    built_locally: bool = False  # the free-threaded wheel was built here, not published
    probe: ProbeOutcome = NOT_PROBED
    required_by: Optional[str] = None  # None when the whole environment is audited
    # What to do about it, from the package index: "upgrade to X>=1.2: it ships
    # cp313t wheels". None when nothing newer helps or nothing was looked up.
    next_step: Optional[str] = None


@dataclass(frozen=True)
class Missing:
    """A requirement the environment does not satisfy."""

    requirement: str
    required_by: str
    installed: Optional[str] = None  # the version that is there but does not match

    def describe(self) -> str:
        if self.installed is None:
            return f"{self.requirement} (required by {self.required_by}) is not installed"
        return (f"{self.requirement} (required by {self.required_by}): "
                f"version {self.installed} is installed")


@dataclass(frozen=True)
class Scope:
    """Which distributions were audited, and why."""

    kind: str  # "all", "requirements" or "pyproject"
    source: Optional[str] = None
    note: Optional[str] = None

    def describe(self) -> str:
        if self.kind == "requirements":
            text = f"requirements in {self.source} and what they require"
        elif self.kind == "pyproject":
            text = f"[project] dependencies of {self.source} and what they require"
        else:
            text = "every installed distribution"
        return f"{text} ({self.note})" if self.note else text


@dataclass
class Report:
    interpreter: Interpreter
    probe_ran: bool
    probe_reason: str
    scope: Scope
    entries: list[Entry] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Why the index lookups for next steps failed, when they were tried and did.
    index_problem: Optional[str] = None

    def with_verdict(self, verdict: Verdict) -> list[Entry]:
        return [e for e in self.entries if e.verdict is verdict]
