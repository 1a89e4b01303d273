"""Compound operations: a check and the act that relies on it, and
read-modify-write, matched while the tree is walked.

A mixin of :class:`ftlint.analysis.builder.ModelBuilder`; the test reading
itself is in :mod:`ftlint.analysis.checks`.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ftlint.analysis.checks import (
    classify, handler_catches_attribute, handler_catches_lookup, test_keys,
)
from ftlint.analysis.keys import expr_key, iter_subexpressions, read_keys
from ftlint.analysis.model import Access, Compound
from ftlint.analysis.names import dotted


# The current thread's identity: a test against it admits one thread only.
THREAD_IDENTITY = frozenset({
    "threading.current_thread", "threading.currentThread", "threading.get_ident",
    "threading.get_native_id", "_thread.get_ident",
})
# Names of functions that return it, the project's own wrappers included
# (`_get_threading_ident()`, `current_thread_id()`).
IDENTITY_METHOD = re.compile(
    r"^_*(current_thread|get_ident|(get_)?(current_)?thread(ing)?_(ident|id))$")


def _cannot_fail(access: Access) -> bool:
    """An act that works whatever another thread did in between:
    ``pop(k, default)`` whose result is thrown away
    (``if self.callables: self.callables.pop(key, None)``). Not ``clear()``:
    after ``flush(list(buf))`` it drops what other threads added since."""
    op = access.op.removeprefix("item.")
    node = access.node
    if op != "pop" or not isinstance(node, cst.Call) or len(node.args) < 2:
        return False
    statement = access.statement
    body = statement.body if isinstance(statement, cst.SimpleStatementLine) else (statement,)
    return any(isinstance(small, cst.Expr) and small.value is node for small in body)


class CheckTracking:
    __thread_safe__ = False  # part of the per-file ModelBuilder

    def match_check(self, target: cst.BaseExpression, access: Access) -> None:
        key = expr_key(target)
        if key is None or not self.checks:
            return
        for keys, node, locks in reversed(self.checks):
            check = keys.get(key)
            if check is None:
                continue
            # `if k in m[f]: m[f].pop(k)`: the check and the act are on the element.
            kind = classify(check, access.op.removeprefix("item."), access.write)
            if kind == "check-then-act" and _cannot_fail(access):
                return  # the test only saves a call: the act works whatever it saw
            if kind is not None:
                self.model.compounds.append(Compound(
                    kind=kind, ref=access.ref, node=node, write=access,
                    function=access.function, locks=locks,
                    detail="try/except KeyError" if isinstance(node, cst.Try) else check,
                ))
            return

    def rekeyed(self, keys: dict) -> dict:
        if not self.frame.container_aliases:
            return keys
        return {self.rekey(k): kind for k, kind in keys.items()}

    def keep_or_close_check(self, guard: bool) -> None:
        """After a guard clause the rest of the block runs only when the
        check failed, so the check stays open until the block ends."""
        if guard:
            self.kept_checks[-1] += 1
        else:
            self.checks.pop()

    def check_rmw(self, target: cst.BaseExpression, value: cst.BaseExpression,
                  node: cst.CSTNode) -> None:
        key = expr_key(target)
        if key is None or key[0] == "L":
            return
        if isinstance(target, cst.Name) and target.value not in self.frame.globals:
            return
        value = without_casts(value)
        if expr_key(value) == key:
            return  # `x = cast(T, x)`, `x = (x)`: stores back what it read
        if key in read_keys(value):
            self.add_rmw(target, node, augmented=False)

    def add_rmw(self, target: cst.BaseExpression, node: cst.CSTNode, augmented: bool,
                detail: str = "") -> None:
        """Mark the write just recorded for ``node`` as read-modify-write."""
        write = self.last_write(node)
        if write is None:
            return
        write.atomic = False
        self.model.compounds.append(Compound(
            kind="rmw", ref=write.ref, node=node, write=write, function=write.function,
            locks=write.locks, detail=detail or ("augmented" if augmented else "assign"),
        ))

    def last_write(self, node: cst.CSTNode) -> Optional[Access]:
        for pool in (self.frame.pending, self.model.accesses):
            if pool and pool[-1].node is node and pool[-1].write:
                return pool[-1]
        return None

    def visit_If_body(self, node: cst.If) -> None:
        keys = test_keys(node.test)
        for key, kind in list(keys.items()):
            alias = self.frame.aliases.get(key[1]) if key[0] == "N" else None
            if alias is not None:  # `pool = self.pools.get(k)` then `if pool:`
                keys.setdefault(alias, "contains")
        keys = self.rekeyed(keys)
        self.checks.append((keys, node, self.held()))
        test = node.test
        acquired = None
        if (isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute)
                and test.func.attr.value == "acquire"):
            acquired = self.lock_key(test.func.value)
        elif self.owner_test(test):
            # `if self._writer == me:` with `me` the current thread: only the
            # thread that owns the object gets in, so the branch is exclusive,
            # as if a lock were held.
            acquired = "@owner"
        self.with_locks.append(acquired or "")

    def owner_test(self, test: cst.BaseExpression) -> bool:
        """``test`` compares something with the current thread's identity."""
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
                and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is))):
            return False
        function = self.function()
        sides = (test.left, test.comparisons[0].comparator)
        return any(self.thread_identity(side, function) for side in sides) and not all(
            self.thread_identity(side, function) for side in sides)

    def thread_identity(self, expr: cst.BaseExpression, function) -> bool:
        if isinstance(expr, cst.Call):
            if self.imports.qualify(expr.func) in THREAD_IDENTITY:
                return True
            name = dotted(expr.func) or ""
            return bool(IDENTITY_METHOD.search(name.rpartition(".")[2]))
        if isinstance(expr, cst.Name) and function is not None:
            for statement in function.node.body.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        if (isinstance(small, cst.Assign) and len(small.targets) == 1
                                and isinstance(small.targets[0].target, cst.Name)
                                and small.targets[0].target.value == expr.value):
                            return self.thread_identity(small.value, None)
        return False

    def leave_If(self, node: cst.If) -> None:
        self.keep_or_close_check(node.orelse is None and block_exits(node.body))
        self.statements.pop()

    def visit_While(self, node: cst.While) -> None:
        self.loop_depth += 1
        self.statements.append(node)
        self.checks.append((self.rekeyed(test_keys(node.test)), node, self.held()))

    def leave_While(self, node: cst.While) -> None:
        self.loop_depth -= 1
        self.checks.pop()
        self.statements.pop()

    def visit_Try_handlers(self, node: cst.Try) -> None:
        keys = {}
        lookup, attribute = handler_catches_lookup(node), handler_catches_attribute(node)
        if lookup or attribute:
            for expr in iter_subexpressions(node.body):
                if lookup and isinstance(expr, cst.Subscript):
                    key = self.rekey(expr_key(expr.value))
                    if key is not None:
                        keys[key] = "contains"
                elif attribute and isinstance(expr, cst.Attribute):
                    # try: self._lock except AttributeError: self._lock = Lock()
                    key = self.rekey(expr_key(expr))
                    if key is not None:
                        keys.setdefault(key, "none")
        self.checks.append((keys, node, self.held()))

    def leave_Try_handlers(self, node: cst.Try) -> None:
        self.keep_or_close_check((handler_catches_lookup(node) or handler_catches_attribute(node))
                                 and block_exits(node.body))

    def note_alias(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """`x = d.get(k)` / `x = d[k]`: a later test of `x` checks `d`."""
        if not isinstance(target, cst.Name):
            return
        if self.is_thread_id(value):
            self.frame.thread_ids.add(target.value)
        container = None
        if (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "get"):
            container = value.func.value
        elif isinstance(value, cst.Subscript):
            container = value.value
        key = expr_key(container) if container is not None else None
        if key is not None:
            self.frame.aliases[target.value] = key
        else:
            self.frame.aliases.pop(target.value, None)
        snapshot = self.key_snapshot(value)
        if snapshot is not None:
            # Kept when another branch binds something else (`if f is None:
            # names = list(cache) elif ...: names = [f]`): it may hold the copy.
            self.frame.key_snapshots[target.value] = snapshot

    def key_snapshot(self, value: cst.BaseExpression) -> Optional[tuple]:
        """The container whose keys ``value`` copies: ``list(d)``,
        ``sorted(d.keys())``, or a local that holds such a copy."""
        if isinstance(value, cst.Name):
            return self.frame.key_snapshots.get(value.value)
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                and value.func.value in ("list", "tuple", "sorted", "set") and len(value.args) == 1
                and value.args[0].keyword is None and not value.args[0].star):
            return None
        inner = value.args[0].value
        if (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute)
                and inner.func.attr.value == "keys" and not inner.args):
            inner = inner.func.value
        if not isinstance(inner, (cst.Name, cst.Attribute)):
            return None
        return self.rekey(expr_key(inner))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self.checks:
            self.record_getitem(node)

    def record_getitem(self, node: cst.Subscript) -> None:
        # Only reads under a membership check matter (`if k in d: return d[k]`).
        key = self.rekey(expr_key(node.value))
        if key is None:
            return
        stored = id(node) in self.stored_subscripts
        for keys, _, _ in self.checks:
            check = keys.get(key)
            if check in ("contains", "snapshot") and not stored:  # `d[k] = v` reads nothing
                self.record(node.value, "getitem", False, True, node)
                return


def block_exits(body: cst.BaseSuite) -> bool:
    """Does the block end by leaving (return, raise, continue, break)?"""
    if isinstance(body, cst.SimpleStatementSuite):
        last = body.body[-1] if body.body else None
    else:
        statement = body.body[-1] if body.body else None
        last = (statement.body[-1] if isinstance(statement, cst.SimpleStatementLine)
                and statement.body else None)
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


def without_casts(value: cst.BaseExpression) -> cst.BaseExpression:
    """The value under ``typing.cast(T, value)``, which only tells the type
    checker and returns its argument unchanged."""
    while (isinstance(value, cst.Call) and len(value.args) == 2
           and not any(a.keyword or a.star for a in value.args)
           and ((isinstance(value.func, cst.Name) and value.func.value == "cast")
                or (isinstance(value.func, cst.Attribute) and value.func.attr.value == "cast"
                    and isinstance(value.func.value, cst.Name)
                    and value.func.value.value in ("typing", "t")))):
        value = value.args[1].value
    return value
