"""Structural keys for the expressions that name shared state.

Two occurrences of ``self._cache[key]`` get equal keys, so the builder can
match a check (``if key not in self._cache``) with the act that follows, or a
read with the write in ``x = x + 1``, without generating code.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterator, Optional

import libcst as cst

Key = tuple


def expr_key(node: cst.BaseExpression) -> Optional[Key]:
    kind = type(node)  # exact types: libcst's classes make isinstance() an ABC check
    if kind is cst.Name:
        return ("N", node.value)
    if kind is cst.Attribute:
        base = expr_key(node.value)
        return None if base is None else ("A", base, node.attr.value)
    if kind is cst.Subscript:
        base = expr_key(node.value)
        if base is None or len(node.slice) != 1:
            return None
        index = node.slice[0].slice
        if not isinstance(index, cst.Index):
            return None
        return ("S", base, _index_key(index.value))
    if kind is cst.SimpleString or kind is cst.Integer:
        return ("L", node.value)
    return None


def _index_key(node: cst.BaseExpression) -> Key:
    return expr_key(node) or ("?",)


def root_name(key: Optional[Key]) -> Optional[str]:
    while key is not None and key[0] in ("A", "S"):
        key = key[1]
    return key[1] if key is not None and key[0] == "N" else None


def strip_view(node: cst.BaseExpression) -> cst.BaseExpression:
    """``d.items()`` / ``d.keys()`` / ``d.values()`` -> ``d``."""
    if (
        isinstance(node, cst.Call)
        and not node.args
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("items", "keys", "values")
    ):
        return node.func.value
    return node


def iter_subexpressions(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """Every expression inside ``node``, not descending into lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if _is_expression(kind):
            yield current
            if kind is cst.Lambda:
                continue
        for name in _fields(kind):
            value = getattr(current, name)
            kind = type(value)
            if kind is tuple or kind is list:
                stack.extend(v for v in value if _descends(type(v)))
            elif _descends(kind):
                stack.append(value)


# Per node type, asked once: isinstance() against libcst's abstract classes
# runs an ABC check on every call.
@functools.cache
def _is_expression(kind: type) -> bool:
    return issubclass(kind, cst.BaseExpression)


@functools.cache
def _descends(kind: type) -> bool:
    """A node that :func:`iter_subexpressions` walks into."""
    return issubclass(kind, cst.CSTNode) and not issubclass(kind, _SKIP)


@functools.cache
def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls)
                 if not f.name.startswith(("whitespace", "lpar", "rpar"))
                 # attribute and keyword names are not reads of a variable
                 and f.name not in ("attr", "keyword"))


_SKIP = (
    cst.BaseParenthesizableWhitespace, cst.Comma, cst.LeftParen, cst.RightParen,
    cst.Dot, cst.AssignEqual, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.BaseCompOp, cst.BaseBinaryOp, cst.BaseUnaryOp, cst.BaseBooleanOp,
)


def read_keys(node: cst.CSTNode) -> set[Key]:
    """Keys of everything ``node`` reads, with ``d.get(k)`` read as ``d[k]``."""
    keys: set[Key] = set()
    for expr in iter_subexpressions(node):
        if isinstance(expr, cst.Call):
            func = expr.func
            if (isinstance(func, cst.Attribute) and func.attr.value in ("get", "setdefault", "pop")
                    and expr.args):
                base = expr_key(func.value)
                if base is not None:
                    keys.add(("S", base, _index_key(expr.args[0].value)))
            continue
        key = expr_key(expr)
        if key is not None:
            keys.add(key)
    return keys
