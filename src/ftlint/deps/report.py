"""Render an audit as a text table or as JSON, and decide the exit code."""

from __future__ import annotations

import json
import textwrap
from typing import Any, Optional, Sequence, TextIO

from ftlint.deps.model import Entry, Report, Verdict
from ftlint.deps.verdict import short_classifier

EXIT_READY, EXIT_NOT_READY, EXIT_ERROR = 0, 1, 2


def exit_code(report: Report, strict: bool = False) -> int:
    """1 when a dependency re-enables the GIL, could not be audited, or a
    requirement is not satisfied (the project cannot run as declared); with
    ``strict``, also when a verdict is unknown. (2, for bad input, is decided
    before there is a report.)"""
    if (report.with_verdict(Verdict.GIL_RE_ENABLING) or report.with_verdict(Verdict.ERROR)
            or report.missing):
        return EXIT_NOT_READY
    if strict and report.with_verdict(Verdict.UNKNOWN):
        return EXIT_NOT_READY
    return EXIT_READY


# --- JSON --------------------------------------------------------------------

def to_json(report: Report, strict: bool = False) -> dict[str, Any]:
    interp = report.interpreter
    return {
        "interpreter": {"executable": interp.executable, "version": interp.version,
                        "implementation": interp.implementation, "prefix": interp.prefix,
                        "free_threaded": interp.free_threaded,
                        "gil_enabled": interp.gil_enabled,
                        "site_packages": list(interp.site_packages)},
        "probe": {"ran": report.probe_ran, "reason": report.probe_reason},
        "scope": {"kind": report.scope.kind, "source": report.scope.source,
                  "note": report.scope.note},
        "distributions": [_entry_json(e) for e in report.entries],
        "missing": [{"requirement": m.requirement, "required_by": m.required_by,
                     "installed": m.installed} for m in report.missing],
        "warnings": list(report.warnings),
        "index_problem": report.index_problem,
        "summary": {**{v.value: len(report.with_verdict(v)) for v in Verdict},
                    "missing": len(report.missing), "exit_code": exit_code(report, strict)},
    }


def _entry_json(entry: Entry) -> dict[str, Any]:
    dist = entry.dist
    return {"name": dist.name, "version": dist.version,
            "has_extensions": bool(dist.extension_files),
            "extension_modules": list(dist.extension_modules),
            "wheel_tags": list(dist.wheel_tags),
            "free_threaded_wheel": bool(entry.free_threaded_tags),
            "built_locally": entry.built_locally,
            "classifiers": list(dist.classifiers),
            "verdict": entry.verdict.value, "evidence": entry.evidence,
            "error": entry.evidence if entry.verdict is Verdict.ERROR else None,
            "required_by": entry.required_by,
            "next_step": entry.next_step,
            "probe": entry.probe.to_json()}


def write_json(report: Report, out: TextIO, strict: bool = False) -> None:
    json.dump(to_json(report, strict), out, indent=2)
    out.write("\n")


# --- text --------------------------------------------------------------------

_HEADER = ("name", "version", "compiled", "ft wheel", "classifier", "verdict", "evidence")


# The last column (evidence) is wrapped and continued under itself so that
# rows stay within this width (but the column never narrower than 40), and a
# probe's warning does not make a 300-character row.
LINE_WIDTH, MIN_EVIDENCE_WIDTH = 140, 40


def table_lines(header: Sequence[str],
                rows: Sequence[Sequence[Optional[str]]]) -> list[str]:
    """Aligned columns, the last one wrapped. A row may carry one cell more
    than the header: a next step, printed under the last column."""
    count = len(header)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(count - 1)]
    indent = " " * (sum(widths) + 2 * (count - 1))
    width = max(MIN_EVIDENCE_WIDTH, LINE_WIDTH - len(indent))
    lines = []
    for row in [header, *rows]:
        head = "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths))
        body = _wrap(str(row[count - 1]), width) if row is not header else [str(header[-1])]
        lines.append(f"{head}  {body[0]}".rstrip())
        lines += [indent + part for part in body[1:]]
        note = row[count] if len(row) > count else None
        if note:
            lines += [indent + part for part in _wrap(f"next: {note}", width, "      ")]
    return lines


