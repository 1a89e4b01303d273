"""Formatters: the only layer that prints findings."""

from __future__ import annotations

from typing import Callable, TextIO

from ftlint.api import Report
from ftlint.output.json_format import write_json
from ftlint.output.text import write_text

FORMATS: dict[str, Callable[..., None]] = {
    "text": write_text,
    "json": write_json,
}
