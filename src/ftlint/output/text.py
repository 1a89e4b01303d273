"""``path:row:col: FT101 [medium] message`` lines, then a summary.

A finding with a fix ``--fix`` would apply has ``[*]`` after its code, as in
ruff (an unsafe fix counts with ``--unsafe-fixes``), and a line after the
summary counts them.

On a terminal the lines are coloured (``--color``/``--no-color``,
``NO_COLOR`` and ``FORCE_COLOR`` decide otherwise); ``--show-source`` prints
the reported lines under each finding with the reported columns underlined.
After the findings comes a count per rule, then the one-line summary.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Any, Optional, TextIO

import click

from ftlint.diagnostics import Diagnostic
from ftlint.output.source import SourceCache, span

if TYPE_CHECKING:
    from ftlint.results import Report

# Longest span shown in full; longer ones show their head and last line.
MAX_SNIPPET_LINES = 6

_CONFIDENCE_COLOR = {"high": "red", "medium": "yellow", "low": "cyan", "error": "red"}


def use_color(flag: Optional[bool], out: TextIO) -> bool:
    """``--color``/``--no-color`` first, then ``NO_COLOR``, then
    ``FORCE_COLOR``, then whether ``out`` is a terminal that is not dumb."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class _Styler:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.enabled and text else text


def write_text(report: "Report", out: TextIO, *, quiet: bool = False,
               statistics: bool = False, show_source: bool = False,
               color: Optional[bool] = None, unsafe_fixes: bool = False, **_: Any) -> None:
    diagnostics = report.diagnostics
    if statistics:
        counts = Counter((d.code, d.name) for d in diagnostics)
        for (code, name), count in sorted(counts.items()):
            out.write(f"{count:>5}\t{code}\t{name}\n")
        return
    enabled = use_color(color, out)
    style = _Styler(enabled)

    def emit(line: str = "") -> None:
        # click.echo keeps the escapes we chose to add, and on Windows
        # translates them for old consoles.
        click.echo(line, file=out, color=enabled)

    sources = SourceCache() if show_source else None
    for d in diagnostics:
        emit(format_line(d, style, unsafe_fixes))
        if sources is not None:
            lines = sources.lines(d.path)
            if lines is not None:
                for snippet_line in snippet(d, lines, style):
                    emit(snippet_line)
                emit()
    if quiet:
        return
    if diagnostics:
        if not show_source:
            emit()
        for line in rule_summary(diagnostics, style):
            emit(line)
    emit(style(summary(report), bold=True))
    note = fixable_summary(diagnostics, unsafe_fixes)
    if note:
        emit(note)


def fixable(d: Diagnostic, unsafe_fixes: bool = False) -> bool:
    """Whether ``--fix`` (with ``--unsafe-fixes`` if given) has a fix for ``d``."""
    kind = d.extra.get("fixable")
    return kind == "safe" or (unsafe_fixes and kind == "unsafe")


def format_line(d: Diagnostic, style: _Styler, unsafe_fixes: bool = False) -> str:
    tag = "error" if d.is_error else str(d.confidence)
    colour = _CONFIDENCE_COLOR[tag]
    where = style(d.path, bold=True) + style(f":{d.start.row}:{d.start.column}:", dim=True)
    code = style(d.code, fg=colour, bold=True)
    if fixable(d, unsafe_fixes):
        code += " " + style("[*]", fg="cyan")
    return f"{where} {code} {style(f'[{tag}]', fg=colour)} {d.message}"


def fixable_summary(diagnostics: list[Diagnostic], unsafe_fixes: bool = False) -> str:
    """ruff's line under the summary: ``[*] 3 fixable with `ftlint --fix`.``,
    and how many unsafe fixes ``--unsafe-fixes`` would add."""
    count = sum(1 for d in diagnostics if fixable(d, unsafe_fixes))
    hidden = 0 if unsafe_fixes else sum(1 for d in diagnostics
                                        if d.extra.get("fixable") == "unsafe")
    command = "ftlint --fix --unsafe-fixes" if unsafe_fixes else "ftlint --fix"
    more = (f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the "
            "`--unsafe-fixes` option" if hidden else "")
    if count:
        return f"[*] {count} fixable with `{command}`" + (f" ({more})." if more else ".")
    return f"No fixes available ({more})." if more else ""


def rule_summary(diagnostics: list[Diagnostic], style: _Styler) -> list[str]:
    """``  3  FT203  check-then-act`` lines, most frequent rule first."""
    counts = Counter((d.code, d.name) for d in diagnostics)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    width = max(len(str(n)) for n in counts.values())
    return [f"  {n:>{width}}  {style(code, bold=True)}  {name}" for (code, name), n in rows]


# -- source snippets -------------------------------------------------------------

def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _render(line: str, tab: int = 4) -> tuple[str, list[int]]:
    """The line as shown (tabs expanded) and each character's display column."""
    shown, cols, col = [], [], 0
    for ch in line:
        cols.append(col)
        if ch == "\t":
            pad = tab - col % tab
            shown.append(" " * pad)
            col += pad
        elif ch.isprintable() or ch == " ":
            shown.append(ch)
            col += _width(ch)
        else:
            shown.append("?")
            col += 1
    cols.append(col)
    return "".join(shown), cols


def _underline(line: str, first: int, last: int) -> tuple[str, str]:
    """The shown line and a caret line under characters [first, last)."""
    shown, cols = _render(line)
    first = max(0, min(first, len(line)))
    last = max(first, min(last, len(line)))
    start = cols[first]
    stop = cols[last] if last > first else start + 1
    return shown, " " * start + "^" * max(1, stop - start)


def snippet(d: Diagnostic, lines: list[str], style: _Styler) -> list[str]:
    """The reported lines with a gutter, underlined like ruff does."""
    start, end = span(d)
    if not 1 <= start.row <= len(lines):
        return []
    last_row = min(end.row if end.column > 1 or end.row == start.row else end.row - 1,
                   len(lines))
    last_row = max(last_row, start.row)
    rows = list(range(start.row, last_row + 1))
    if len(rows) > MAX_SNIPPET_LINES:
        rows = rows[:MAX_SNIPPET_LINES - 1] + [None, rows[-1]]
    width = len(str(last_row))
    gutter = style(" " * width + " |", fg="blue", bold=True)
    colour = _CONFIDENCE_COLOR["error" if d.is_error else str(d.confidence)]
    out = [gutter]
    for row in rows:
        if row is None:
            out.append(style(" " * (width - 1) + "...", fg="blue", bold=True))
            continue
        text = lines[row - 1]
        indent = len(text) - len(text.lstrip())
        first = start.column - 1 if row == start.row else indent
        stop = end.column - 1 if row == end.row else len(text.rstrip())
        shown, carets = _underline(text, first, stop)
        out.append(style(f"{row:>{width}} |", fg="blue", bold=True) + (" " + shown if shown else ""))
        if row == start.row or stop > first:  # no carets under a blank line of the span
            out.append(gutter + " " + style(carets, fg=colour, bold=True))
    out.append(gutter)
    return out


def summary(report: "Report") -> str:
    diagnostics = report.diagnostics
    files = report.checked
    noun = "file" if files == 1 else "files"
    errors = sum(1 for d in diagnostics if d.is_error)
    findings = len(diagnostics) - errors
    hidden = getattr(report, "hidden", 0)
    more = (f" {hidden} less certain finding{'s are' if hidden != 1 else ' is'} hidden"
            " (--min-confidence low shows them)." if hidden else "")
    if not diagnostics:
        return f"All checks passed ({files} {noun} checked).{more}"
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
    return text + more
