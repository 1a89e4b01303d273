"""Every fixture marks its expected findings inline; one test walks them all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftlint.api import lint_source
from ftlint.config import Settings
from ftlint.diagnostics import Confidence
from ftlint.rules import ALL_RULES
from ftlint.rules.base import expected_findings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
SELECT = re.compile(r"^#\s*select:\s*(?P<codes>[A-Z0-9, ]+)$", re.MULTILINE)


def _codes(source: str) -> list[str]:
    """A ``# select: FT101, FT107`` line picks the rules; else the defaults."""
    match = SELECT.search(source)
    if match:
        return sorted({c.strip() for c in match.group("codes").split(",")})
    return sorted(c for c, r in ALL_RULES.items() if r.default_enabled)


def check_source(source: str, path: str) -> None:
    result = lint_source(source, path, Settings(min_confidence=Confidence.LOW), codes=_codes(source),
                         apply_noqa=False)
    assert not result.error, result.diagnostics
    got = {(d.start.row, d.code): str(d.confidence) for d in result.diagnostics}
    expected = expected_findings(source)
    want = {(row, code): conf for row, code, conf in expected}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    lines = source.splitlines()
    problems = [f"missing {code} at line {row}: {lines[row - 1].strip()}" for row, code in missing]
    problems += [f"unexpected {code} at line {row}: {lines[row - 1].strip()} "
                 f"({next(d for d in result.diagnostics if (d.start.row, d.code) == (row, code)).reason})"
                 for row, code in extra]
    for key, conf in want.items():
        if key in got and conf is not None and got[key] != conf:
            problems.append(f"{key[1]} at line {key[0]}: confidence {got[key]}, expected {conf}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_fixture(path: Path) -> None:
    check_source(path.read_text(encoding="utf-8"), str(path))


def test_every_rule_has_a_fixture() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in FIXTURES.glob("*.py"))
    for code in ALL_RULES:
        assert f"expect: {code}" in text, f"no fixture marks a finding of {code}"
