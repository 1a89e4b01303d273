"""The report as a short Markdown comment for a pull request: totals, the top
hotspots, fixed and left, and dependency readiness, in tables GitHub and
GitLab render. No HTML: paths go in code spans, other text is escaped, so a
file named ``<img src=x>`` stays text."""

from __future__ import annotations

import re
from typing import Sequence, TextIO

from ftlint.report.model import Counts, ReportData, confidence_parts, plural

TOP = 5  # rows of each hotspot table
NAMES = 8  # dependency names listed per verdict

# Enough to keep text from formatting or becoming HTML: "(" needs no escape
# once "[" has one, "#" and "+" matter only at the start of a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def text(value: str) -> str:
    """Plain text in Markdown: every character that could format is escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def code(value: str) -> str:
    """A code span that holds any text (a path with backticks or pipes too)."""
    value = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value.replace('|', chr(92) + '|')}{pad}{fence}"


def _hotspot_table(first: str, rows: Sequence[tuple[str, Counts]], as_code: bool) -> list[str]:
    lines = [f"| {first} | reported | high | medium | low | hidden | baselined |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, c in rows[:TOP]:
        label = code(name) if as_code else text(name)
        lines.append(f"| {label} | {c.reported} | {c.high} | {c.medium} | {c.low} | {c.hidden} "
                     f"| {c.baselined} |")
    if len(rows) > TOP:
        lines.append(f"| *and {len(rows) - TOP} more* | | | | | | |")
    return lines + [""]


def write_markdown(data: ReportData, out: TextIO) -> None:
    totals = data.totals()
    hidden = data.hidden_by_confidence()
    lines = [f"## {text(data.title)}", ""]
    lines += ["| | |", "| --- | --- |"]
    parts = confidence_parts(totals)
    lines.append(f"| Findings left | **{totals.reported}**{f' ({parts})' if parts else ''} |")
    hidden_parts = ", ".join(f"{hidden[c]} {c}" for c in ("high", "medium", "low") if hidden[c])
    lines.append(f"| Hidden (below min-confidence {data.min_confidence}) | {totals.hidden}"
                 f"{f' ({hidden_parts})' if hidden_parts else ''} |")
    if data.baseline is not None:
        lines.append(f"| Baselined | {totals.baselined} |")
    for c in data.comparisons:
        what = "the baseline" if c.kind == "baseline" else "the last report"
        lines.append(f"| Fixed since {what} ({code(c.source)}) | **{len(c.fixed)}** of "
                     f"{c.recorded}; {c.new} new |")
    fix = f"{totals.safe}" + (f" (+{totals.unsafe} with `--unsafe-fixes`)" if totals.unsafe
                              else "")
    lines.append(f"| Fixable with `ftlint --fix` | {fix} |")
    errors = len(data.not_checked)
    lines.append(f"| Files checked | {data.files_checked}"
                 f"{f' ({errors} could not be checked)' if errors else ''} |")
    lines.append("")
    if data.findings:
        lines += ["### Hotspots", ""]
        lines += _hotspot_table("directory", data.by_directory(), as_code=True)
        lines += _hotspot_table("rule", data.by_rule(), as_code=False)
    lines += _readiness(data)
    out.write("\n".join(lines).rstrip("\n") + "\n")


def _readiness(data: ReportData) -> list[str]:
    readiness = data.readiness
    if readiness is None:
        return []
    lines = ["### Dependency readiness", "", text(readiness.headline()), ""]
    counts = readiness.counts()
    if readiness.note is None and counts:
        lines += ["| verdict | count | " + ("requirements" if readiness.mode == "available"
                                            else "dependencies") + " |",
                  "| --- | ---: | --- |"]
        for verdict, n in counts:
            names = sorted(d.name for d in readiness.dependencies if d.verdict == verdict)
            shown = ", ".join(text(name) for name in names[:NAMES])
            if len(names) > NAMES:
                shown += f", and {len(names) - NAMES} more"
            lines.append(f"| {text(verdict)} | {n} | {shown} |")
        lines.append("")
        lines.append(f"Source: {text(readiness.source)}.")
        lines.append("")
    return lines


def summary_line(data: ReportData) -> str:
    """One line for stderr after the report is written."""
    totals = data.totals()
    line = f"{plural(totals.reported, 'finding')} left"
    parts = confidence_parts(totals)
    line += f" ({parts})" if parts else ""
    line += f", {totals.hidden} hidden"
    if data.baseline is not None:
        line += f", {totals.baselined} baselined"
    for c in data.comparisons:
        since = "the baseline" if c.kind == "baseline" else "the last report"
        line += f", {len(c.fixed)} fixed since {since}"
    return line
