"""Plain data for findings: picklable, so workers can hand them back."""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from typing import Any, Optional

DOCS_URL = "https://ftlint.readthedocs.io/en/latest/rules/{code}/"


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @classmethod
    def parse(cls, text: str) -> "Confidence":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"invalid confidence {text!r} (expected one of: low, medium, high)"
            ) from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    row: int  # 1-based
    column: int  # 1-based, in characters, as ruff and flake8 print it


@dataclass
class Diagnostic:
    path: str
    code: str
    name: str
    message: str
    start: Location
    end: Location
    confidence: Confidence = Confidence.LOW
    reason: str = ""
    fix: Optional[dict[str, Any]] = None
    # File errors (unreadable, undecodable, unparsable) are not rule findings:
    # select/ignore, min-confidence and noqa never hide them.
    is_error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # The finding may have a fix that was not built (its confidence was below
    # the shown ones when the file was analysed); see api.lint_paths.
    fix_pending: bool = False

    @property
    def url(self) -> Optional[str]:
        return None if self.is_error else DOCS_URL.format(code=self.code)

    def sort_key(self) -> tuple:
        return (self.path, self.start.row, self.start.column, self.code)

    def detached(self) -> "Diagnostic":
        """A copy whose fields, ``extra``'s keys included, can change without
        changing this one (the project pass lowers confidences, rewrites
        reasons and drops fixes). The values inside ``extra`` and ``fix`` are
        shared: nothing changes them in place."""
        clone = copy.copy(self)
        clone.extra = dict(self.extra)
        return clone


# Codes for files that could not be checked at all.
INTERNAL_ERROR = ("FT000", "internal-error")  # ftlint itself failed on this file
IO_ERROR = ("FT001", "io-error")
SYNTAX_ERROR = ("FT002", "syntax-error")
