"""``# noqa`` comments, with flake8's syntax so one comment serves both tools."""

from __future__ import annotations

import re
from typing import Optional

# The same pattern flake8 uses (flake8/defaults.py), so both tools agree on
# what a comment suppresses.
NOQA_INLINE = re.compile(
    r"# noqa"
    r"(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
# A whole file opts out with "# ftlint: noqa" (optionally ": FT101, FT102"),
# or with flake8's comment for it (flake8: noqa), on a line of its own. As in
# ruff, flake8's comment with codes exempts the file from those codes only
# (flake8 itself skips the whole file then).
NOQA_FILE = re.compile(
    r"^\s*#\s*(?:ftlint:|flake8[:=])\s*noqa"
    r"(?::\s?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?(?:\s.*)?$",
    re.IGNORECASE | re.MULTILINE,
)
_SEP = re.compile(r"[,\s]+")
# Rows as the parser counts them: str.splitlines() would also break at form
# feeds and other separators, and shift every row after them.
_NEWLINE = re.compile(r"\r\n|\r|\n")

ALL = frozenset({"*"})


def _codes(text: Optional[str]) -> frozenset[str]:
    if not text:
        return ALL
    return frozenset(c.upper() for c in _SEP.split(text) if c)


class Suppressions:
    """Looks up suppressions lazily: only lines with findings are examined."""

    def __init__(self, source: str) -> None:
        self._lines = _NEWLINE.split(source)
        self.file_codes: frozenset[str] = frozenset()
        # (a quick look first: the regular expression costs more)
        if any(word in source for word in ("noqa", "NOQA", "Noqa", "NoQA")):
            for match in NOQA_FILE.finditer(source):
                self.file_codes |= _codes(match.group("codes"))

    def line_codes(self, row: int) -> frozenset[str]:
        if not 0 < row <= len(self._lines):
            return frozenset()
        line = self._lines[row - 1]
        if "#" not in line:
            return frozenset()
        match = NOQA_INLINE.search(line)
        if match is None:
            return frozenset()
        return _codes(match.group("codes"))

    def suppressed(self, code: str, row: int) -> bool:
        if _matches(code, self.file_codes):
            return True
        return _matches(code, self.line_codes(row))


def _matches(code: str, codes: frozenset[str]) -> bool:
    if codes is ALL or "*" in codes:
        return True
    # flake8 treats "# noqa: FT1" as a prefix of FT101; so do we.
    return any(code.startswith(c) for c in codes)
