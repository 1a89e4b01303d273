"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

Choices (docs/output-formats.md explains them to users):

- ``tool.driver.rules`` lists every ftlint rule, enabled or not, plus the
  two file-error codes, so ``ruleIndex`` means the same in every log.
- Confidence maps to ``level`` and ``rank``: high is ``error`` (rank 90),
  medium ``warning`` (60), low ``note`` (30). A file that could not be
  checked is an ``error`` result of FT000/FT001/FT002 (rank 100).
- ``partialFingerprints["ftlint/v1"]`` hashes the rule, the enclosing
  function and the reported code with its whitespace collapsed, not the
  line number, so a finding keeps its identity when code above it moves.
- Paths are relative to the current directory (``uriBaseId`` ``%SRCROOT%``),
  POSIX-style and percent-encoded; columns count code points.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO
from urllib.parse import quote

from ftlint import __version__
from ftlint.diagnostics import DOCS_URL, INTERNAL_ERROR, IO_ERROR, SYNTAX_ERROR, Confidence, Diagnostic
from ftlint.output.source import SourceCache, span, span_text

if TYPE_CHECKING:
    from ftlint.results import Report

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://ftlint.readthedocs.io/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "ftlint/v1"

LEVELS = {Confidence.HIGH: ("error", 90.0), Confidence.MEDIUM: ("warning", 60.0),
          Confidence.LOW: ("note", 30.0)}
ERROR_RANK = 100.0

_TAGS = {"FT1": "module-state", "FT2": "shared-objects", "FT3": "gil-idioms"}
_FILE_ERRORS = {
    INTERNAL_ERROR[0]: (INTERNAL_ERROR[1], "ftlint failed on a file, so it was not checked."),
    IO_ERROR[0]: (IO_ERROR[1], "A file could not be read or decoded, so it was not checked."),
    SYNTAX_ERROR[0]: (SYNTAX_ERROR[1], "A file could not be parsed, so it was not checked."),
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_sentence(text: str) -> str:
    text = _one_line(text)
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def rule_descriptors() -> list[dict[str, Any]]:
    from ftlint.docs import render_rule
    from ftlint.rules import ALL_RULES

    out = []
    for code, rule in ALL_RULES.items():
        page = render_rule(rule)
        tags = ["concurrency", "free-threading", "thread-safety"]
        if code[:3] in _TAGS:
            tags.append(_TAGS[code[:3]])
        out.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": _first_sentence(rule.summary)},
            "fullDescription": {"text": _one_line(rule.summary) + " " + _one_line(rule.rationale)},
            "help": {"text": page, "markdown": page},
            "helpUri": DOCS_URL.format(code=code),
            "defaultConfiguration": {"enabled": bool(rule.default_enabled), "level": "warning"},
            "properties": {"tags": tags, "precision": "medium", "problem.severity": "warning"},
        })
    for code, (name, text) in _FILE_ERRORS.items():
        out.append({
            "id": code,
            "name": name,
            "shortDescription": {"text": text},
            "fullDescription": {"text": text + " The message says why; no other rule ran on it."},
            "help": {"text": text, "markdown": text},
            "defaultConfiguration": {"enabled": True, "level": "error"},
            "properties": {"tags": ["file-error"], "precision": "very-high",
                           "problem.severity": "error"},
        })
    return out


def artifact_location(path: str, root: Path) -> dict[str, str]:
    """A relative POSIX URI under %SRCROOT%, or a file: URI outside it."""
    p = Path(path)
    absolute = p if p.is_absolute() else root / p
    try:
        rel = Path(os.path.relpath(absolute, root))
    except ValueError:  # another drive on Windows
        rel = None
    if rel is not None and ".." not in rel.parts:
        return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}
    return {"uri": absolute.resolve().as_uri()}


def fingerprint(d: Diagnostic, code_text: Optional[str], occurrence: int) -> str:
    if d.is_error:
        parts = [d.code, d.message]
    else:
        parts = [d.code, d.extra.get("function") or "<module>",
                 _one_line(code_text) if code_text is not None else d.message]
    parts.append(str(occurrence))
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def build_sarif(report: "Report", root: Optional[Path] = None) -> dict[str, Any]:
    root = Path(root or os.getcwd())
    rules = rule_descriptors()
    index = {r["id"]: i for i, r in enumerate(rules)}
    sources = SourceCache()
    seen: Counter = Counter()
    results = []
    for d in report.diagnostics:
        start, end = span(d)
        region: dict[str, Any] = {"startLine": start.row, "startColumn": start.column,
                                  "endLine": end.row, "endColumn": end.column}
        code_text = None
        if not d.is_error:
            lines = sources.lines(d.path)
            if lines is not None:
                code_text = span_text(lines, d.start, d.end)
                if code_text:
                    region["snippet"] = {"text": code_text}
        base = (d.path, d.code, d.extra.get("function"), _one_line(code_text or d.message))
        seen[base] += 1
        if d.is_error:
            level, rank = "error", ERROR_RANK
        else:
            level, rank = LEVELS[d.confidence]
        location: dict[str, Any] = {"physicalLocation": {
            "artifactLocation": artifact_location(d.path, root), "region": region}}
        if d.extra.get("function"):
            location["logicalLocations"] = [{"fullyQualifiedName": d.extra["function"],
                                             "kind": "function"}]
        result: dict[str, Any] = {"ruleId": d.code}
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        result.update({
            "level": level,
            "rank": rank,
            "message": {"text": d.message},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(d, code_text, seen[base])},
            "properties": {"confidence": "error" if d.is_error else str(d.confidence),
                           "confidence_reason": d.reason},
        })
        results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ftlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }


def write_sarif(report: "Report", out: TextIO, **_: Any) -> None:
    json.dump(build_sarif(report), out, indent=2)
    out.write("\n")
