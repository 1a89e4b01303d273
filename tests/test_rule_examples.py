"""Each rule's VALID and INVALID examples run as tests (and feed its docs)."""

from __future__ import annotations

import pytest

from ftlint.api import lint_source
from ftlint.config import Settings
from ftlint.diagnostics import Confidence
from ftlint.rules import ALL_RULES
from ftlint.rules.base import expected_findings

CASES = [(code, kind, i, ex) for code, rule in ALL_RULES.items()
         for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
         for i, ex in enumerate(examples)]


@pytest.mark.parametrize("code,kind,index,example", CASES,
                         ids=[f"{c}-{k}-{i}" for c, k, i, _ in CASES])
def test_example(code, kind, index, example) -> None:
    source = example.source
    # Every finding, low ones included: the markers give each one's confidence.
    result = lint_source(source, "example.py", Settings(min_confidence=Confidence.LOW),
                         codes=[code], apply_noqa=False)
    assert not result.error
    got = sorted((d.start.row, d.code, str(d.confidence)) for d in result.diagnostics)
    if kind == "valid":
        assert got == [], f"VALID example of {code} is flagged:\n{source}"
        return
    want = expected_findings(source)
    assert want, f"INVALID example of {code} marks no finding"
    assert sorted((r, c) for r, c, _ in want) == [(r, c) for r, c, _ in got], source
    for (row, c, conf), (_, _, got_conf) in zip(sorted(want), got):
        assert conf is None or conf == got_conf, f"{c} at {row}: {got_conf} != {conf}\n{source}"


@pytest.mark.parametrize("code", sorted(ALL_RULES))
def test_rule_metadata(code) -> None:
    rule = ALL_RULES[code]
    assert rule.code == code and code.startswith("FT") and len(code) == 5
    assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name
    for field in ("message", "summary", "rationale", "confidence_doc", "fix_doc"):
        assert getattr(rule, field).strip(), f"{code} has no {field}"
    assert rule.fix in ("safe", "unsafe", "sometimes", "none")
    assert rule.INVALID, f"{code} has no INVALID example"
    assert rule.VALID, f"{code} has no VALID example"


def test_codes_and_names_are_unique() -> None:
    names = [r.name for r in ALL_RULES.values()]
    assert len(names) == len(set(names))
