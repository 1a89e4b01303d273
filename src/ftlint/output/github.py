"""GitHub Actions workflow commands: one annotation per finding.

``::warning file=src/app.py,line=6,col=5,endLine=6,endColumn=30,title=FT203
check-then-act::message (medium confidence)``; files that could not be
checked are ``::error`` annotations. Data is escaped as the workflow-command
spec asks (``%``, CR, LF), property values also ``:`` and ``,``.

GitHub accepts ``col``/``endColumn`` only on a single-line annotation, so a
finding that spans several lines carries ``line`` and ``endLine`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from ftlint.diagnostics import Diagnostic
from ftlint.output.source import span

if TYPE_CHECKING:
    from ftlint.results import Report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(d: Diagnostic) -> str:
    start, end = span(d)
    props = [("file", d.path.replace("\\", "/")), ("line", str(start.row))]
    if start.row == end.row:
        props += [("col", str(start.column)), ("endLine", str(end.row)),
                  ("endColumn", str(end.column))]
    else:
        props += [("endLine", str(end.row))]
    props.append(("title", f"{d.code} {d.name}"))
    if d.is_error:
        kind, message = "error", d.message
    else:
        kind, message = "warning", f"{d.message} ({d.confidence} confidence)"
    properties = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{kind} {properties}::{escape_data(message)}"


def write_github(report: "Report", out: TextIO, **_: Any) -> None:
    for d in report.diagnostics:
        out.write(command(d) + "\n")
