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

from typing import Optional

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
    if "module" not in cache:
        # Most modules never ask which thread runs them: one look at their calls.
        cache["module"] = any(c.callee.rpartition(".")[2].lstrip("_").lower() in _IDENTITY
                              for c in model.calls)
    if not cache["module"]:
        return False
    key = id(function.node)
    owned = cache.get(key)
    if owned is None:
        owned = cache[key] = _owned_nodes(model, function)
    return id(access.node) in owned


def _identity_name(name: str) -> bool:
    return name.rpartition(".")[2].lstrip("_").lower() in _IDENTITY


def _identity_call(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    name = dotted(node.func)
    return bool(name) and _identity_name(name)


def _owned_nodes(model: ModuleModel, function: Function) -> frozenset[int]:
    body = function.node
    predicates = _predicates(model, function.class_name)
    # The calls the walk recorded tell, without a walk of our own, whether
    # the function asks which thread runs it at all.
    if not any(c.caller is function and (_identity_name(c.callee) or (
            c.callee.count(".") == 1 and c.callee.rpartition(".")[2] in predicates))
            for c in model.calls):
        return frozenset()
    me = {t.target.value for n in _walk(body) if isinstance(n, cst.Assign)
          and _is_identity(n.value, frozenset()) for t in n.targets
          if isinstance(t.target, cst.Name)}
    owned: set[int] = set()

    def test_of(expr: cst.BaseExpression) -> int:
        """+1 when the test holds only in the owner, -1 when it fails there."""
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            return -test_of(expr.expression)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.And):
            return 1 if 1 in (test_of(expr.left), test_of(expr.right)) else 0
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

    def mark(node: cst.CSTNode) -> None:
        owned.update(id(n) for n in _walk(node))

    def block(statements) -> None:
        fenced = False
        for statement in statements:
            if fenced:
                mark(statement)
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


def _is_identity(node: Optional[cst.CSTNode], me: frozenset | set) -> bool:
    if isinstance(node, cst.Attribute) and node.attr.value == "ident":
        node = node.value
    return _identity_call(node) or (isinstance(node, cst.Name) and node.value in me)


def _predicate_call(call: cst.Call, function: Function, predicates: frozenset[str]) -> bool:
    func = call.func
    return (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
            and func.value.value == function.self_name and func.attr.value in predicates)


def _predicates(model: ModuleModel, cls: Optional[str]) -> frozenset[str]:
    """Methods of ``cls`` that compare one of its attributes with the running
    thread: `is_owner()`, `_is_owned()`, `is_writer()`."""
    if cls is None:
        return frozenset()
    cache = model.__dict__.setdefault("_owner_predicates", {})
    found = cache.get(cls)
    if found is None:
        names = set()
        asking = {id(c.caller) for c in model.calls
                  if c.caller is not None and _identity_name(c.callee)}
        for method in model.functions:
            if method.class_name != cls or method.parent is not None or id(method) not in asking:
                continue
            nodes = list(_walk(method.node))
            me = {t.target.value for n in nodes if isinstance(n, cst.Assign)
                  and _is_identity(n.value, frozenset()) for t in n.targets
                  if isinstance(t.target, cst.Name)}
            if any(isinstance(n, cst.Comparison) and len(n.comparisons) == 1
                   and _self_attribute(n, method) and
                   (_is_identity(n.left, me) or _is_identity(n.comparisons[0].comparator, me))
                   for n in nodes):
                names.add(method.name)
        found = cache[cls] = frozenset(names)
    return found


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


def _walk(node: cst.CSTNode):
    return walk_own(node)
