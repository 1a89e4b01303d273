"""JSON in ruff's shape, so tooling that reads ``ruff --format json`` reads ours."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ftlint.results import Report
from ftlint.diagnostics import Diagnostic


def diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "filename": d.path,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "location": {"row": d.start.row, "column": d.start.column},
        "end_location": {"row": d.end.row, "column": d.end.column},
        "fix": d.fix,
        "url": d.url,
        "noqa_row": d.start.row,
        "confidence": str(d.confidence),
        "confidence_reason": d.reason,
    }


def write_json(report: Report, out: TextIO, **_: Any) -> None:
    json.dump([diagnostic_to_dict(d) for d in report.diagnostics], out, indent=2)
    out.write("\n")
