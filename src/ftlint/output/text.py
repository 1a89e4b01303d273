"""``path:row:col: FT101 [medium] message`` lines, then a summary."""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from ftlint.api import Report


def write_text(report: Report, out: TextIO, *, quiet: bool = False,
               statistics: bool = False, **_: Any) -> None:
    diagnostics = report.diagnostics
    if statistics:
        counts = Counter((d.code, d.name) for d in diagnostics)
        for (code, name), count in sorted(counts.items()):
            out.write(f"{count:>5}\t{code}\t{name}\n")
        return
    for d in diagnostics:
        tag = "error" if d.is_error else str(d.confidence)
        out.write(f"{d.path}:{d.start.row}:{d.start.column}: {d.code} [{tag}] {d.message}\n")
    if quiet:
        return
    out.write(summary(report) + "\n")


def summary(report: Report) -> str:
    diagnostics = report.diagnostics
    files = report.checked
    noun = "file" if files == 1 else "files"
    errors = sum(1 for d in diagnostics if d.is_error)
    findings = len(diagnostics) - errors
    if not diagnostics:
        return f"All checks passed ({files} {noun} checked)."
    by_conf = Counter(str(d.confidence) for d in diagnostics if not d.is_error)
    parts = [f"{by_conf[c]} {c}" for c in ("high", "medium", "low") if by_conf[c]]
    text = f"Found {findings} finding{'s' if findings != 1 else ''}"
    if parts:
        text += f" ({', '.join(parts)})"
    text += f" in {files} {noun} checked."
    if errors:
        text += f" {errors} file{'s' if errors != 1 else ''} could not be checked."
    if by_conf["low"] and by_conf["low"] < findings:
        text += f" (--min-confidence medium hides the {by_conf['low']} low.)"
    return text
