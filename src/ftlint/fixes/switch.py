"""Replace the switch-interval trick (FT303) with a lock.

The idiom this rewrites, in a function::

    old = sys.getswitchinterval()       # optional
    sys.setswitchinterval(1000)
    try:
        body
    finally:
        sys.setswitchinterval(old)

becomes ``with _atomic_section_lock: body``, one module lock shared by every
such section of the module. The fix is unsafe: the trick (under the GIL)
held off every other thread, while the lock holds off only code that takes
it, so whatever else the section had to exclude must take the lock too.
Any other use of the switch interval is left alone.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import GlobalCall, ModuleModel
from ftlint.fixes import UNSAFE, Declined, Edit, Fix
from ftlint.fixes.locks import locks_taken, new_module_lock
from ftlint.fixes.tree import comments_lost, suspends, uses_of_local, walk

LOCK = "_atomic_section_lock"
_GET, _SET = "sys.getswitchinterval", "sys.setswitchinterval"


def _call_of(statement: cst.CSTNode) -> Optional[cst.Call]:
    """The call a one-statement line makes: `f(x)` or `name = f(x)`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        return small.value
    if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
        return small.value
    return None


def _assigned_name(statement: cst.CSTNode) -> Optional[str]:
    small = statement.body[0]
    if (isinstance(small, cst.Assign) and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)):
        return small.targets[0].target.value
    return None


def _sections(model: ModuleModel) -> dict[int, tuple[cst.CSTNode, ...]]:
    """id(call) -> the statements of the idiom it belongs to, for every
    complete idiom in the module (computed once)."""
    cache = model.facts.get("switch_sections")
    if cache is not None:
        return cache
    names = {id(c.node): c.name for c in model.global_calls if c.name in (_GET, _SET)}
    found: dict[int, tuple[cst.CSTNode, ...]] = {}
    for function in model.functions:
        for block in walk(function.node.body):
            if not isinstance(block, cst.IndentedBlock):
                continue
            body = list(block.body)
            for index, statement in enumerate(body):
                section = _match(body, index, names, function.node)
                if section is not None:
                    calls = [_call_of(s) or _finally_call(s) for s in section]
                    for call in calls:
                        found[id(call)] = section
    model.facts["switch_sections"] = found
    return found


def _finally_call(statement: cst.CSTNode) -> Optional[cst.Call]:
    if isinstance(statement, cst.Try) and statement.finalbody is not None:
        return _call_of(statement.finalbody.body.body[0])
    return None


def _match(body: list, index: int, names: dict[int, str],
           function: cst.FunctionDef) -> Optional[tuple[cst.CSTNode, ...]]:
    """``body[index]`` is the `try` of a complete idiom: return its statements."""
    statement = body[index]
    if (not isinstance(statement, cst.Try) or statement.handlers or statement.orelse is not None
            or statement.finalbody is None or len(statement.finalbody.body.body) != 1
            or index == 0):
        return None
    restore = _finally_call(statement)
    setter = _call_of(body[index - 1])
    if (restore is None or names.get(id(restore)) != _SET or setter is None
            or names.get(id(setter)) != _SET or _assigned_name(body[index - 1]) is not None):
        return None
    section: tuple[cst.CSTNode, ...] = (body[index - 1], statement)
    getter = _call_of(body[index - 2]) if index >= 2 else None
    if getter is not None and names.get(id(getter)) == _GET:
        old = _assigned_name(body[index - 2])
        arg = restore.args[0].value if len(restore.args) == 1 else None
        uses = uses_of_local(function, old) if old is not None else 0
        if old is None or not (isinstance(arg, cst.Name) and arg.value == old) or uses != 2:
            return None
        section = (body[index - 2],) + section
    return section


def switch_fix(model: ModuleModel, call: GlobalCall) -> Union[Fix, Declined]:
    function = call.function
    if function is None:
        return Declined("the interval is changed at import time")
    section = _sections(model).get(id(call.node))
    if section is None:
        return Declined("only `set; try: ... finally: restore` around a section is rewritten")
    cached = model.facts.setdefault("switch_fixes", {})
    key = id(section[-1])
    if key in cached:  # the three calls of one idiom share one fix
        return cached[key]
    guarded = section[-1].body
    if comments_lost(model, section):
        fix: Union[Fix, Declined] = Declined("a comment on the lines it removes would be lost")
    elif suspends(guarded):
        fix = Declined("the section yields or awaits")
    elif locks_taken(model, guarded):
        fix = Declined("the section takes a lock; a new lock around it could deadlock")
    else:
        lock = new_module_lock(model, LOCK, function.node, guarded, function, before=True)
        if isinstance(lock, Declined):
            fix = lock
        else:
            first = section[0]
            with_ = cst.With(items=[cst.WithItem(cst.Name(lock.expr))], body=guarded,
                             leading_lines=first.leading_lines)
            edits = [Edit(s, new=cst.RemovalSentinel.REMOVE) for s in section[:-1]]
            edits.append(Edit(section[-1], new=with_))
            safe = lock.fix(f"Replace the switch-interval trick with `{lock.expr}`", *edits)
            fix = Fix(UNSAFE, safe.message, safe.edits, safe.imports, safe.module_statements)
    cached[key] = fix
    return fix


__all__ = ["LOCK", "switch_fix"]
