"""ftlint's parse skips libcst's per-node checks, and nothing else changes.

The parser builds only valid trees, so the checks cost time and catch
nothing there; nodes built outside a parse (a fix's, a user's) keep them.
"""

from __future__ import annotations

import threading
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from ftlint import engine

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _sources() -> list[Path]:
    return sorted(FIXTURES.rglob("*.py"))[:200]


def test_parse_gives_libcst_tree() -> None:
    paths = _sources()
    assert len(paths) >= 50
    for path in paths:
        source = path.read_bytes()
        try:
            expected = cst.parse_module(source)
        except cst.ParserSyntaxError:
            with pytest.raises(cst.ParserSyntaxError):
                engine.parse(source)
            continue
        tree = engine.parse(source)
        assert tree.deep_equals(expected), path
        assert tree.code == expected.code


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_parse_agrees_on_generated_programs(source: str) -> None:
    try:
        expected = cst.parse_module(source)
    except Exception as exc:  # noqa: BLE001 - the same error either way
        with pytest.raises(type(exc)):
            engine.parse(source)
        return
    assert engine.parse(source).deep_equals(expected)


def test_nodes_built_outside_a_parse_are_still_checked() -> None:
    engine.parse("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_other_threads_check_while_one_parses() -> None:
    """The switch is the parsing thread's own: a fix built in another
    thread meanwhile is checked."""
    assert engine._unchecked is not None, "libcst's nodes changed: the parse checks them all"
    engine._unchecked.parsing = True  # this thread is "parsing"
    try:
        caught: list[BaseException] = []

        def build() -> None:
            try:
                cst.Name("")
            except cst.CSTValidationError as exc:
                caught.append(exc)

        thread = threading.Thread(target=build)
        thread.start()
        thread.join()
        cst.Name("")  # unchecked here, in the "parsing" thread
    finally:
        engine._unchecked.parsing = False
    assert len(caught) == 1
