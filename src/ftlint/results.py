"""What a check produces: one ``FileResult`` per file, gathered in a
``Report``, and the results of files that could not be checked. Nothing here
imports libcst or the rules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ftlint.config import Settings
from ftlint.diagnostics import INTERNAL_ERROR, Confidence, Diagnostic, Location
from ftlint.rules.catalog import default_states

if TYPE_CHECKING:
    from ftlint.project import ModuleSummary


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: bool = False  # the file could not be read or parsed
    summary: Optional[ModuleSummary] = None
    hidden: int = 0  # findings below min-confidence


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)
    # Each file's result before the project pass, for `relint`.
    raw: list[FileResult] = field(default_factory=list, repr=False)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = [d for f in self.files for d in f.diagnostics]
        out.sort(key=Diagnostic.sort_key)
        return out

    @property
    def checked(self) -> int:
        return len(self.files)

    @property
    def hidden(self) -> int:
        """Findings below ``min-confidence``, not shown."""
        return sum(f.hidden for f in self.files)


def enabled_rules(settings: Settings) -> tuple[str, ...]:
    return tuple(sorted(settings.enabled_codes(default_states())))


def file_error(path: str, kind: tuple[str, str], message: str, row: int = 1, col: int = 1) -> FileResult:
    code, name = kind
    loc = Location(row, col)
    return FileResult(path, [Diagnostic(path, code, name, message, loc, loc,
                                        Confidence.HIGH, "the file was not checked",
                                        is_error=True)], error=True)


def internal_error(path: str, exc: BaseException) -> FileResult:
    """ftlint itself failed on this file: one FT000 finding, the run goes on.
    The traceback travels along (as text, so workers can hand it back) for
    ``--verbose``."""
    import traceback

    result = file_error(path, INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}".rstrip(": "))
    result.diagnostics[0].reason = "ftlint failed on this file; it was not checked"
    result.diagnostics[0].extra["traceback"] = "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    return result


def relative_path(path: str, root: str) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()
