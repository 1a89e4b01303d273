"""The fixer's output is a fixed point: fixing it again changes nothing.

The fixer proves each pass by fixing again; when that would change the code
it refuses the whole file. These are the shapes where it refused its own
(correct) fix, plus the cases that must stay declined for the same code to
be safe.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from ftlint.api import lint_source
from ftlint.config import Settings
from ftlint.diagnostics import Confidence
from ftlint.fixes import fixer
from ftlint.fixes.tree import uses_of_local

RELIABILITY = Path(__file__).resolve().parent.parent / "fixtures" / "reliability"
LOW = Settings(min_confidence=Confidence.LOW)


def _fixed_point(source: str, settings: Settings = LOW) -> fixer.FixResult:
    """Fix ``source`` with unsafe fixes; the result must compile and a second
    fix must change nothing."""
    first = fixer.fix_source(source, "mod.py", settings, unsafe=True)
    assert first.error is None, first.error
    assert first.applied
    compile(first.new_source, "mod.py", "exec", dont_inherit=True)
    again = fixer.fix_source(first.new_source, "mod.py", settings, unsafe=True)
    assert again.error is None, again.error
    assert again.applied == []
    assert again.new_source == first.new_source
    return first


def _fixture(name: str) -> str:
    return (RELIABILITY / name).read_text()


def _function(source: str, name: str) -> str:
    module = cst.parse_module(source)
    node = next(s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == name)
    return module.code_for_node(node)


def test_guard_clauses_sharing_statements_and_a_message() -> None:
    """`_pid`'s guard-clause fix overlaps `_fd`'s and waits for the next
    pass; `forget`'s write of `_pid`, fixed in the first, says the same."""
    result = _fixed_point(_fixture("guard_clauses_overlap_same_message.py"))
    assert not [d for d in lint_source(result.new_source, "mod.py", LOW).diagnostics
                if d.code == "FT205"]
    fixed = [o for o in result.applied if "_pid" in o.message
             and not o.fix_message.startswith("Covered by the fix for")]
    # forget, and stop's writes: the last one joins the guard clauses' unit,
    # which uses `_pid` right before it, or is a fix of its own (a write
    # that another fix's lock came to cover is reported as covered by it).
    assert len(fixed) in (2, 3)
    assert "        with self._lock:\n            if self._fd is None:" in result.new_source


def test_overlapping_fix_is_left_to_the_next_pass_not_refused() -> None:
    """The first pass alone: the check of the pass does not count the writes
    it left for the next one as findings it failed to fix."""
    source = _fixture("guard_clauses_overlap_same_message.py")
    wanted = {(d.code, d.start.row, d.start.column)
              for d in lint_source(source, "mod.py", LOW).diagnostics}
    first = fixer._one_pass(source, "mod.py", LOW, True, wanted, None)
    assert any("overlaps the fix" in o.reason for o in first.unfixed)
    assert any("_pid" in o.message for o in first.applied)
    assert fixer._verify(source, first, "mod.py", LOW, True, None) is None


@pytest.mark.parametrize("name, fixed_function", [
    ("switch_interval_old_in_nested_function.py", "run_exclusive"),
    ("chdir_old_in_nested_function.py", "build"),
])
def test_idiom_with_a_nested_function_of_the_same_variable(name: str, fixed_function: str) -> None:
    """Both idioms save the old value in `old`; the nested function's `old`
    is its own variable, so the outer idiom is rewritten in the first pass."""
    source = _fixture(name)
    result = _fixed_point(source)
    body = _function(result.new_source, fixed_function)
    assert "old" not in body
    assert "setswitchinterval" not in body and "chdir" not in body
    assert "with _atomic_section_lock:" in body and "cwd=path" in body
    # Already in the first pass: nothing is left for a follow-up.
    wanted = {(d.code, d.start.row, d.start.column)
              for d in lint_source(source, "mod.py", LOW).diagnostics}
    first = fixer._one_pass(source, "mod.py", LOW, True, wanted, None)
    assert not [o for o in first.unfixed if o.code in ("FT302", "FT303")]


CONFIDENCE_SPLIT = textwrap.dedent('''\
    import sys
    import threading


    def tick(work):
        sys.setswitchinterval(1000)
        try:
            work()
        finally:
            sys.setswitchinterval(0.005)


    def tock(work):
        sys.setswitchinterval(1000)
        try:
            work()
        finally:
            sys.setswitchinterval(0.005)


    threading.Thread(target=tick).start()
''')