def _wrap(text: str, width: int, continuation: str = "") -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent=continuation,
                         break_long_words=False, break_on_hyphens=False) or [""]


def _row(entry: Entry) -> tuple[str, ...]:
    dist = entry.dist
    compiled = bool(dist.extension_files)
    if entry.free_threaded_tags:
        ft_wheel = "/".join(entry.free_threaded_tags)
        ft_wheel += " (local)" if entry.built_locally else ""
    else:
        ft_wheel = "no" if compiled else "-"  # a pure wheel needs no ABI tag
    row = (dist.name, dist.version, "yes" if compiled else "no", ft_wheel,
           short_classifier(dist) or "-", entry.verdict.value, _table_evidence(entry))
    return (*row, entry.next_step) if entry.next_step else row


def write_text(report: Report, out: TextIO) -> None:
    out.write(f"Interpreter: {report.interpreter.describe()}\n")
    out.write(f"Audited:     {report.scope.describe()}\n")
    probe_state = "ran" if report.probe_ran else "not run"
    out.write(f"Probe:       {probe_state}: {report.probe_reason}\n\n")
    if report.entries:
        for line in table_lines(_HEADER, [_row(e) for e in report.entries]):
            out.write(line + "\n")
        out.write("\n")
    for warning in report.warnings:
        out.write(f"warning: {warning}\n")
    for missing in report.missing:
        out.write(f"missing: {missing.describe()}\n")
    for line in summary_lines(report):
        out.write(line + "\n")
    if report.index_problem:
        out.write(f"next steps: {report.index_problem}\n")


def summary_lines(report: Report) -> list[str]:
    total = len(report.entries)
    noun = "distribution" if total == 1 else "distributions"
    lines = []
    if report.missing:
        count = len(report.missing)
        lines.append(f"{count} requirement{'s are' if count > 1 else ' is'} not satisfied.")
    bad = report.with_verdict(Verdict.GIL_RE_ENABLING)
    unknown = report.with_verdict(Verdict.UNKNOWN)
    failed = report.with_verdict(Verdict.ERROR)
    if not total:
        lines.append("No installed distribution was audited." if report.missing else
                     "No distribution to audit.")
    elif bad:
        culprits = "; ".join(f"{e.dist.name} ({_short_evidence(e)})" for e in bad)
        verb = "re-enables" if len(bad) == 1 else "re-enable"
        lines.append(f"{len(bad)} of {total} {noun} {verb} the GIL: {culprits}")
    elif not unknown and not failed:
        lines.append("The audited distribution is ready for free-threading or pure Python."
                     if total == 1 else
                     f"All {total} {noun} are ready for free-threading or pure Python.")
    elif len(failed) < total:
        lines.append(f"None of the {total} {noun} is known to re-enable the GIL.")
    if failed:
        names = ", ".join(e.dist.name for e in failed)
        lines.append(f"{len(failed)} of {total} could not be audited (error): {names}")
    if unknown:
        names = ", ".join(e.dist.name for e in unknown)
        lines.append(f"{len(unknown)} could not be verified (unknown): {names}")
        if not report.probe_ran and report.probe_reason.startswith("--no-import"):
            lines.append("  To verify them, run again without --no-import (it imports them).")
        elif not report.probe_ran and not report.interpreter.free_threaded:
            lines.append("  To verify them, audit a free-threaded interpreter's environment "
                         "(--python .../python3.13t).")
    return lines


def _table_evidence(entry: Entry) -> str:
    """The evidence up to the module CPython's warning names: the rest of it
    (that the module has not declared it can run without the GIL, and how to
    force the GIL off, which is no fix) is in the JSON report."""
    text = entry.evidence
    cut = text.find(", which has not declared")
    return text[:cut] if cut >= 0 else text


def _short_evidence(entry: Entry) -> str:
    """The evidence up to the warning's first clause: the rest of CPython's
    message ('To override this behavior ...') is in the table already."""
    text = entry.evidence
    cut = text.find(", which has not declared")
    return text[:cut] + " ..." if cut >= 0 else text
