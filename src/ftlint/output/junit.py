"""JUnit XML: one test suite, one test case per checked file.

A file with findings is a failed test case with one ``<failure>`` per
finding; a file that could not be checked has an ``<error>``. The suite's
``failures`` and ``errors`` count test cases, as JUnit readers expect, so
``tests - failures - errors`` is the number of clean files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any, TextIO

from ftlint.diagnostics import Diagnostic

if TYPE_CHECKING:
    from ftlint.results import Report

# Characters XML 1.0 cannot carry, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _classname(path: str) -> str:
    name = path.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    for suffix in (".pyi", ".py"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    return name.replace("/", ".") or path


def _body(d: Diagnostic) -> str:
    tag = "error" if d.is_error else str(d.confidence)
    lines = [f"{d.path}:{d.start.row}:{d.start.column}: {d.code} [{tag}] {d.message}"]
    if d.reason and not d.is_error:
        lines.append(f"Confidence: {d.reason}")
    if d.url:
        lines.append(d.url)
    return _clean("\n".join(lines))


def build_junit(report: "Report") -> ET.Element:
    files = sorted(report.files, key=lambda f: f.path)
    failed = sum(1 for f in files if not f.error and f.diagnostics)
    errored = sum(1 for f in files if f.error)
    counts = {"tests": str(len(files)), "failures": str(failed), "errors": str(errored)}
    root = ET.Element("testsuites", {"name": "ftlint", **counts, "time": "0"})
    suite = ET.SubElement(root, "testsuite", {"name": "ftlint", **counts, "skipped": "0",
                                              "time": "0"})
    for f in files:
        case = ET.SubElement(suite, "testcase", {
            "name": _clean(f.path), "classname": _clean(_classname(f.path)),
            "file": _clean(f.path), "time": "0"})
        for d in sorted(f.diagnostics, key=Diagnostic.sort_key):
            element = ET.SubElement(case, "error" if d.is_error else "failure", {
                "type": f"{d.code} {d.name}",
                "message": _clean(f"{d.start.row}:{d.start.column}: {d.code} {d.message}"),
            })
            element.text = _body(d)
    return root


def write_junit(report: "Report", out: TextIO, **_: Any) -> None:
    root = build_junit(report)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
