"""Dependency readiness for the report, from ``ftlint deps``.

Both kinds of ``ftlint deps --format json`` (an installed environment, or
``--available``'s answer from the package index) become one list of
dependencies with a verdict each. A live audit goes through the same JSON,
so a saved file and a fresh run are shown alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ftlint.report.collect import ReportError, read_json

# Verdicts from best to worst news, and what each means for the GIL.
GOOD, DOUBT, BAD = "good", "doubt", "bad"
VERDICTS: dict[str, str] = {
    "ready": GOOD,  # installed: keeps the GIL off
    "ft-wheel": GOOD,  # available: a free-threaded wheel
    "pure-python": GOOD,
    "unknown": DOUBT,
    "builds-from-source": DOUBT,
    "gil-re-enabling": BAD,
    "not-installable": BAD,
    "missing": BAD,  # a requirement the environment does not satisfy
    "error": BAD,
}
# Worst first: the order of the table and of the chart's segments.
ORDER = ("gil-re-enabling", "error", "not-installable", "missing", "builds-from-source",
         "unknown", "ready", "ft-wheel", "pure-python")


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    verdict: str
    evidence: str
    next_step: Optional[str] = None


@dataclass
class Readiness:
    mode: str  # "installed", "available", or "none" (not audited)
    source: str  # where the answer comes from
    context: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    dependencies: list[Dependency] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    note: Optional[str] = None  # why nothing was audited

    @property
    def noun(self) -> str:
        return "requirement" if self.mode == "available" else "dependency"

    def counts(self) -> list[tuple[str, int]]:
        """(verdict, how many), worst first; only verdicts that occur."""
        found: dict[str, int] = {}
        for dep in self.dependencies:
            found[dep.verdict] = found.get(dep.verdict, 0) + 1
        known = [(v, found.pop(v)) for v in ORDER if v in found]
        return known + sorted(found.items())  # (a verdict of a newer ftlint deps)

    def ordered(self) -> list[Dependency]:
        rank = {v: i for i, v in enumerate(ORDER)}
        return sorted(self.dependencies,
                      key=lambda d: (rank.get(d.verdict, len(ORDER)), d.name.lower()))

    def headline(self) -> str:
        if self.note is not None:
            return self.note
        total = len(self.dependencies)
        if not total:
            return f"No {self.noun} to check."
        good = sum(1 for d in self.dependencies if VERDICTS.get(d.verdict) == GOOD)
        bad = [v for v, _ in self.counts() if VERDICTS.get(v) == BAD]
        noun = self.noun if total == 1 else ("requirements" if self.mode == "available"
                                             else "dependencies")
        text = f"{good} of {total} {noun} {'runs' if good == 1 else 'run'} without the GIL"
        parts = [f"{n} {v}" for v, n in self.counts() if VERDICTS.get(v) != GOOD]
        text += f" ({', '.join(parts)})." if parts else "."
        if bad:
            text += " Not ready for free-threading yet."
        return text


def not_audited(why: str) -> Readiness:
    return Readiness("none", "not audited", note=why)


def load(file: str) -> Readiness:
    """A saved ``ftlint deps --format json`` (with or without ``--available``)."""
    data = read_json(file, "--deps-json")
    try:
        if isinstance(data, dict) and data.get("mode") == "available":
            return from_available(data, f"ftlint deps --available, saved in {file}")
        if isinstance(data, dict) and "distributions" in data and "interpreter" in data:
            return from_installed(data, f"ftlint deps, saved in {file}")
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ReportError(f"--deps-json {file}: unexpected content "
                          f"({type(exc).__name__}: {exc})") from None
    raise ReportError(f"--deps-json {file}: not the output of `ftlint deps --format json`")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def from_installed(data: dict[str, Any], source: str) -> Readiness:
    interp = data["interpreter"]
    if interp.get("free_threaded"):
        build = "free-threaded build, GIL " + ("enabled" if interp.get("gil_enabled")
                                               else "disabled")
    else:
        build = "GIL build"
    scope = data.get("scope") or {}
    kind, where = scope.get("kind"), _text(scope.get("source"))
    audited = {"requirements": f"requirements in {where} and what they require",
               "pyproject": f"[project] dependencies of {where} and what they require"}.get(
                   kind, "every installed distribution")
    if scope.get("note"):
        audited += f" ({scope['note']})"
    probe = data.get("probe") or {}
    context = [
        ("Interpreter", f"{_text(interp.get('executable'))} ({_text(interp.get('implementation'))} "
                        f"{_text(interp.get('version'))}, {build})"),
        ("Audited", audited),
        ("Probe", ("ran: " if probe.get("ran") else "not run: ") + _text(probe.get("reason"))),
    ]
    deps = [Dependency(_text(d["name"]), _text(d.get("version")) or "?", _text(d["verdict"]),
                       _text(d.get("evidence")))
            for d in data["distributions"]]
    for m in data.get("missing") or ():
        installed = m.get("installed")
        why = (f"required by {_text(m.get('required_by'))}; " +
               (f"version {installed} is installed" if installed else "not installed"))
        deps.append(Dependency(_text(m["requirement"]), _text(installed) or "-", "missing", why))
    return Readiness("installed", source, context, deps,
                     [_text(w) for w in data.get("warnings") or ()])


def from_available(data: dict[str, Any], source: str) -> Readiness:
    target = data["target"]
    index = data.get("index") or {}
    platforms = ", ".join(_text(p) for p in target.get("given_platforms") or ()) or "this machine's"
    context = [
        ("Target", f"CPython {_text(target.get('python'))} ({_text(target.get('abi'))}), "
                   f"platform {platforms}"),
        ("Index", ", ".join(_text(u) for u in index.get("urls") or ())),
        ("Checked", "the direct requirements in "
                    + (", ".join(_text(s) for s in data.get("sources") or ()) or "-")),
    ]
    deps = [Dependency(_text(r["requirement"]), _text(r.get("version")) or "-",
                       _text(r["verdict"]), _text(r.get("evidence")),
                       r.get("next_step") or None)
            for r in data["requirements"]]
    warnings = [_text(w) for w in data.get("warnings") or ()]
    warnings += [f"skipped: {_text(s)}" for s in data.get("skipped") or ()]
    return Readiness("available", source, context, deps, warnings)


def audit(root: str, python: Optional[str]) -> Readiness:
    """``ftlint deps --no-import`` for the project at ``root``: it reads
    metadata and runs nothing from the environment. Without static
    ``[project] dependencies`` there is nothing of the project's to audit
    (every distribution of ftlint's own environment would say nothing about
    it), so nothing is. Raises DepsError for an interpreter that cannot be
    run."""
    from ftlint.deps.audit import Options, declared_requirements, run_audit
    from ftlint.deps.report import to_json

    options = Options(python=python, project=Path(root), no_import=True)
    declared, scope = declared_requirements(options)
    if declared is None:
        why = scope.note or "no declared dependencies"
        return not_audited(f"Not audited: {why}. Run `ftlint deps --format json > deps.json` "
                           "in the project's environment and pass --deps-json deps.json.")
    report = run_audit(options)
    return from_installed(to_json(report), "ftlint deps --no-import (nothing was imported)")
