"""Set-up methods: "configure, then freeze" classes.

Many shared objects have two phases. First they are configured, from one
thread: routes are added, executors and stores registered, options set.
Then they are started or frozen, and only then do threads use them. The
class says so itself, in one of three ways:

* a guard that refuses to run once the object is started or frozen, as the
  first statement of the method (``if self.state != STOPPED: raise
  AlreadyRunningError``, ``self._check_setup_finished(name)``);
* a decorator that adds such a guard (``@setupmethod``);
* a dirty flag: the method ends by setting ``self._dirty = True``, and
  another method rebuilds under a lock and clears the flag. Registration
  only marks the object dirty; readers rebuild under the lock.

A method with such a sign is set-up code for its own object's state, and so
is a private helper that only constructors and set-up methods call. The
attribute a guard checks is not: two threads starting the object at once is
the race the guard leaves open. (A dirty flag is part of the registration.)
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ftlint.analysis.keys import iter_subexpressions
from ftlint.analysis.model import Function, ModuleModel
from ftlint.analysis.walk import is_docstring, walk_own

_SETUP_DECORATOR = re.compile(r"setup_?method", re.IGNORECASE)
# What a guard raises when the object is already started or frozen...
_STARTED = re.compile(r"already|frozen|finished|sealed|no longer|running|started|after\b",
                      re.IGNORECASE)
# ... and not when it is not started yet (``if not self._running: raise``).
# Nor when it is closed: that is a method of the running object.
_NOT_STARTED = re.compile(r"not[\s_]*(yet[\s_]*)?(running|started|open|initiali[sz]ed|"
                          r"configured|set[\s_]*up)|clos|shut|stopp|dispos|releas|terminat|"
                          r"cancel|exit", re.IGNORECASE)
_CHECK_CALL = re.compile(r"(check|assert|ensure|guard|raise|fail|verify|require)", re.IGNORECASE)
_CHECK_TOPIC = re.compile(r"setup|frozen|started|running|finished|sealed|configurable|mutable",
                          re.IGNORECASE)


def mark_setup_methods(model: ModuleModel) -> None:
    """Set ``Function.setup`` (and ``setup_attr``) on the set-up methods."""
    dirty = _dirty_flags(model)
    for function in model.functions:
        if function.class_name is None or function.self_name is None:
            continue
        found = _decorated(function) or _guarded(function, model) or _marks_dirty(function, dirty)
        if found is not None:
            function.setup, function.setup_attr = found


def _decorated(function: Function) -> Optional[tuple[str, Optional[str]]]:
    for decorator in function.decorators:
        if _SETUP_DECORATOR.search(decorator.rpartition(".")[2]):
            return f"`@{decorator}` makes `{function.name}()` a set-up method", None
    return None


def _statements(function: Function) -> list[cst.BaseStatement]:
    body = function.node.body
    if not isinstance(body, cst.IndentedBlock):
        return []
    statements = list(body.body)
    if statements and is_docstring(statements[0]):
        statements = statements[1:]
    return statements


def _self_attrs(node: cst.CSTNode, self_name: str) -> list[str]:
    return [n.attr.value for n in iter_subexpressions(node)
            if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name)
            and n.value.value == self_name]


def _guarded(function: Function, model: ModuleModel) -> Optional[tuple[str, Optional[str]]]:
    statements = _statements(function)
    if not statements:
        return None
    first = statements[0]
    if isinstance(first, cst.If) and first.orelse is None:
        attrs = _self_attrs(first.test, function.self_name)
        raised = _raise_in(first.body)
        if attrs and raised is not None:
            text = model.module.code_for_node(raised)
            if _STARTED.search(text) and not _NOT_STARTED.search(text):
                return (f"`{function.name}()` refuses to run once the object is started "
                        f"(`{' '.join(text.split())[:60]}`)", attrs[0])
    if (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, cst.Call)):
        func = first.body[0].value.func
        if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value == function.self_name
                and _CHECK_CALL.search(func.attr.value) and _CHECK_TOPIC.search(func.attr.value)):
            return (f"`{function.name}()` first checks `{func.attr.value}()`, a set-up guard",
                    None)
    return None


def _raise_in(body: cst.BaseSuite) -> Optional[cst.Raise]:
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    last = statements[-1] if statements else None
    small = last.body if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else ()
    for node in small:
        if isinstance(node, cst.Raise) and node.exc is not None:
            return node
    return None


def _dirty_flags(model: ModuleModel) -> dict[tuple[str, str], str]:
    """(class, flag) -> the method that clears it under a lock."""
    flags = {}
    for access in model.accesses:
        ref = access.ref
        if (ref[0] == "instance" and access.op == "setattr" and access.locks
                and model.guarded(access.locks) and access.function is not None
                and _assigns(access.statement, "False")
                and _tests(access.function, ref[2])):
            flags[(ref[1], ref[2])] = access.function.name
    return flags


def _tests(function: Function, attr: str) -> bool:
    """Does ``function`` test ``self.<attr>`` in an ``if`` (the rebuild's
    "nothing to do" check)?"""
    return any(isinstance(node, cst.If) and attr in _self_attrs(node.test, function.self_name)
               for node in walk_own(function.node.body))


def _assigns(statement: cst.CSTNode, value: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return any(isinstance(s, cst.Assign) and isinstance(s.value, cst.Name) and s.value.value == value
               for s in statement.body)


def _marks_dirty(function: Function, dirty: dict) -> Optional[tuple[str, Optional[str]]]:
    statements = _statements(function)
    if len(statements) < 2 or not dirty:
        return None  # only setting the flag registers nothing
    last = statements[-1]
    if not _assigns(last, "True"):
        return None
    for small in last.body:
        for target in getattr(small, "targets", ()):
            node = target.target
            if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                    and node.value.value == function.self_name):
                rebuild = dirty.get((function.class_name, node.attr.value))
                if rebuild is not None and rebuild != function.name:
                    # The flag is part of the registration: readers rebuild
                    # under the lock, so it is not left reported either.
                    return (f"`{function.name}()` registers and marks the object dirty "
                            f"(`self.{node.attr.value} = True`); `{rebuild}()` rebuilds under "
                            "a lock", None)
    return None
