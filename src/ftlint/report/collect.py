"""From a check's results to the report's data.

The check runs at ``min-confidence = low`` (see :mod:`ftlint.report.cli`),
so every finding is here with its final confidence; each file's own
``min-confidence`` then says which ones ``ftlint`` would show. The shown
ones are matched against the baseline exactly as ``ftlint --baseline``
matches them (same keys, same order), so the report and the check agree.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Optional, Sequence

# The baseline's own keying (path relative to the root, fingerprint), so that
# "baselined" here means what it means to `ftlint --baseline`.
from ftlint.adoption import BASELINE_VERSION, _entries, _relative
from ftlint.diagnostics import Confidence
from ftlint.report.model import (
    BASELINED, HIDDEN, REPORTED, Comparison, Finding, Gone, NotChecked,
)
from ftlint.results import Report


class ReportError(Exception):
    """Bad input (a baseline or an earlier report that cannot be read): exit 2."""


def read_json(file: str, option: str) -> object:
    """The JSON document in ``file``, given with ``option``; a missing,
    unreadable or malformed file is a ReportError that says which."""
    try:
        return json.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{option} {file}: no such file") from None
    except OSError as exc:
        raise ReportError(f"{option} {file}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ReportError(f"{option} {file}: not JSON: {exc}") from None


def read_record(file: str, option: str) -> list[dict]:
    """The findings of a baseline file or of a report written with
    ``--format json``: each a dict with at least ``path`` and ``fingerprint``."""
    data = read_json(file, option)
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list) or data.get("version") != BASELINE_VERSION:
        raise ReportError(f"{option} {file}: neither a baseline file (ftlint --baseline) nor "
                          "a report written by `ftlint report --format json`")
    for entry in findings:
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str)
                and isinstance(entry.get("fingerprint"), str)):
            raise ReportError(f"{option} {file}: malformed finding: {entry!r}")
    return findings


def findings_of(report: Report, root: str, floor: Callable[[str], Confidence],
                baseline: Optional[Sequence[dict]] = None,
                ) -> tuple[list[Finding], list[NotChecked]]:
    """Every finding of ``report`` with its status; the files not checked.
    ``floor`` is a file's own min-confidence."""
    diagnostics = report.diagnostics  # in the check's order
    not_checked = [NotChecked(_relative(d.path, root), d.code, d.message)
                   for d in diagnostics if d.is_error]
    keyed = _entries(diagnostics, root)  # (skips file errors, as a baseline does)
    shown = [(d, e) for d, e in keyed if d.confidence >= floor(d.path)]
    left = Counter((e["path"], e["fingerprint"]) for e in baseline or ())
    status: dict[int, str] = {}
    for d, entry in shown:
        key = (entry["path"], entry["fingerprint"])
        if left[key] > 0:
            left[key] -= 1
            status[id(d)] = BASELINED
        else:
            status[id(d)] = REPORTED
    findings = [Finding(path=entry["path"], line=d.start.row, column=d.start.column,
                        code=d.code, name=d.name, message=d.message,
                        confidence=str(d.confidence), status=status.get(id(d), HIDDEN),
                        fixable=d.extra.get("fixable"), fingerprint=entry["fingerprint"],
                        function=entry.get("function"))
                for d, entry in keyed]
    return findings, not_checked


def compare(kind: str, source: str, record: Sequence[dict], findings: Sequence[Finding],
            checked: set[str], root: str) -> Comparison:
    """``record`` (a baseline's or an earlier report's findings) against the
    current ``findings``; ``checked`` are the relative paths checked now.
    Findings the record holds as hidden (an earlier report's) are left out:
    nobody saw them, so they are neither fixed nor new."""
    result = Comparison(kind, source)
    shown = Counter((f.path, f.fingerprint) for f in findings if f.status != HIDDEN)
    hidden = Counter((f.path, f.fingerprint) for f in findings if f.status == HIDDEN)
    for entry in record:
        if entry.get("status") == HIDDEN:
            continue
        path = entry["path"]
        if path not in checked and os.path.lexists(os.path.join(root, path)):
            result.not_checked += 1
            continue
        result.recorded += 1
        key = (path, entry["fingerprint"])
        for pool in (shown, hidden):  # still there, even if now below min-confidence
            if pool[key] > 0:
                pool[key] -= 1
                result.still += 1
                break
        else:
            line = entry.get("line")
            function = entry.get("function")
            result.fixed.append(Gone(path, str(entry.get("code", "?")),
                                     line if isinstance(line, int) else None,
                                     function if isinstance(function, str) else None))
    result.new = sum(shown.values())
    result.fixed.sort(key=lambda g: (g.path, g.line or 0, g.code))
    return result


def checked_paths(report: Report, root: str) -> set[str]:
    return {_relative(f.path, root) for f in report.files}
