"""A read-only traversal of a libcst tree, with libcst's visitor hooks.

``CSTNode.visit`` rebuilds and re-validates every node it passes, which costs
as much as parsing; we only read the tree. This walker keeps the same hook
names (``visit_If``, ``visit_If_body``, ``leave_If``, a ``False`` from a visit
skips the children) and skips whitespace and punctuation fields outright.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Iterator, Optional

import libcst as cst

SKIPPED_FIELDS = frozenset({
    "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators",
    "header", "footer", "trailing_whitespace", "dot", "equal", "colon", "lbracket",
    "rbracket", "lbrace", "rbrace", "operator", "at", "newline", "asynchronous",
    "star", "whitespace", "first_line", "empty_lines", "indent",
})

Hook = Optional[Callable]

_NESTED = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})  # exact types: no ABC check


def walk_own(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and the code inside it (not whitespace, comments or
    punctuation), nested functions and classes left out. Reads the fields
    directly: libcst's ``children`` runs a visitor over each node."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in code_children(current) if type(c) not in _NESTED)


def walk_code(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """:func:`walk_own` with nested functions and classes included."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(code_children(current))


def is_docstring(statement: cst.CSTNode) -> bool:
    """A statement line that is only a string: a docstring where it comes first."""
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


@functools.cache
def _plan(visitor: type, node: type) -> tuple[Hook, Hook, tuple[tuple[str, Hook, Hook], ...]]:
    name = node.__name__
    fields = []
    for field in dataclasses.fields(node):
        if field.name in SKIPPED_FIELDS or field.name.startswith("whitespace"):
            continue
        fields.append((field.name, getattr(visitor, f"visit_{name}_{field.name}", None),
                       getattr(visitor, f"leave_{name}_{field.name}", None)))
    return (getattr(visitor, f"visit_{name}", None), getattr(visitor, f"leave_{name}", None),
            tuple(fields))


# type -> is it a CSTNode? CSTNode is an abstract class, and isinstance()
# against it runs an ABC check each time: a third of the walk's cost.
_NODE_KINDS: dict[type, bool] = {}


def is_node_kind(kind: type) -> bool:
    known = _NODE_KINDS.get(kind)
    if known is None:  # one atomic call publishes it: workers may share the table
        known = _NODE_KINDS.setdefault(kind, issubclass(kind, cst.CSTNode))
    return known


@functools.cache
def _child_fields(node_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(node_type))


def _nodes_in(node: cst.CSTNode, fields: tuple[str, ...]) -> list[cst.CSTNode]:
    found = []
    for name in fields:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            found.extend(item for item in value if is_node_kind(type(item)))
        elif is_node_kind(kind):
            found.append(value)
    return found


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    return _nodes_in(node, _child_fields(type(node)))


@functools.cache
def _code_fields(node_type: type) -> tuple[str, ...]:
    return tuple(name for name in _child_fields(node_type)
                 if name not in SKIPPED_FIELDS and not name.startswith("whitespace"))


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """:func:`children`, without whitespace, comments and punctuation."""
    return _nodes_in(node, _code_fields(type(node)))


class Walker:
    def walk(self, node: cst.CSTNode) -> None:
        visit, leave, fields = _plan(type(self), type(node))
        if visit is None or visit(self, node) is not False:
            kinds = _NODE_KINDS
            for name, before, after in fields:
                value = getattr(node, name)
                if before is not None:
                    before(self, node)
                kind = type(value)
                if kind is tuple or kind is list:
                    for item in value:
                        if kinds.get(type(item)) or is_node_kind(type(item)):
                            self.walk(item)
                elif kinds.get(kind) or is_node_kind(kind):
                    self.walk(value)
                if after is not None:
                    after(self, node)
        if leave is not None:
            leave(self, node)
