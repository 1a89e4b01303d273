"""Positions for just the nodes that are reported.

libcst's PositionProvider records a range for every node of the module, which
costs about as much as parsing again. A file usually has a handful of findings,
so we run one code generation pass that only notes character offsets for the
wanted nodes and stops as soon as the last of them has been generated.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from ftlint.diagnostics import Location


class _Done(Exception):
    pass


class _OffsetState(CodegenState):
    __thread_safe__ = False  # one per code generation pass

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
        )
        self.targets = {id(n) for n in targets}
        self.offset = 0
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        self._stack: list[int] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self._stack.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            start = self._stack.pop()
            self.starts.setdefault(key, start)
            self.ends.setdefault(key, self.offset)
            if len(self.ends) == len(self.targets):
                raise _Done

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ):
        # The syntactic range leaves out leading blank lines and comments.
        # libcst enters this for every statement and most expressions: a
        # generator-based context manager there cost a third of the pass.
        key = id(node)
        if key in self.targets:
            return _Recorder(self, key)
        return _NOTHING


class _Recorder:
    __slots__ = ("state", "key", "start")

    def __init__(self, state: _OffsetState, key: int) -> None:
        self.state, self.key = state, key

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:  # not when the pass stops early (_Done)
            self.state.starts[self.key] = self.start
            self.state.ends[self.key] = self.state.offset


class _Nothing:
    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        pass


_NOTHING = _Nothing()


def _locations(text: str, offsets: Iterable[int]) -> dict[int, Location]:
    """The location of each offset, in one pass over ``text``: counting the
    lines from the start for each offset cost findings x file size."""
    found = {}
    row, last, line_start = 1, 0, 0
    lone_cr = _LONE_CR.search(text) is not None
    for offset in sorted(set(offsets)):
        if lone_cr:  # old Mac line endings: a CR alone ends a line too
            for newline in _NEWLINE.finditer(text, last, offset):
                row, line_start = row + 1, newline.end()
        else:
            row += text.count("\n", last, offset)
            newline = text.rfind("\n", last, offset)
            if newline >= 0:
                line_start = newline + 1
        found[offset] = Location(row, offset - line_start + 1)
        last = offset
    return found


# Rows as the parser (and noqa) count them.
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LONE_CR = re.compile(r"\r(?!\n)")


def compute_positions(
    module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> dict[int, tuple[Location, Location]]:
    """Map id(node) to its (start, end) for each of ``nodes``."""
    wanted = list(nodes)
    if not wanted:
        return {}
    state = _OffsetState(module, wanted)
    try:
        module._codegen(state)
    except _Done:
        pass
    text = "".join(state.tokens)
    spans = {}
    for key, start in state.starts.items():
        end = state.ends[key]
        # A compound statement's range runs to the end of its block; trim the
        # trailing newline and indentation so the end lands on real code.
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        spans[key] = (start, end)
    where = _locations(text, [offset for span in spans.values() for offset in span])
    return {key: (where[start], where[end]) for key, (start, end) in spans.items()}
