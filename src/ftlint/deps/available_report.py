"""Render ``ftlint deps --available`` as text, JSON or Markdown, and decide
its exit code."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ftlint.deps.available import AvailableReport, Checked
from ftlint.deps.releases import Availability
from ftlint.deps.report import table_lines

EXIT_OK, EXIT_NO_ROUTE, EXIT_ERROR = 0, 1, 2
_ROUTE = (Availability.FT_WHEEL, Availability.PURE_PYTHON)


def exit_code(report: AvailableReport) -> int:
    """2 when the index could not be read for a requirement (the answer is
    incomplete); 1 when a requirement would be built from source or cannot be
    installed; 0 when each gets a free-threaded or pure-Python wheel."""
    if report.with_verdict(Availability.ERROR):
        return EXIT_ERROR
    if any(e.verdict not in _ROUTE for e in report.entries):
        return EXIT_NO_ROUTE
    return EXIT_OK


def _scope(report: AvailableReport) -> str:
    sources = ", ".join(report.sources)
    return f"the direct requirements in {sources} (not what they require in turn)"


def _index(report: AvailableReport) -> str:
    return f"{', '.join(report.index.shown())} ({report.index.source})"


# --- JSON --------------------------------------------------------------------

def to_json(report: AvailableReport) -> dict[str, Any]:
    target = report.target
    return {
        "mode": "available",
        "target": {"python": target.version, "abi": target.abi,
                   "given_platforms": list(target.given_platforms),
                   "platforms": list(target.platforms)},
        "index": {"urls": report.index.shown(), "source": report.index.source},
        "sources": list(report.sources),
        "requirements": [_entry_json(e) for e in report.entries],
        "skipped": list(report.skipped),
        "warnings": list(report.warnings),
        "summary": {**{v.value: len(report.with_verdict(v)) for v in Availability},
                    "exit_code": exit_code(report)},
    }


def _entry_json(entry: Checked) -> dict[str, Any]:
    choice = entry.choice
    return {"requirement": entry.requirement, "name": entry.name, "source": entry.source,
            "verdict": choice.verdict.value, "version": choice.version,
            "file": choice.filename, "tag": choice.tag, "evidence": choice.evidence,
            "next_step": choice.next_step, "upgrade": choice.upgrade,
            "error": choice.evidence if choice.verdict is Availability.ERROR else None}


def write_json(report: AvailableReport, out: TextIO) -> None:
    json.dump(to_json(report), out, indent=2)
    out.write("\n")


# --- text --------------------------------------------------------------------

_HEADER = ("requirement", "verdict", "version", "evidence")


def write_text(report: AvailableReport, out: TextIO) -> None:
    out.write(f"Target:  {report.target.describe()}\n")
    out.write(f"Index:   {_index(report)}\n")
    out.write(f"Checked: {_scope(report)}\n\n")
    if report.entries:
        rows = [(e.requirement, e.verdict.value, e.choice.version or "-", e.choice.evidence,
                 e.choice.next_step) for e in report.entries]
        for line in table_lines(_HEADER, rows):
            out.write(line + "\n")
        out.write("\n")
    for skipped in report.skipped:
        out.write(f"skipped: {skipped}\n")
    for warning in report.warnings:
        out.write(f"warning: {warning}\n")
    for line in summary_lines(report):
        out.write(line + "\n")


def _names(entries: list[Checked]) -> str:
    return ", ".join(e.name for e in entries)


def summary_lines(report: AvailableReport) -> list[str]:
    total = len(report.entries)
    if not total:
        return ["No requirement to look up."]
    ft = report.with_verdict(Availability.FT_WHEEL)
    pure = report.with_verdict(Availability.PURE_PYTHON)
    source = report.with_verdict(Availability.BUILDS_FROM_SOURCE)
    missing = report.with_verdict(Availability.NOT_INSTALLABLE)
    failed = report.with_verdict(Availability.ERROR)
    kinds = f"{len(ft)} free-threaded, {len(pure)} pure Python"
    if len(ft) + len(pure) == total:
        noun = "The requirement gets" if total == 1 else f"All {total} requirements get"
        return [f"{noun} a wheel that runs without the GIL ({kinds})."]
    lines = [f"{len(ft) + len(pure)} of {total} requirement{'s' if total > 1 else ''} "
             f"get a wheel that runs without the GIL ({kinds})."]
    if source:
        lines.append(f"{len(source)} would be built from source: {_names(source)}")
    if missing:
        lines.append(f"{len(missing)} cannot be installed there: {_names(missing)}")
    if failed:
        lines.append(f"{len(failed)} could not be looked up (index error): {_names(failed)}")
    fixable = [e for e in source + missing if e.choice.upgrade]
    if fixable:
        lines.append(f"{len(fixable)} {'has' if len(fixable) == 1 else 'have'} one in "
                     f"another release (see next:): {_names(fixable)}")
    return lines


# --- Markdown ----------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def write_markdown(report: AvailableReport, out: TextIO) -> None:
    out.write(f"## Free-threaded wheels for {_cell(report.target.describe())}\n\n")
    out.write(f"Index: {_cell(_index(report))}. Checked: {_cell(_scope(report))}.\n\n")
    if report.entries:
        out.write("| requirement | verdict | version | evidence | next step |\n")
        out.write("| --- | --- | --- | --- | --- |\n")
        for e in report.entries:
            choice = e.choice
            out.write(f"| `{_cell(e.requirement)}` | {choice.verdict.value} | "
                      f"{_cell(choice.version or '-')} | {_cell(choice.evidence)} | "
                      f"{_cell(choice.next_step or '-')} |\n")
        out.write("\n")
    for skipped in report.skipped:
        out.write(f"- skipped: {_cell(skipped)}\n")
    for warning in report.warnings:
        out.write(f"- warning: {_cell(warning)}\n")
    if report.skipped or report.warnings:
        out.write("\n")
    first, *rest = summary_lines(report)
    out.write(f"{_cell(first)}\n")
    if rest:
        out.write("\n" + "".join(f"- {_cell(line)}\n" for line in rest))
