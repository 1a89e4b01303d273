"""The report's data as JSON: for scripts, for tests, and for the next
report's ``--since``. Its ``findings`` list has the baseline's fields
(``path``, ``code``, ``fingerprint``, ``line``, ``function``) and more, so
``--since`` reads a report and a baseline file alike."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TextIO

from ftlint.adoption import BASELINE_VERSION
from ftlint.report.model import ReportData


def to_json(data: ReportData) -> dict[str, Any]:
    totals = data.totals()
    hidden = data.hidden_by_confidence()
    readiness = data.readiness
    return {
        "format": "ftlint-report",
        "version": BASELINE_VERSION,
        "ftlint": data.version,
        "generated": data.generated,
        "title": data.title,
        "project": data.project,
        "paths": list(data.paths),
        "min_confidence": data.min_confidence,
        "files_checked": data.files_checked,
        "not_checked": [asdict(item) for item in data.not_checked],
        "totals": {**totals.as_dict(),
                   "hidden_by_confidence": {c: hidden[c] for c in ("high", "medium", "low")}},
        "directories": [{"directory": name, **c.as_dict()} for name, c in data.by_directory()],
        "rules": [{"code": key.split(" ", 1)[0], "name": key.split(" ", 1)[1], **c.as_dict()}
                  for key, c in data.by_rule()],
        "baseline": data.baseline.as_dict() if data.baseline else None,
        "since": data.since.as_dict() if data.since else None,
        "dependencies": None if readiness is None else {
            "mode": readiness.mode, "source": readiness.source, "note": readiness.note,
            "headline": readiness.headline(),
            "context": [{"label": label, "value": value} for label, value in readiness.context],
            "counts": dict(readiness.counts()),
            "items": [asdict(d) for d in readiness.dependencies],
            "warnings": list(readiness.warnings)},
        "findings": [asdict(f) for f in data.findings],
    }


def write_json(data: ReportData, out: TextIO) -> None:
    json.dump(to_json(data), out, indent=2)
    out.write("\n")
