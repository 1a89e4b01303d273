"""Arbitrary programs never crash the analysis, and findings point into the file.

The fast profile of the fuzzing in ``benchmarks/fuzz.py``: generated programs
(thread-shaped ones with odd formatting, and hypothesmith's) go through check,
fix and fix with unsafe fixes, and must keep every property of
``fuzzing.pipeline``. Each failure the fuzzing found is a file in
``fixtures/reliability``, checked the same way.
"""

from __future__ import annotations

from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftlint.api import lint_source
from ftlint.rules import ALL_RULES
from fuzzing.pipeline import check_program
from fuzzing.programs import thread_programs

ALL = sorted(ALL_RULES)


def _check(source: str) -> None:
    result = lint_source(source, "fuzz.py", codes=ALL)
    lines = source.splitlines() or [""]
    for d in result.diagnostics:
        assert 1 <= d.start.row <= max(len(lines), 1) + 1
        assert (d.start.row, d.start.column) <= (d.end.row, d.end.column) or d.is_error
    if not result.error:
        silenced = "\n".join(line + "  # noqa" if line.strip() else line for line in lines)
        # A noqa on every line silences every finding that starts on a code line.
        remaining = lint_source(silenced + "\n", "fuzz.py", codes=ALL)
        assert all(d.is_error for d in remaining.diagnostics) or remaining.error or all(
            not lines[d.start.row - 1].strip() for d in remaining.diagnostics)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_grammar_programs(source: str) -> None:
    _check(source)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_node_programs(source: str) -> None:
    _check(source)


SHARED = st.sampled_from(["_cache", "self.items", "cls.registry", "Holder.seen", "_count"])
STATEMENTS = st.sampled_from([
    "{x}[k] = v", "{x}[k] += 1", "{x}.append(v)", "del {x}[k]", "{x}.pop()",
    "if k not in {x}:\n        {x}[k] = v", "for item in {x}:\n        pass",
    "with _lock:\n        {x}.add(v)", "if {x} is None:\n        {x} = []",
])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SHARED, STATEMENTS), min_size=1, max_size=6))
def test_generated_racy_methods(parts) -> None:
    body = "\n".join("    " + stmt.format(x=x) for x, stmt in parts)
    source = ("import threading\n_cache = {}\n_count = 0\n_lock = threading.Lock()\n"
              "class Holder:\n    seen = set()\n    registry = []\n\n"
              f"def method(self, cls, k, v):\n    global _count\n{body}\n")
    assert not lint_source(source, "gen.py").error, source
    _check(source)


def _properties(source: str) -> None:
    failures = check_program(source)
    assert failures == [] or failures is None, "\n".join(
        f"{f.kind} in {f.stage}: {f.detail}" for f in failures)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(thread_programs(max_functions=2, max_classes=1))
def test_thread_shaped_programs_through_fix(source: str) -> None:
    _properties(source)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_grammar_programs_through_fix(source: str) -> None:
    _properties(source)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_node_programs_through_fix(source: str) -> None:
    _properties(source)


RELIABILITY = Path(__file__).resolve().parent.parent / "fixtures" / "reliability"


@pytest.mark.parametrize("path", sorted(RELIABILITY.glob("*.py")), ids=lambda p: p.name)
def test_reliability_fixture(path: Path) -> None:
    """A minimised program that once crashed ftlint or made it refuse its own
    fix. Read as bytes: line endings, tabs and the missing last newline are
    the point."""
    source = path.read_bytes().decode("utf-8")
    assert check_program(source) is not None, "libcst cannot parse the fixture"
    _properties(source)
