"""Code that only the thread owning an object runs.

A reentrant lock, a reader-writer lock or any object with an owner thread
records who owns it and compares on entry::

    if self._owner == threading.get_ident():
        self._count += 1          # only the owner gets here
        return

    if not self._is_owned():
        raise RuntimeError("cannot release un-acquired lock")
    self._count -= 1              # only the owner gets here too

The state changed in such a branch is touched by one thread at a time: the
one that owns the object. Nothing else can interleave with it, whatever
locks the other methods take.
"""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ftlint.analysis.model import Access, Function, ModuleModel
from ftlint.analysis.names import dotted
from ftlint.analysis.walk import walk_own

# Calls that name the running thread (or its id).
_IDENTITY = frozenset({"current_thread", "currentthread", "get_ident", "get_native_id"})


def owner_only(model: ModuleModel, access: Access) -> bool:
    """Whether ``access`` runs only in the thread that owns its object."""
    function = access.function
    if function is None:
        return False
    cache = model.__dict__.setdefault("_owner_only", {})
    if "callees" not in cache:
        # The calls the walk recorded, per function: most modules never ask
        # which thread runs them, and those pay nothing more.
        callees: dict[int, list[str]] = {}
        for call in model.calls:
            if call.caller is not None:
                callees.setdefault(id(call.caller), []).append(call.callee)
        cache["callees"] = callees
        cache["asking"] = frozenset(k for k, names in callees.items()
                                    if any(_identity_name(n) for n in names))
    if not cache["asking"]:
        return False
    key = id(function.node)
    owned = cache.get(key)
    if owned is None:
        owned = cache[key] = _owned_nodes(model, function, cache)
    return id(access.node) in owned


def _identity_name(name: str) -> bool:
    return name.rpartition(".")[2].lstrip("_").lower() in _IDENTITY


