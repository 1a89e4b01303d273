"""Reading the test of an ``if``: which state it checks, and how.

A check followed by an act on the same state is a compound operation, safe
only if nothing can run between the two. The builder uses these helpers to
pair each write with the innermost check that tested the same state.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ftlint.analysis.keys import Key, expr_key, strip_view

# What a test says about the state it reads:
#   "none"     X is None / not X / not hasattr(o, "x") (lazy initialisation)
#   "contains" k in d / d.get(k) is None
#   "len"      len(d) > n
#   "truthy"   bare X, or X compared with something
CheckKinds = dict[Key, str]

CONTAINER_WRITES = frozenset({
    "setitem", "delitem", "pop", "popitem", "popleft", "remove", "discard",
    "add", "append", "appendleft", "setdefault", "clear", "insert", "update",
})
EVICTIONS = frozenset({"pop", "popitem", "popleft", "delitem", "remove", "clear"})
# Every write that can take an item out of a container.
REMOVALS = EVICTIONS | {"discard"}
REBINDS = frozenset({"rebind", "setattr"})
# One atomic call that does its own membership test: `d.setdefault(k, v)` and
# `s.discard(x)` after `if k in d` race with nothing (and are what FT203's
# fix writes, so flagging them would undo the fix's proof).
SELF_CHECKING = frozenset({"setdefault", "discard"})


def test_keys(test: cst.BaseExpression) -> CheckKinds:
    found: CheckKinds = {}
    _collect(test, found, negated=False)
    return found


def _add(found: CheckKinds, node: cst.BaseExpression, kind: str) -> None:
    key = expr_key(strip_view(node))
    if key is not None:
        found.setdefault(key, kind)


def _attr_key(call: cst.Call) -> Optional[Key]:
    """Key of ``o.name`` for ``hasattr(o, "name")`` / ``getattr(o, "name", ...)``."""
    if len(call.args) < 2 or not isinstance(call.args[1].value, cst.SimpleString):
        return None
    base = expr_key(call.args[0].value)
    name = call.args[1].value.evaluated_value
    if base is None or not isinstance(name, str):
        return None
    return ("A", base, name)


def _collect(node: cst.BaseExpression, found: CheckKinds, negated: bool) -> None:
    if isinstance(node, cst.BooleanOperation):
        _collect(node.left, found, negated)
        _collect(node.right, found, negated)
    elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        _collect(node.expression, found, not negated)
        if isinstance(node.expression, (cst.Name, cst.Attribute)):
            _add(found, node.expression, "none")
    elif isinstance(node, cst.Comparison):
        left = node.left
        for target in node.comparisons:
            op, right = target.operator, target.comparator
            if isinstance(op, (cst.In, cst.NotIn)):
                _add(found, right, "contains")
            elif isinstance(op, (cst.Is, cst.IsNot)) and is_none(right):
                if get_call(left):
                    _add(found, left.func.value, "contains")
                elif isinstance(left, cst.Call) and _name(left.func) == "getattr":
                    key = _attr_key(left)
                    if key is not None:
                        found.setdefault(key, "none")
                else:
                    _add(found, left, "none")
            else:
                for side in (left, right):
                    if isinstance(side, cst.Call) and _name(side.func) == "len" and side.args:
                        _add(found, side.args[0].value, "len")
                    else:
                        _add(found, side, "truthy")
            left = right
    elif isinstance(node, cst.Call):
        func = _name(node.func)
        if func == "hasattr":
            key = _attr_key(node)
            if key is not None:
                found.setdefault(key, "none")
        elif func == "getattr":
            key = _attr_key(node)
            if key is not None:
                found.setdefault(key, "none" if negated else "truthy")
        elif func == "len" and node.args:
            _add(found, node.args[0].value, "len")
        elif get_call(node):
            _add(found, node.func.value, "contains")
    elif isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
        _add(found, node, "none" if negated else "truthy")


def _name(node: cst.BaseExpression) -> Optional[str]:
    return node.value if isinstance(node, cst.Name) else None


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def is_marker(value: cst.BaseExpression) -> bool:
    """A constant stored as a mark (`seen[k] = True`, `= 1`, `= None`):
    nothing is built for other threads to share."""
    if isinstance(value, cst.Name):
        return value.value in ("True", "False", "None")
    return isinstance(value, (cst.Integer, cst.Float, cst.SimpleString, cst.Ellipsis))


def stored_marker(statement: cst.CSTNode) -> bool:
    """``statement`` is `c[k] = <a mark>` alone on its line."""
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Assign) and is_marker(statement.body[0].value))


def one_in(test: cst.BaseExpression) -> bool:
    """`k in d`, one comparison."""
    return (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.In))


def get_call(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "get" and bool(node.args))


def classify(check: str, op: str, write: bool) -> Optional[str]:
    """The compound kind for an access under a check, or None."""
    if check == "snapshot":  # `for k in list(d): d[k]`: the copy of the keys is the check
        return "check-then-read" if not write and op == "getitem" else None
    if not write:
        return "check-then-read" if check == "contains" and op == "getitem" else None
    if op in REBINDS or op == "augassign":
        if check == "none":
            return "lazy-init"
        return "check-then-set" if check in ("truthy", "len") else None
    if check == "contains" and op in CONTAINER_WRITES and op not in SELF_CHECKING:
        return "check-then-act"
    if check in ("len", "truthy", "none") and op in EVICTIONS:
        return "check-then-act"
    if check == "none" and op in CONTAINER_WRITES:
        # `if not self._items: self._items.append(...)`: the empty check and
        # the fill are two steps, like lazy initialisation of a container.
        return "check-then-act"
    return None


def handler_catches_lookup(node: cst.Try) -> bool:
    return _catches(node, ("KeyError", "LookupError", "IndexError"))


def handler_catches_attribute(node: cst.Try) -> bool:
    return _catches(node, ("AttributeError",))


def _catches(node: cst.Try, wanted: tuple[str, ...]) -> bool:
    for handler in node.handlers:
        caught = handler.type
        names = []
        if caught is None:
            continue
        elements = caught.elements if isinstance(caught, cst.Tuple) else [caught]
        for element in elements:
            value = element.value if isinstance(element, cst.Element) else element
            if isinstance(value, cst.Name):
                names.append(value.value)
            elif isinstance(value, cst.Attribute):
                names.append(value.attr.value)
        if any(n in wanted for n in names):
            return True
    return False


def cached_lookup(node: cst.CSTNode) -> Optional[cst.ExceptHandler]:
    """The one `except KeyError:` handler of `try: v = d[k]` (or `return
    d[k]`) with no `else:` or `finally:`; None for any other `try`."""
    if not (isinstance(node, cst.Try) and len(node.handlers) == 1 and node.orelse is None
            and node.finalbody is None and isinstance(node.body, cst.IndentedBlock)
            and len(node.body.body) == 1):
        return None
    handler = node.handlers[0]
    if not (isinstance(handler.type, cst.Name) and handler.type.value == "KeyError"
            and handler.name is None and isinstance(handler.body, cst.IndentedBlock)):
        return None
    line = node.body.body[0]
    if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return None
    small = line.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
            small.targets[0].target, cst.Name) and isinstance(small.value, cst.Subscript):
        return handler
    if isinstance(small, cst.Return) and isinstance(small.value, cst.Subscript):
        return handler
    return None
