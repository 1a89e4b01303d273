"""Which locks are held where: the guarded regions of a module.

`with lock:`, `acquire()` with a `release()` in `finally`, plain
`acquire()` ... `release()` statements, `if lock.acquire(...):` bodies, and
locks created right where they are used (which guard nothing).
A mixin of :class:`ftlint.analysis.builder.ModelBuilder`.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ftlint.analysis.model import LockUse
from ftlint.analysis.names import LOCK_TYPES, dotted
from ftlint.analysis.scopes import bind_target
from ftlint.analysis.walk import Walker, is_docstring, walk_own


class LockTracking:
    __thread_safe__ = False  # part of the per-file ModelBuilder

    def held(self) -> tuple[str, ...]:
        lines = [k for block in self.line_locks for k in block]
        return tuple(k for k in self.with_locks if k) + tuple(lines)

    def lock_key(self, node: cst.BaseExpression) -> Optional[str]:
        if isinstance(node, cst.Call):
            inner = self.lock_key(node.func)
            return None if inner is None else inner + "()"
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            method = self.method_frame()
            if method is not None and node.value.value == method.function.self_name:
                return f"{method.function.class_name}.{node.attr.value}"
        return dotted(node)

    def count_local_lock_use(self, expr: cst.BaseExpression) -> None:
        frame = self.frame
        if isinstance(expr, cst.Name) and expr.value in frame.local_locks:
            frame.lock_uses[expr.value] = frame.lock_uses.get(expr.value, 0) + 1

    def lock_created_here(self, node: cst.Call) -> None:
        name = self.imports.qualify(node.func)
        if name in LOCK_TYPES:
            self.model.lock_uses.append(LockUse(node, self.function(), name))

    def visit_With(self, node: cst.With) -> None:
        self.statements.append(node)
        pushed = 0
        for item in node.items:
            expr = item.item
            if isinstance(expr, cst.Call) and self.imports.qualify(expr.func) in LOCK_TYPES:
                self.lock_created_here(expr)
                continue
            key = self.lock_key(expr)
            if key is not None:
                self.with_locks.append(key)
                pushed += 1
                if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
                    held = _yielding_keys(self, expr.func)
                    self.with_locks.extend(held)
                    pushed += len(held)
            self.count_local_lock_use(expr)
            if item.asname is not None and self.frame.kind == "function":
                bind_target(self.frame, item.asname.name)
            if (item.asname is not None and isinstance(item.asname.name, cst.Name)
                    and isinstance(expr, cst.Call)
                    and (self.imports.qualify(expr.func) or "").endswith("PoolExecutor")):
                self.executors.add(item.asname.name.value)
        self._with_pushed = getattr(self, "_with_pushed", [])
        self._with_pushed.append(pushed)

    def leave_With(self, node: cst.With) -> None:
        pushed = self._with_pushed.pop()
        if pushed:
            del self.with_locks[-pushed:]
        self.statements.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        released = _released_in_finally(self, node)
        self.with_locks.extend(released)
        self._try_pushed = getattr(self, "_try_pushed", [])
        self._try_pushed.append(len(released))

    def leave_Try_body(self, node: cst.Try) -> None:
        pushed = self._try_pushed.pop()
        if pushed:
            del self.with_locks[-pushed:]

    def leave_If_body(self, node: cst.If) -> None:
        self.with_locks.pop()

    def held_on_entry(self, node: cst.FunctionDef) -> list[str]:
        """Locks this function releases without acquiring them first: its
        caller took them (`acquire_and_get()` then `set_and_release()`), so
        they are held from the start of the body until the release."""
        scan = _AcquireRelease(self)
        scan.walk(node.body)
        return scan.held

    def asserted_held(self, node: cst.FunctionDef) -> list[str]:
        """Locks the function asserts it is called with, before anything else
        (`assert self.protocol_mutex.locked()`, its callers' duty): held
        for the whole body."""
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        keys = []
        for stmt in body:
            if is_docstring(stmt):
                continue
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(
                stmt.body) == 1 else None
            if not isinstance(small, cst.Assert):
                break  # only the asserts that open the body
            test = small.test
            if (isinstance(test, cst.Call) and not test.args and isinstance(test.func, cst.Attribute)
                    and test.func.attr.value == "locked"):
                key = self.lock_key(test.func.value)
                if key is not None:
                    keys.append(key)
        return keys

    def note_acquire_release(self, node: cst.SimpleStatementLine) -> None:
        """`lock.acquire()` ... `lock.release()` as plain statements, and
        `acquired = lock.acquire(...)`, whose failure path returns early."""
        small = node.body[0] if len(node.body) == 1 else None
        call = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return
        method = call.func.attr.value
        if isinstance(small, cst.Assign) and (method != "acquire" or len(small.targets) != 1):
            return
        key = self.lock_key(call.func.value)
        if key and method == "acquire":
            self.line_locks[-1].append(key)
        elif key and method == "release":
            # A release in a nested block that then leaves the function
            # (`except Empty: lock.release(); return False`) ends only that
            # path; the code after the block still holds the lock. Blocks: [0]
            # holds the locks held on entry, [1] is the function body.
            if (len(self.line_locks) > 2 and key not in self.line_locks[-1]
                    and self.exiting_blocks[-1]):
                return
            for block in reversed(self.line_locks):
                if key in block:
                    block.remove(key)
                    break


class _AcquireRelease(Walker):
    """Plain `X.acquire()` / `X.release()` statements of one body, in order,
    nested functions and classes left out."""

    def __init__(self, builder: LockTracking) -> None:
        self.builder = builder
        self.acquired: set[str] = set()
        self.held: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("acquire", "release"):
            key = self.builder.lock_key(node.func.value)
            if key is None:
                return
            if node.func.attr.value == "acquire":
                self.acquired.add(key)
            elif key not in self.acquired and key not in self.held:
                self.held.append(key)


def _released_in_finally(builder: LockTracking, node: cst.Try) -> list[str]:
    if node.finalbody is None:
        return []
    keys = []
    for stmt in node.finalbody.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            call = small.value if isinstance(small, cst.Expr) else None
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
                continue
            if call.func.attr.value == "release":
                key = builder.lock_key(call.func.value)
                if key is not None:
                    keys.append(key)
            elif not call.args:
                keys.extend(_releaser_keys(builder, call.func))
    return keys


def _releaser_keys(builder: LockTracking, func: cst.Attribute) -> list[str]:
    """`finally: self._do_unlock()`: the locks that method of this class
    releases without taking them, which its caller took (`self._do_lock()`
    at the top of the `try`), so the `try` body runs holding them. A
    composed object of a class of the module counts too
    (`self.inner._do_lock()` ... `finally: self.inner._do_unlock()`)."""
    method = builder.method_frame()
    if method is None:
        return []
    receiver = func.value
    cls = None
    mine = method.function.class_name or ""
    name = mine
    if isinstance(receiver, cst.Name) and receiver.value == method.function.self_name:
        cls = builder.model.classes.get(mine)
    elif (isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name)
            and receiver.value.value == method.function.self_name):
        own = builder.model.classes.get(mine)
        name = _composed_class(own, method.function.self_name, receiver.attr.value) or ""
        cls = builder.model.classes.get(name)
    stmt = _method_def(cls, func.attr.value)
    if stmt is None:
        return []
    # The keys name the composed object's class, whose lock it is.
    return [f"{name}.{key[len(mine) + 1:]}" if key.startswith(f"{mine}.") else key
            for key in builder.held_on_entry(stmt)]


def _method_def(cls: Optional[cst.ClassDef], name: str) -> Optional[cst.FunctionDef]:
    """The method ``name`` defined in the body of ``cls``."""
    if cls is None:
        return None
    return next((s for s in cls.body.body
                 if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def _yielding_keys(builder: LockTracking, func: cst.Attribute) -> list[str]:
    """`with self.send_context():` where `send_context` is a
    `@contextmanager` method of this class that yields inside `with
    self.protocol_mutex:`: the body of the caller's `with` holds that lock."""
    method = builder.method_frame()
    if (method is None or not isinstance(func.value, cst.Name)
            or func.value.value != method.function.self_name):
        return []
    mine = method.function.class_name or ""
    stmt = _method_def(builder.model.classes.get(mine), func.attr.value)
    if stmt is None or not stmt.params.params or not any(
            (dotted(d.decorator) or "").rpartition(".")[2] == "contextmanager"
            for d in stmt.decorators):
        return []
    me = stmt.params.params[0].name.value
    found = []
    for node in walk_own(stmt.body):
        if not (isinstance(node, (cst.With, cst.Try))
                and any(isinstance(n, cst.Yield) for n in walk_own(node.body))):
            continue
        if isinstance(node, cst.With):
            found += [f"{mine}.{item.item.attr.value}" for item in node.items
                      if isinstance(item.item, cst.Attribute)
                      and isinstance(item.item.value, cst.Name) and item.item.value.value == me]
        else:
            # `while not self._lock.acquire(timeout=0.1): pass` / `try:
            # yield` / `finally: self._lock.release()`: as in the method
            # itself, a release in the `finally` (a statement of its own,
            # not under an `if`) says the `yield` runs with the lock held,
            # however it was taken.
            found += _released_in_finally(builder, node)
    return found


def _composed_class(cls: Optional[cst.ClassDef], self_name: str, attr: str) -> Optional[str]:
    """The class `C` of `self.attr = C(...)` in a method of ``cls``."""
    if cls is None:
        return None
    for node in cls.body.body:
        if isinstance(node, cst.FunctionDef):
            for inner in walk_own(node.body):
                if (isinstance(inner, cst.Assign) and isinstance(inner.value, cst.Call)
                        and isinstance(inner.value.func, cst.Name)
                        and any(isinstance(t.target, cst.Attribute)
                                and isinstance(t.target.value, cst.Name)
                                and t.target.value.value == self_name
                                and t.target.attr.value == attr for t in inner.targets)):
                    return inner.value.func.value
    return None