def test_same_message_below_the_confidence_asked_for_is_left_alone() -> None:
    """`tick`'s calls are reported with high confidence, `tock`'s with
    medium: fixing the high ones only, the same message in `tock` is not a
    finding the fix failed to remove."""
    high = Settings(min_confidence=Confidence.HIGH)
    result = _fixed_point(CONFIDENCE_SPLIT, high)
    assert "with _atomic_section_lock:" in _function(result.new_source, "tick")
    assert _function(result.new_source, "tock") == _function(CONFIDENCE_SPLIT, "tock")
    both = _fixed_point(CONFIDENCE_SPLIT, LOW)
    assert "setswitchinterval" not in both.new_source


@pytest.mark.parametrize("nested", [
    "def report():\n        return old",
    "def report():\n        nonlocal old\n        old = 2",
    "def report(value=old):\n        return value",
    "report = lambda: old",
])
def test_outer_variable_used_in_a_nested_function_is_still_declined(nested: str) -> None:
    """Removing `old = sys.getswitchinterval()` would break a nested
    function that reads the outer `old`: that idiom stays."""
    source = textwrap.dedent('''\
        import sys
        import threading


        def run(work):
            old = sys.getswitchinterval()
            sys.setswitchinterval(1000)
            try:
                work()
            finally:
                sys.setswitchinterval(old)
            NESTED
            return report


        threading.Thread(target=run).start()
    ''').replace("NESTED", nested)
    result = fixer.fix_source(source, "mod.py", LOW, unsafe=True)
    assert result.error is None
    assert result.new_source == source
    assert any(o.code == "FT303" and "only `set; try" in o.reason for o in result.unfixed)


@pytest.mark.parametrize("body, count", [
    ("old = 1\nreturn old", 2),
    ("old = 1\ndef f():\n    old = 2\n    return old\nreturn old", 2),
    ("old = 1\ndef f():\n    return old\nreturn old", 3),
    ("old = 1\ndef f():\n    nonlocal old\n    old = 2\nreturn old", 4),
    ("old = 1\ndef f():\n    global old\n    old = 2\nreturn old", 2),
    ("old = 1\ndef f(old):\n    return old\nreturn old", 2),
    ("old = 1\ndef f(x=old):\n    old = x\nreturn old", 3),
    ("old = 1\nf = lambda old: old\nreturn old", 2),
    ("old = 1\nf = lambda: old\nreturn old", 3),
    # Bound only in a function nested further, or a comprehension: not its own.
    ("old = 1\ndef f():\n    def g():\n        old = 2\n    return old\nreturn old", 3),
    ("old = 1\ndef f():\n    return [old for old in ()]\nreturn old", 4),
    ("old = 1\ndef f():\n    for old in ():\n        pass\nreturn old", 2),
    ("old = 1\ndef f():\n    import old\nreturn old", 2),
    ("old = 1\ndef f():\n    return [y for y in (1,) if (old := y)]\nreturn old", 2),
    ("old = 1\ndef f():\n    return [lambda: (old := 2) for y in ()]\nreturn old", 3),
])
def test_uses_of_local(body: str, count: int) -> None:
    source = "def outer():\n" + textwrap.indent(body, "    ") + "\n"
    function = cst.parse_module(source).body[0]
    assert uses_of_local(function, "old") == count


def test_declined_loop_guarded_once_the_write_fix_adds_the_lock() -> None:
    """The first pass declines the loop over a Counter (its mutations are not
    all under one lock) while it guards the unlocked write and snapshots
    another loop with the same message; the check of that pass must not
    count the declined loop, which the follow-up pass guards."""
    result = _fixed_point(_fixture("declined_loop_guardable_after_write_fix.py"))
    assert not [d for d in lint_source(result.new_source, "mod.py", LOW).diagnostics
                if d.code in ("FT205", "FT206")]
    assert "    with _mu:\n        if k not in CACHE:" in result.new_source
    assert "        for key in CACHE:\n            key.upper()" in result.new_source


def test_declined_write_back_under_the_rule_of_a_fixed_one() -> None:
    """`self.names.add(v)` is FT104, declined as one atomic operation; once
    the check-then-act fix of the pass locks a write of the class's `names`,
    it is FT205, like the fixed `self.names |= {v}`. The check of that pass
    must not count it: the follow-up pass guards it."""
    result = _fixed_point(_fixture("declined_write_back_under_fixed_rule.py"))
    assert not [d for d in lint_source(result.new_source, "mod.py", LOW).diagnostics
                if d.code in ("FT104", "FT203", "FT205")]
    assert "        with self._lock:\n            self.names |= {v}\n            self.names.add(v)\n" \
        in result.new_source
