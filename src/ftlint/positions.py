"""Positions for just the nodes that are reported.

libcst's PositionProvider records a range for every node of the module, which
costs about as much as parsing again. A file usually has a handful of findings,
so we run one code generation pass that only notes character offsets for the
wanted nodes and stops as soon as the last of them has been generated.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional

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
    module: cst.Module, nodes: Iterable[cst.CSTNode],
    owners: Optional[Mapping[int, tuple[cst.FunctionDef, int]]] = None,
    text: Optional[str] = None,
) -> dict[int, tuple[Location, Location]]:
    """Map id(node) to its (start, end) for each of ``nodes``.

    With ``owners`` (id(node) -> (the outermost function around it, that
    function's ordinal among the module's functions of the same name, in
    source order)) and the module's ``text``, each function is generated on
    its own and placed by its ``def`` line in the text: a finding deep in a
    large module then costs the code generation of its function, not of
    everything before it. A function whose generated code is not found
    verbatim at that place falls back to generating the module."""
    wanted = list(nodes)
    if not wanted:
        return {}
    found: dict[int, tuple[Location, Location]] = {}
    rest = wanted
    if owners and text is not None and not _LONE_CR.search(text):
        rest = []
        groups: dict[int, tuple[cst.FunctionDef, int, list[cst.CSTNode]]] = {}
        for node in wanted:
            owner = owners.get(id(node))
            if owner is None:
                rest.append(node)
            else:
                groups.setdefault(id(owner[0]), (owner[0], owner[1], []))[2].append(node)
        spans: dict[int, tuple[int, int]] = {}
        defs: dict[str, list[re.Match]] = {}
        for function, ordinal, targets in groups.values():
            placed = _in_function(function, ordinal, targets, module, text, defs)
            if placed is None:
                rest.extend(targets)
            else:
                spans.update(placed)
        where = _locations(text, [offset for span in spans.values() for offset in span])
        found = {key: (where[start], where[end]) for key, (start, end) in spans.items()}
    if rest:
        found.update(_in_module(module, rest))
    return found


def _trimmed(text: str, start: int, end: int) -> int:
    """A compound statement's range runs to the end of its block; trim the
    trailing newline and indentation so the end lands on real code."""
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _in_module(module: cst.Module, wanted: list[cst.CSTNode]) -> dict[int, tuple[Location, Location]]:
    state = _OffsetState(module, wanted)
    try:
        module._codegen(state)
    except _Done:
        pass
    text = "".join(state.tokens)
    spans = {key: (start, _trimmed(text, start, state.ends[key]))
             for key, start in state.starts.items()}
    where = _locations(text, [offset for span in spans.values() for offset in span])
    return {key: (where[start], where[end]) for key, (start, end) in spans.items()}


_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)", re.M)


def _in_function(function: cst.FunctionDef, ordinal: int, targets: list[cst.CSTNode],
                 module: cst.Module, text: str,
                 defs: dict[str, list[re.Match]]) -> Optional[dict[int, tuple[int, int]]]:
    """Offsets in ``text`` of ``targets``, from generating ``function``
    alone; None when it cannot be placed with certainty."""
    name = function.name.value
    if not defs:  # every def line of the text, by name, in one pass
        for match in _DEF.finditer(text):
            defs.setdefault(match.group(2), []).append(match)
        defs.setdefault("", [])  # read, even if the text has no def
    matches = defs.get(name, ())
    if ordinal >= len(matches):
        return None
    match = matches[ordinal]
    # Without its leading comment lines, which may be indented differently;
    # the copy keeps the same child nodes, so the targets are still found.
    alone = function.with_changes(leading_lines=())
    state = _OffsetState(module, [*targets, function.name])
    state.indent_tokens = [match.group(1)] if match.group(1) else []
    try:
        alone._codegen(state)
    except _Done:
        pass
    code = "".join(state.tokens)
    name_at = state.starts.get(id(function.name))
    if name_at is None or any(id(t) not in state.ends for t in targets):
        return None
    # The generated code starts at the start of a line (a decorator's or the
    # def's); the def line's place in the text says which.
    line_start = text.rfind("\n", 0, match.start()) + 1
    for _ in range(code.count("\n", 0, name_at)):
        if line_start == 0:
            return None
        line_start = text.rfind("\n", 0, line_start - 1) + 1
    if not text.startswith(code, line_start):
        return None  # not this def after all (one in a string, say): be exact
    return {id(t): (line_start + state.starts[id(t)],
                    _trimmed(text, line_start + state.starts[id(t)],
                             line_start + state.ends[id(t)]))
            for t in targets}
