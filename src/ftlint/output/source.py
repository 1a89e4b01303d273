"""Source lines for formatters: snippets under findings and fingerprints.

Formatters get findings, not source; the few that need the text read the
file again, once per file, and do without it when that fails.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

from ftlint.diagnostics import Diagnostic, Location

# Python's own line breaks; str.splitlines() also splits on \f, \v, \x1c...
_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    return _NEWLINE.split(text)


def decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")


class SourceCache:
    """Lines of the files findings point at, read at most once each."""

    __thread_safe__ = False  # one per formatter call

    def __init__(self) -> None:
        self._lines: dict[str, Optional[list[str]]] = {}

    def lines(self, path: str) -> Optional[list[str]]:
        if path not in self._lines:
            try:
                with open(path, "rb") as f:
                    self._lines[path] = split_lines(decode(f.read()))
            except (OSError, ValueError):
                self._lines[path] = None
        return self._lines[path]


def span(d: Diagnostic) -> tuple[Location, Location]:
    """Start and (exclusive) end; an empty range is widened to one column."""
    start, end = d.start, d.end
    if (end.row, end.column) <= (start.row, start.column):
        end = Location(start.row, start.column + 1)
    return start, end


def span_text(lines: list[str], start: Location, end: Location) -> str:
    """The text from ``start`` up to ``end`` (1-based rows and columns)."""
    if not 1 <= start.row <= len(lines):
        return ""
    last = min(end.row, len(lines))
    chunk = lines[start.row - 1:last]
    if not chunk:
        return ""
    if len(chunk) == 1:
        return chunk[0][start.column - 1:end.column - 1]
    tail = chunk[-1][:end.column - 1] if end.row <= len(lines) else chunk[-1]
    return "\n".join([chunk[0][start.column - 1:], *chunk[1:-1], tail])
