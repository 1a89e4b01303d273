"""Formatters: the only layer that prints findings.

Every formatter is called as ``write(report, out, quiet=..., statistics=...,
show_source=..., color=...)`` and ignores the options it has no use for.
``FORMATS`` is the list ``--format`` offers.
"""

from __future__ import annotations

from typing import Callable

from ftlint.output.github import write_github
from ftlint.output.json_format import write_json
from ftlint.output.junit import write_junit
from ftlint.output.sarif import write_sarif
from ftlint.output.text import write_text

FORMATS: dict[str, Callable[..., None]] = {
    "text": write_text,
    "json": write_json,
    "github": write_github,
    "sarif": write_sarif,
    "junit": write_junit,
}
