"""Hoist a lock created at its use (FT305) to module level.

`with threading.Lock():` in a function creates a new lock per call, so it
excludes no one. The fix creates the lock once, before the function, under a
name taken from the function (`_update_lock`), and uses it where the fresh
one was made: in the `with`, before `.acquire()`, or as the local's value.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import LockUse, ModuleModel
from ftlint.fixes import Declined, Edit, Fix
from ftlint.fixes.locks import lock_name, locks_taken, new_module_lock
from ftlint.fixes.tree import code, inside, parents, suspends, top_level, walk

# A plain lock that the region may take again becomes an RLock; a semaphore
# or a condition declines.
_PLAIN = frozenset({"threading.Lock", "_thread.allocate_lock"})
_REENTRANT = frozenset({"threading.RLock", "_thread.RLock"})


def _root(node: cst.BaseExpression) -> Optional[str]:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _local_name(model: ModuleModel, use: LockUse) -> Optional[str]:
    """`lock` in `lock = threading.Lock()`."""
    parent = parents(model, use.function.node).get(id(use.node))
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        if isinstance(target, cst.Name):
            return target.value
    return None


def _guarded_region(model: ModuleModel, use: LockUse) -> tuple[cst.CSTNode, cst.CSTNode]:
    """(the region the lock is meant to guard, its body): the `with`, else the
    whole function (a local lock, or `.acquire()` on a fresh lock)."""
    function = use.function.node
    parent_of = parents(model, function)
    item = parent_of.get(id(use.node))
    if isinstance(item, cst.WithItem):
        statement = parent_of.get(id(item))
        return statement, statement.body
    return function, function.body


def hoist_fix(model: ModuleModel, use: LockUse) -> Union[Fix, Declined]:
    function = use.function
    if function is None or function.import_time_only:
        return Declined("the lock is created once, while the module is imported")
    call = use.node
    if not isinstance(call, cst.Call):
        return Declined("not a call")
    region, body = _guarded_region(model, use)
    if suspends(body):
        return Declined("the region yields or awaits; a shared lock must not be held across it")
    others = [u for u in model.lock_uses if u is not use and u.function is function]
    if any(inside(u.node, region) or inside(use.node, _guarded_region(model, u)[0]) for u in others):
        return Declined("another fresh lock is taken inside this region; one shared lock could deadlock")
    local = _local_name(model, use)
    held = [k for k in locks_taken(model, body) if k != local]
    if held:
        return Declined(f"the region also takes `{held[0]}`; a shared lock here fixes an order "
                        "that other code may take the other way round")
    root = _root(call.func)
    binding = model.binding(("global", root)) if root else None
    anchor = top_level(model, function.node)
    if binding is None or binding.kind not in ("import", "module") or anchor is None:
        return Declined(f"`{root}` is not imported at module level")
    index = {id(s): i for i, s in enumerate(model.module.body)}
    if index.get(id(top_level(model, binding.statement)), len(model.module.body)) >= index[id(anchor)]:
        return Declined(f"`{root}` is imported after the function")
    if any(isinstance(n, cst.Name) for a in call.args for n in walk(a.value)):
        return Declined("the lock's arguments use names that may be local")
    name = lock_name(function.qualname.replace(".", "_").replace("<", "").replace(">", ""))
    text = code(model, call)
    reentrant = (text if use.constructor in _REENTRANT
                 else "threading.RLock()" if use.constructor in _PLAIN else None)
    lock = new_module_lock(model, name, function.node, region, function, before=True,
                           constructor=text, reentrant_constructor=reentrant)
    if isinstance(lock, Declined):
        return lock
    return lock.fix(f"Create the lock once, as `{lock.expr}`",
                    Edit(call, new=cst.Name(lock.expr)))