def _identity_call(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    name = dotted(node.func)
    return bool(name) and _identity_name(name)


def _test_of(expr: cst.BaseExpression, me: set[str], function: Function,
             predicates: frozenset[str]) -> int:
    """+1 when the test holds only in the owner, -1 when it fails there."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        return -_test_of(expr.expression, me, function, predicates)
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.And):
        return 1 if 1 in (_test_of(expr.left, me, function, predicates),
                          _test_of(expr.right, me, function, predicates)) else 0
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        target = expr.comparisons[0]
        if not (_is_identity(expr.left, me) or _is_identity(target.comparator, me)):
            return 0
        if isinstance(target.operator, (cst.Equal, cst.Is)):
            return 1
        if isinstance(target.operator, (cst.NotEqual, cst.IsNot)):
            return -1
        return 0
    if isinstance(expr, cst.Call) and _predicate_call(expr, function, predicates):
        return 1
    return 0


def _owned_nodes(model: ModuleModel, function: Function, cache: dict) -> frozenset[int]:
    predicates = _predicates(model, function.class_name, cache)
    guards = _guards(model, function.class_name, cache)
    if id(function) not in cache["asking"] and not any(
            c.count(".") == 1 and c.rpartition(".")[2] in predicates | guards
            for c in cache["callees"].get(id(function), ())):
        return frozenset()  # it never asks which thread runs it
    me = _owner_names(walk_own(function.node))
    owned: set[int] = set()

    def test_of(expr: cst.BaseExpression) -> int:
        return _test_of(expr, me, function, predicates)

    def mark(node: cst.CSTNode) -> None:
        owned.update(id(n) for n in walk_own(node))

    def block(statements) -> None:
        fenced = False
        for statement in statements:
            if fenced:
                mark(statement)
                continue
            if _guard_call(statement, function, guards):
                fenced = True  # `self._check_owner()`: it raised for any other thread
                continue
            if isinstance(statement, cst.If):
                polarity = test_of(statement.test)
                if polarity > 0:
                    mark(statement.body)
                elif polarity < 0:
                    if statement.orelse is not None:
                        mark(statement.orelse)
                    # `if not owned: raise ...`: the rest runs in the owner.
                    fenced = statement.orelse is None and _leaves(statement.body)
            for child in _blocks(statement):
                block(child)

    block(function.node.body.body)
    return frozenset(owned)


def _is_identity(node: Optional[cst.CSTNode], me) -> bool:
    if isinstance(node, cst.Attribute) and node.attr.value == "ident":
        node = node.value
    return _identity_call(node) or (isinstance(node, cst.Name) and node.value in me)


def _predicate_call(call: cst.Call, function: Function, predicates: frozenset[str]) -> bool:
    func = call.func
    return (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
            and func.value.value == function.self_name and func.attr.value in predicates)


def _predicates(model: ModuleModel, cls: Optional[str], cache: dict) -> frozenset[str]:
    """Methods of ``cls`` that compare one of its attributes with the running
    thread: `is_owner()`, `_is_owned()`, `is_writer()`."""
    if cls is None:
        return frozenset()
    known = cache.setdefault("predicates", {})
    found = known.get(cls)
    if found is None:
        names = set()
        for method in _asking_methods(model, cls, cache):
            nodes = list(walk_own(method.node))
            me = _owner_names(nodes)
            if any(isinstance(n, cst.Comparison) and len(n.comparisons) == 1
                   and _self_attribute(n, method) and
                   (_is_identity(n.left, me) or _is_identity(n.comparisons[0].comparator, me))
                   for n in nodes):
                names.add(method.name)
        found = known[cls] = frozenset(names)
    return found


def _asking_methods(model: ModuleModel, cls: str, cache: dict) -> Iterator[Function]:
    """The methods of ``cls`` that ask which thread runs them."""
    return (m for m in model.functions if m.class_name == cls and m.parent is None
            and id(m) in cache["asking"])


def _guards(model: ModuleModel, cls: Optional[str], cache: dict) -> frozenset[str]:
    """Methods of ``cls`` that raise for any thread but the owner, such as
    `_check_owner()`: ``if threading.get_ident() != self._owner: raise ...``
    at their top level. A call of one fences the rest of its caller's block,
    as the guard itself would."""
    if cls is None:
        return frozenset()
    known = cache.setdefault("guards", {})
    found = known.get(cls)
    if found is None:
        predicates = _predicates(model, cls, cache)
        names = set()
        for method in _asking_methods(model, cls, cache):
            me = _owner_names(walk_own(method.node))
            if any(isinstance(s, cst.If) and s.orelse is None and _raises(s.body)
                   and _test_of(s.test, me, method, predicates) < 0
                   for s in getattr(method.node.body, "body", ())):
                names.add(method.name)
        found = known[cls] = frozenset(names)
    return found


def _guard_call(statement: cst.CSTNode, function: Function, guards: frozenset[str]) -> bool:
    if not guards or not isinstance(statement, cst.SimpleStatementLine):
        return False
    return any(isinstance(s, cst.Expr) and isinstance(s.value, cst.Call)
               and _predicate_call(s.value, function, guards) for s in statement.body)


def _raises(body: cst.BaseSuite) -> bool:
    statements = getattr(body, "body", ())
    last = statements[-1] if statements else None
    if isinstance(body, cst.SimpleStatementSuite):
        return isinstance(last, cst.Raise)
    return (isinstance(last, cst.SimpleStatementLine) and bool(last.body)
            and isinstance(last.body[-1], cst.Raise))


def _owner_names(nodes) -> set[str]:
    """Locals that hold the running thread: `me = threading.get_ident()`."""
    return {t.target.value for n in nodes if isinstance(n, cst.Assign)
            and _is_identity(n.value, ()) for t in n.targets if isinstance(t.target, cst.Name)}


def _self_attribute(comparison: cst.Comparison, method: Function) -> bool:
    sides = (comparison.left, comparison.comparisons[0].comparator)
    return any(isinstance(s, cst.Attribute) and isinstance(s.value, cst.Name)
               and s.value.value == method.self_name for s in sides)


def _leaves(body: cst.BaseSuite) -> bool:
    """The block always ends in `raise` or `return`."""
    statements = getattr(body, "body", ())
    if isinstance(body, cst.SimpleStatementSuite):
        last = statements[-1] if statements else None
        return isinstance(last, (cst.Raise, cst.Return))
    if not statements:
        return False
    last = statements[-1]
    return (isinstance(last, cst.SimpleStatementLine) and bool(last.body)
            and isinstance(last.body[-1], (cst.Raise, cst.Return)))


def _blocks(statement: cst.CSTNode):
    """The statement lists nested in a compound statement (not in nested
    functions or classes, which are functions of their own)."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return
    for name in ("body", "orelse", "finalbody"):
        suite = getattr(statement, name, None)
        if isinstance(suite, cst.If):
            yield [suite]
        elif isinstance(suite, (cst.Else, cst.Finally)):
            yield getattr(suite.body, "body", ())
        elif isinstance(suite, cst.BaseSuite):
            yield getattr(suite, "body", ())
    for handler in getattr(statement, "handlers", ()):
        yield getattr(handler.body, "body", ())

