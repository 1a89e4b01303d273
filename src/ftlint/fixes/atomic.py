"""FT203: a check and an act on a built-in container become one atomic call.

Each rewrite is safe only when the `if` is exactly the check and one act, with
no `else`, no comments inside, and a value without side effects: the call then
does in one step what the pair did in two.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import Compound, ModuleModel
from ftlint.fixes import SAFE, Declined, Edit, Fix
from ftlint.fixes.callouts import calls_out
from ftlint.fixes.tree import block_statement, code, has_comment, parents, pure, scope_of

_MAPPINGS = frozenset({"dict", "defaultdict", "OrderedDict", "Counter"})
_SETS = frozenset({"set"})
_SEQUENCES = frozenset({"list", "deque"})


def _single_act(node: cst.If) -> Optional[cst.BaseSmallStatement]:
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        if len(body.body) != 1 or not isinstance(body.body[0], cst.SimpleStatementLine):
            return None
        body = body.body[0]
    return body.body[0] if len(body.body) == 1 else None


def _membership(test: cst.BaseExpression, negated: bool):
    """(element, container) for `e in c` / `e not in c`."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    wanted = cst.NotIn if negated else cst.In
    if not isinstance(target.operator, wanted):
        return None
    return test.left, target.comparator


def _condition_and_check(test: cst.BaseExpression):
    """(condition, check) of `condition and check`, the check last, so that
    `if event == UP and key in pressed: del pressed[key]` becomes `if event
    == UP: pressed.pop(key, None)`: the condition is still evaluated once,
    first, and alone decides whether the act runs. (None, ``test``) for
    any other test."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return test.left, test.right
    return None, test


def _is_elif(model: ModuleModel, node: cst.If, scope: Optional[cst.CSTNode]) -> bool:
    parent = parents(model, scope).get(id(node))
    return isinstance(parent, cst.If) and parent.orelse is node


def _method_call(expr: cst.BaseExpression, method: str):
    """(receiver, args) for `receiver.method(args)`."""
    if (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == method):
        return expr.func.value, expr.args
    return None


def _statement(model: ModuleModel, template: str, node: cst.If,
               condition: Optional[cst.BaseExpression] = None) -> cst.BaseStatement:
    """The statement of ``template``, under ``if condition:`` when there is
    one."""
    if condition is not None:
        template = f"if {code(model, condition)}:\n    {template}"
    return cst.parse_statement(template).with_changes(leading_lines=node.leading_lines)


def atomic_fix(model: ModuleModel, compound: Compound, publish: bool = False) -> Union[Fix, Declined]:
    """One atomic call for ``compound``'s shape. With ``publish`` (a cache
    fill whose worst case is a second build), a value with side effects is
    still built only on a miss, as before, and published with `setdefault`."""
    fix = _shape_of(model, compound, publish)
    if isinstance(fix, Fix) and _locked_elsewhere(model, compound):
        return Declined("other code updates it in steps that need a lock; the lock must cover this too")
    return fix


def _shape_of(model: ModuleModel, compound: Compound, publish: bool = False) -> Union[Fix, Declined]:
    """``_shape``, once per compound: each costs code generation and a parse."""
    shapes = model.facts.setdefault("atomic_shapes", {})
    key = (id(compound), publish)
    if key not in shapes:
        shapes[key] = _shape(model, compound, publish)
    return shapes[key]


def _locked_elsewhere(model: ModuleModel, compound: Compound) -> bool:
    """Another write of the same state holds (or will get) a lock: a lone
    atomic call here would then race with the locked steps there."""
    for write, node in _lock_needing_writes(model, compound.ref):
        if write is not compound.write and (node is None or node is not compound.node):
            return True
    return False


def _lock_needing_writes(model: ModuleModel, ref) -> list:
    """(write, the node of its unit of work) for each run-time write of ``ref``
    that holds a lock (node None) or sits in a check-then-act that no atomic
    call replaces. Once per state, not once per finding: with a pair of loops
    a module of 1,000 check-then-acts on one dict took minutes to check."""
    from ftlint.rules.context import fresh_fill, memo_fill  # the rules import this module

    cache = model.facts.setdefault("lock_needing_writes", {})
    if ref in cache:
        return cache[ref]
    found = []
    binding = model.binding(ref)
    mapping = binding is not None and binding.kind in _MAPPINGS
    for write in model.writes(ref):
        if write.import_time:
            continue
        if model.access_guarded(write):
            found.append((write, None))
            continue
        other = model.compound_for(write)
        if other is not None and not isinstance(_shape_of(model, other), Fix):
            # A cache fill whose worst case is a second build never gets a
            # lock over its test (FT203 publishes it, or declines); in a
            # plain mapping, neither does a fill of a new object that
            # `setdefault` can publish.
            # Nor does one whose unit calls out: it is published, or declined.
            if not (memo_fill(model, other)
                    or mapping and (fresh_fill(model, other) or _calls_out_of(model, other))):
                found.append((write, other.node))
    cache[ref] = found
    return found


def _calls_out_of(model: ModuleModel, compound: Compound) -> bool:
    """The unit of work of ``compound`` calls out (I/O, a callback, code of
    another package): no new lock is ever held over it."""
    from ftlint.fixes.callouts import opaque_call

    node = compound.node
    return bool(calls_out(model, node, compound.function) or opaque_call(model, node))


def _shape(model: ModuleModel, compound: Compound, publish: bool = False) -> Union[Fix, Declined]:
    node = compound.node
    if not isinstance(node, cst.If):
        return Declined("only an `if` check can become one call")
    binding = model.binding(compound.ref)
    kind = binding.kind if binding is not None else ""
    scope = scope_of(model, compound.function)
    condition, check = _condition_and_check(node.test)
    why = block_statement(model, node, scope)
    if why and not (condition is not None and _is_elif(model, node, scope)):
        return Declined(why)  # an `elif` stays one only if a condition is left
    if node.orelse is not None:
        return Declined("the `if` has an `else` branch")
    if has_comment(model, node):
        return Declined("a comment inside the `if` would be lost")
    act = _single_act(node)
    if act is None:
        return Declined("the `if` body is more than one statement")
    same = lambda a, b: code(model, a) == code(model, b)  # noqa: E731
    member = _membership(check, negated=True)
    if member and kind in _MAPPINGS and isinstance(act, cst.Assign) and len(act.targets) == 1:
        key, container = member
        target = act.targets[0].target
        if (isinstance(target, cst.Subscript) and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)
                and same(target.value, container) and same(target.slice[0].slice.value, key)):
            if pure(key) and not pure(act.value) and (
                    publish or calls_out(model, act.value, compound.function)):
                # The value calls out (I/O, a callback), or only costs a
                # second build: build it outside any lock, keep the test so
                # it is built only when missing, and publish in one step;
                # the first value stored wins.
                text = (f"if {code(model, node.test)}:\n"
                        f"    {code(model, container)}.setdefault({code(model, key)}, "
                        f"{code(model, act.value)})\n")
                return _fix(node, _statement(model, text, node),
                            "Publish with `setdefault`; the value is built outside any lock")
            if not (pure(key) and pure(act.value)):
                return Declined("the key or the value may have side effects")
            text = f"{code(model, container)}.setdefault({code(model, key)}, {code(model, act.value)})\n"
            return _fix(node, _statement(model, text, node, condition), "Use `setdefault`")
    member = _membership(check, negated=False)
    if member and isinstance(act, cst.Del) and kind in _MAPPINGS:
        key, container = member
        target = act.target
        if (isinstance(target, cst.Subscript) and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)
                and same(target.value, container) and same(target.slice[0].slice.value, key)
                and pure(key)):
            text = f"{code(model, container)}.pop({code(model, key)}, None)\n"
            return _fix(node, _statement(model, text, node, condition), "Use `pop(key, None)`")
    if member and isinstance(act, cst.Expr) and kind in _SETS:
        element, container = member
        call = _method_call(act.value, "remove")
        if (call and same(call[0], container) and len(call[1]) == 1
                and same(call[1][0].value, element) and pure(element)):
            text = f"{code(model, container)}.discard({code(model, element)})\n"
            return _fix(node, _statement(model, text, node, condition), "Use `discard`")
    if kind in _SEQUENCES and pure(node.test):
        value = getattr(act, "value", None)
        call = _method_call(value, "pop") if isinstance(act, (cst.Assign, cst.Expr, cst.Return)) else None
        if call and not call[1] and same(call[0], node.test):
            line = cst.SimpleStatementLine([act.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
            text = f"try:\n    {code(model, line).strip()}\nexcept IndexError:\n    pass\n"
            return _fix(node, _statement(model, text, node), "Pop inside `try`/`except IndexError`")
    return Declined("not one of the shapes that a single atomic call replaces")


def _fix(node: cst.If, new: cst.BaseStatement, message: str) -> Fix:
    return Fix(SAFE, message, (Edit(node, new=new),))
