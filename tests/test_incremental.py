"""Parsing an edited buffer again by parts (the language server's path) must
give the tree a whole parse gives, or decline."""

from __future__ import annotations

import ast
import random
import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from ftlint import incremental

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = ["subprocess.py", "threading.py", "argparse.py"]


def _edit(lines: list[str], rng: random.Random, step: int) -> list[str]:
    index = rng.randrange(len(lines))
    line = lines[index]
    indent = line[:len(line) - len(line.lstrip())]
    new = list(lines)
    kind = rng.choice(["insert", "delete", "change", "blank", "comment", "type"])
    if kind == "insert":
        new.insert(index, f"{indent}_typed_{step} = {step}\n")
    elif kind == "delete":
        del new[index]
    elif kind == "change":
        new[index] = line.replace("self", "me", 1)
    elif kind == "blank":
        new.insert(index, "\n")
    elif kind == "comment":
        new.insert(index, f"{indent}# note {step}\n")
    elif not line.rstrip().endswith("\\"):
        new[index] = line.rstrip("\n") + f"  # typed {step}\n"
    return new


@pytest.mark.parametrize("name", MODULES)
def test_edits_spliced_equal_a_whole_parse(name: str, monkeypatch) -> None:
    """A chain of random edits, as typing makes them: each spliced tree
    equals the whole parse of the new text, down to every node, and the
    statement lines kept for the next edit are right."""
    spliced_classes = []
    splice_class = incremental._splice_class
    monkeypatch.setattr(incremental, "_splice_class",
                        lambda *a: spliced_classes.append(splice_class(*a)) or spliced_classes[-1])
    parsed = incremental.parse((STDLIB / name).read_text(encoding="utf-8"))
    rng = random.Random(20261204)
    spliced = 0
    for step in range(30):
        text = "".join(_edit(parsed.text.splitlines(keepends=True), rng, step))
        try:
            whole = incremental.parse(text)
        except cst.ParserSyntaxError:
            continue  # an edit that breaks the module: the check reports it
        again = incremental._splice(parsed, text)
        if again is None:
            parsed = whole
            continue
        spliced += 1
        assert again.tree.deep_equals(whole.tree)
        assert again.tree.code == text
        assert again.starts == whole.starts
        for index, node in enumerate(again.tree.body):
            if id(node) in again.inner:
                assert again.inner[id(node)] == incremental._class_starts(whole, index)
        parsed = again
    assert spliced >= 10, "most edits are spliced"
    assert any(r is not None for r in spliced_classes), "edits in a class splice its methods"


def test_what_cannot_be_spliced_is_parsed_whole() -> None:
    source = (STDLIB / "threading.py").read_text(encoding="utf-8")
    parsed = incremental.parse(source)
    lines = source.splitlines(keepends=True)
    # An unterminated string opened in a method: the segment cannot parse.
    middle = next(i for i in range(len(lines) // 2, len(lines))
                  if lines[i].startswith("        ") and lines[i].strip())
    broken = "".join(lines[:middle] + ['        s = """\n'] + lines[middle:])
    with pytest.raises(cst.ParserSyntaxError):  # from the whole parse, which says where
        incremental.reparse(parsed, broken)
    # The first line changes: the module's header is parsed with the module.
    assert incremental._splice(parsed, "# first\n" + source) is None
    again = incremental.reparse(parsed, "# first\n" + source)
    assert again.tree.deep_equals(cst.parse_module("# first\n" + source))


def test_the_server_path_reports_what_a_check_reports() -> None:
    """The check of a spliced tree gives the findings of a check of the text."""
    from ftlint.api import lint_source

    source = (STDLIB / "subprocess.py").read_text(encoding="utf-8")
    parsed = incremental.parse(source)
    lines = source.splitlines(keepends=True)
    def typed(index: int) -> str:
        return "".join(lines[:index + 1] + ["        self.returncode += 1\n"] + lines[index + 1:])

    def parses(text: str) -> bool:
        try:
            ast.parse(text)
        except SyntaxError:
            return False
        return True

    index = next(i for i in range(len(lines) * 2 // 3, len(lines))
                 if lines[i].startswith("        ") and parses(typed(i)))
    edited = typed(index)
    again = incremental._splice(parsed, edited)
    assert again is not None and again.text == edited, "the edit is spliced"
    by_parts = lint_source(edited, "subprocess.py", tree=again.tree)
    whole = lint_source(edited, "subprocess.py")
    assert [(d.code, d.start, d.end, d.message) for d in by_parts.diagnostics] == \
        [(d.code, d.start, d.end, d.message) for d in whole.diagnostics]


@pytest.mark.parametrize("tail", ["x = 1\n", "\n\ndef added():\n    return 1\n", "# a comment\n",
                                  "\n\n# trailing\n\n"])
def test_appending_at_the_end_is_spliced(tail: str) -> None:
    source = (STDLIB / "threading.py").read_text(encoding="utf-8")
    parsed = incremental.parse(source)
    again = incremental._splice(parsed, source + tail)
    assert again is not None
    whole = incremental.parse(source + tail)
    assert again.tree.deep_equals(whole.tree) and again.starts == whole.starts
    assert again.tree.code == source + tail


def test_typing_a_new_last_statement_keeps_the_statement_before_whole() -> None:
    """Each keystroke on a statement typed at the end of a module whose last
    statement is a large class: the class is not parsed again."""
    source = (STDLIB / "subprocess.py").read_text(encoding="utf-8")
    parsed = incremental.parse(source + "_typed = 1\n")
    assert isinstance(parsed.tree.body[-2], cst.ClassDef)
    for value in range(2, 5):
        text = source + f"_typed = {value}\n"
        again = incremental._splice(parsed, text)
        assert again is not None
        assert again.tree.body[-2] is parsed.tree.body[-2]  # the same node, not parsed again
        assert again.tree.deep_equals(cst.parse_module(text))
        parsed = again
