"""Build outside, publish under the lock: fills whose value calls out.

A lock must not be held while a value is built by code ftlint cannot see
(I/O, a callback, another object's method; see :mod:`ftlint.fixes.callouts`).
A cache fill or a lazy initialisation whose value does so is rewritten
instead so that the value is built with no lock held and then published in
one step, checked again:

    if k not in _cache:                     if k not in _cache:
        _cache[k] = fetch(k)        ->          value = fetch(k)
    return _cache[k]                            with _cache_lock:
                                                    _cache.setdefault(k, value)
                                            return _cache[k]

With one thread nothing changes: the value is built once and stored. With
several, two threads can still both build a value, as they could before the
fix, but the first one stored is kept and every reader gets that one (the
code before the fix let the last store win and handed each builder its own).
A fill of an exact built-in mapping that no other code locks needs no lock
at all: `setdefault` is one atomic step.

The builders return None for a shape they do not know; the caller then keeps
its own answer (the reason the lock was declined).
"""

from __future__ import annotations

from typing import Callable, Optional, Union

import libcst as cst

from ftlint.analysis.checks import cached_lookup, is_marker
from ftlint.analysis.model import Access, Function, ModuleModel, Ref
from ftlint.analysis.names import binds
from ftlint.fixes import SAFE, Declined, Edit, Fix
from ftlint.fixes.tree import code, has_comment, parents, pure, walk, walk_code

_MAPPINGS = frozenset({"dict", "defaultdict", "OrderedDict", "Counter"})

# Which lock a publish takes: `lock_for(model, ref, region, function, reuse)`.
LockFor = Callable[..., object]


# Builtins that make a key from values without side effects
# (`cache[tuple(version)]`): evaluating one again changes nothing.
_KEY_CALLS = frozenset({"tuple", "frozenset", "str", "int", "id", "type", "len"})


def _store(statement: cst.CSTNode) -> Optional[tuple[cst.BaseExpression, cst.BaseExpression,
                                                     cst.BaseExpression, Optional[str]]]:
    """(container, key, value, alias) of `container[key] = value` alone on its
    line; ``alias`` names the local of a chained store, `alias = container[key]
    = value` or `container[key] = alias = value`, else None."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    small = statement.body[0]
    if not (isinstance(small, cst.Assign) and len(small.targets) in (1, 2)):
        return None
    targets = [t.target for t in small.targets]
    subscripts = [t for t in targets if isinstance(t, cst.Subscript)]
    names = [t.value for t in targets if isinstance(t, cst.Name)]
    if len(subscripts) != 1 or len(names) != len(targets) - 1:
        return None
    target = subscripts[0]
    if not (len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
        return None
    return target.value, target.slice[0].slice.value, small.value, (names[0] if names else None)


def _fetched(statements: list, store_statement: cst.CSTNode, value: cst.BaseExpression):
    """((key, container), the statements before the store) when
    ``statements`` are a lookup with `.get()` and the test of what it found,
    whose block ends with storing that local back: `v = c.get(k[, default])`,
    `if v is None:` (or `is default`, `not v`) ... `c[k] = v`. Else None."""
    if len(statements) != 2 or not isinstance(value, cst.Name):
        return None
    lookup, test = statements
    if not (isinstance(lookup, cst.SimpleStatementLine) and len(lookup.body) == 1
            and isinstance(lookup.body[0], cst.Assign) and len(lookup.body[0].targets) == 1):
        return None
    target, call = lookup.body[0].targets[0].target, lookup.body[0].value
    if not (isinstance(target, cst.Name) and target.value == value.value
            and isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "get" and 1 <= len(call.args) <= 2
            and not any(a.star or a.keyword for a in call.args)):
        return None
    if not (isinstance(test, cst.If) and test.orelse is None
            and isinstance(test.body, cst.IndentedBlock)):
        return None
    condition = test.test
    local = target.value
    tested = (isinstance(condition, cst.UnaryOperation) and isinstance(condition.operator, cst.Not)
              and isinstance(condition.expression, cst.Name)
              and condition.expression.value == local) or (
        isinstance(condition, cst.Comparison) and len(condition.comparisons) == 1
        and isinstance(condition.comparisons[0].operator, cst.Is)
        and isinstance(condition.left, cst.Name) and condition.left.value == local)
    lines = list(test.body.body)
    if not tested or not lines or lines[-1] is not store_statement:
        return None
    return (call.args[0].value, call.func.value), lines[:-1]


def _membership(test: cst.BaseExpression, operator: type):
    """(element, container) of `element in container` / `not in`."""
    if (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, operator)):
        return test.left, test.comparisons[0].comparator
    return None


def _names_state(node: cst.CSTNode, ref: Ref) -> bool:
    name, attribute = ref[-1], ref[0] not in ("global", "default")
    return any((isinstance(n, cst.Attribute) and n.attr.value == name) if attribute
               else (isinstance(n, cst.Name) and n.value == name) for n in walk(node))


def _block_of(model: ModuleModel, statement: cst.CSTNode, scope: cst.CSTNode):
    block = parents(model, scope).get(id(statement))
    return block if isinstance(block, cst.IndentedBlock) else None


def _local_name(function: Optional[Function], model: ModuleModel, *candidates: str) -> str:
    """The first candidate that names nothing in the function or the module."""
    used = {n.value for n in walk_code(function.node)
            if isinstance(n, cst.Name)} if function is not None else set()
    used |= {ref[1] for ref in model.bindings if ref[0] == "global"}
    for candidate in (*candidates, "value", "new_value"):
        if candidate and candidate.isidentifier() and candidate not in used:
            return candidate
    index = 1
    while f"value_{index}" in used:
        index += 1
    return f"value_{index}"


def _read_after(model: ModuleModel, statement: cst.CSTNode, name: str,
                scope: cst.CSTNode) -> bool:
    """``name`` is read by a statement that runs after ``statement`` in its
    function: a later statement of its block or of a block around it."""
    parent_of = parents(model, scope)
    current = statement
    while current is not None and current is not scope:
        block = parent_of.get(id(current))
        if isinstance(block, (cst.IndentedBlock, cst.Module)):
            body = list(block.body)
            index = next((i for i, s in enumerate(body) if s is current), None)
            if index is not None and any(
                    isinstance(n, cst.Name) and n.value == name
                    for later in body[index + 1:] for n in walk(later)):
                return True
        current = block
    return False


def _rebinds(statements: list, key: cst.BaseExpression) -> bool:
    """Does one of ``statements`` bind a name that ``key`` reads?"""
    names = {n.value for n in walk_code(key) if isinstance(n, cst.Name)}
    return any(binds(node, name) for statement in statements for node in walk_code(statement)
               for name in names)


def _leaves(block: cst.BaseSuite) -> bool:
    """The block ends in `return` or `raise`."""
    body = block.body if isinstance(block, cst.IndentedBlock) else ()
    return bool(body) and isinstance(body[-1], cst.SimpleStatementLine) and isinstance(
        body[-1].body[-1], (cst.Return, cst.Raise))


def _returns(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and (
        isinstance(statement.body[0], cst.Return))


def _writes_in(model: ModuleModel, ref: Ref, access: Access, statements: list) -> bool:
    """Another write of the state inside ``statements``."""
    ids = {id(n) for s in statements for n in walk(s)}
    return any(a.write and a is not access and id(a.node) in ids for a in model.accesses_of(ref))


def fill_fix(model: ModuleModel, ref: Ref, statements: list[cst.CSTNode], access: Access,
             lock_for: LockFor, reuse: tuple[str, ...] = (),
             unlocked: bool = True) -> Union[Fix, Declined, None]:
    """A check-then-act cache fill whose value calls out: ``statements`` are
    its unit of work, either one `if k not in c:` whose body ends with the
    store, or a guard clause `if k in c: return ...` followed by the
    statements up to the store. None when the shape is not one of these.
    ``unlocked``: an exact built-in mapping that no other write locks may be
    published with `setdefault` alone."""
    function = access.function
    if function is None:
        return None
    scope = function.node
    store_statement = access.statement
    store = _store(store_statement)
    if store is None:
        return None
    container, key, value, alias = store
    first = statements[0]
    if not _names_state(container, ref):
        return None
    same = lambda a, b: code(model, a) == code(model, b)  # noqa: E731
    fetched = _fetched(statements, store_statement, value)
    if fetched is not None:
        # `v = c.get(k)` `if v is None:` ... `c[k] = v`
        member, before = fetched
        after: list = []
    elif not isinstance(first, (cst.If, cst.Try)):
        return None
    elif isinstance(first, cst.Try):
        # `try: v = c[k]` `except KeyError:` ... `c[k] = v` ...
        handler = cached_lookup(first)
        if handler is None or len(statements) != 1:
            return None
        lookup = first.body.body[0].body[0].value
        if not (len(lookup.slice) == 1 and isinstance(lookup.slice[0].slice, cst.Index)):
            return None
        member = (lookup.slice[0].slice.value, lookup.value)
        lines = list(handler.body.body)
        at = next((i for i, line in enumerate(lines) if line is store_statement), None)
        if at is None or _writes_in(model, ref, access, lines[at + 1:]):
            return None
        before, after = lines[:at], lines[at + 1:]
    elif len(statements) == 1:
        # `if k not in c:` ... `c[k] = value` ... in its body, or `if k in
        # c: return ...` `else:` ... `c[k] = value` ...
        member = _membership(first.test, cst.NotIn)
        block = first.body
        if member is None and isinstance(first.orelse, cst.Else) and _leaves(first.body):
            member, block = _membership(first.test, cst.In), first.orelse.body
        elif first.orelse is not None:
            member = None
        if member is None or not isinstance(block, cst.IndentedBlock):
            return None
        lines = list(block.body)
        at = next((i for i, line in enumerate(lines) if line is store_statement), None)
        if at is None or _writes_in(model, ref, access, lines[at + 1:]):
            return None
        before, after = lines[:at], lines[at + 1:]
    else:
        # `if k in c: return ...`, then the statements up to `c[k] = value`.
        member = _membership(first.test, cst.In)
        if member is None or first.orelse is not None or statements[-1] is not store_statement:
            return None
        if not _leaves(first.body):
            return None
        before, after = statements[1:-1], []
    element, checked = member
    if not (same(element, key) and same(checked, container) and pure(key, _KEY_CALLS)
            and pure(container)):
        return None
    if any(_names_state(s, ref) for s in before) or has_comment(model, store_statement):
        return None
    if _rebinds(before, key):
        # `path, name = os.path.split(path)` between the lookup and the
        # store: the store's key is another key (pyglet's `_trace_frame`),
        # and `setdefault` would hand back what another key holds.
        return None
    if any(not _returns(line) for line in after) or (is_marker(value) and before):
        # Only a `return` may follow the store. Anything else either uses
        # the value further in the fill (other threads would see it before
        # it is populated) or acts once per key (`if msg not in seen:
        # seen[msg] = True` then `log(msg)`, debugpy's `warn_once`; or the
        # act before the mark): with `setdefault` two threads still both
        # pass the test and both act.
        return None
    binding = model.binding(ref)
    kind = binding.kind if binding is not None else ""
    named = value.value if isinstance(value, cst.Name) else None
    # The value the code goes on to use must be the one stored.
    rebind = named is not None and _read_after(model, store_statement, named, scope)
    c, k = code(model, container), code(model, key)
    leading = store_statement.leading_lines
    if alias is not None:
        # `v = c[k] = build()`: `v` must be the value stored, whichever
        # thread stored it; only `setdefault` hands that back in one step.
        if rebind or not (unlocked and not reuse and kind in _MAPPINGS):
            return None
        text = f"{alias} = {c}.setdefault({k}, {code(model, value)})\n"
        new = cst.parse_statement(text).with_changes(leading_lines=leading)
        return Fix(SAFE, "Publish with `setdefault`, which hands back the value stored; the "
                         "value is built outside any lock", (Edit(store_statement, new=new),))
    if unlocked and not reuse and kind in _MAPPINGS:
        text = (f"{named} = {c}.setdefault({k}, {named})\n" if rebind
                else f"{c}.setdefault({k}, {code(model, value)})\n")
        new = cst.parse_statement(text).with_changes(leading_lines=leading)
        return Fix(SAFE, "Publish with `setdefault`; the value is built outside any lock",
                   (Edit(store_statement, new=new),))
    if rebind and kind not in _MAPPINGS:
        return None  # no `setdefault` to hand back the value stored
    built: list[cst.BaseStatement] = []
    if named is None:
        named = _local_name(function, model, "value")
        built.append(cst.parse_statement(f"{named} = {code(model, value)}\n"))
    if kind in _MAPPINGS:
        body = (f"{named} = {c}.setdefault({k}, {named})" if rebind
                else f"{c}.setdefault({k}, {named})")
        publish, how = f"    {body}\n", "with `setdefault` under `{}`"
    else:
        publish = f"    if {k} not in {c}:\n        {c}[{k}] = {named}\n"
        how = "under `{}`, checked again"
    region = cst.parse_statement(f"if {k} not in {c}:\n    {c}[{k}] = {named}\n")
    lock = lock_for(model, ref, region, function, reuse)
    if isinstance(lock, Declined):
        return lock
    guarded = cst.parse_statement(f"with {lock.expr}:\n{publish}")
    new_statements = [*built, guarded]
    new_statements[0] = new_statements[0].with_changes(leading_lines=leading)
    new = new_statements[0] if len(new_statements) == 1 else cst.FlattenSentinel(new_statements)
    return lock.fix("Build the value outside the lock; publish it " + how.format(lock.expr),
                    Edit(store_statement, new=new))


def lazy_fix(model: ModuleModel, ref: Ref, node: cst.If, access: Access,
             lock_for: LockFor) -> Union[Fix, Declined, None]:
    """`if x is None: x = build()` where ``build`` calls out: build the value
    with no lock held, then store it under the lock if no other thread did
    meanwhile. None when the body is not the statements that build the
    value followed by the one store."""
    function = access.function
    if function is None or not isinstance(node.body, cst.IndentedBlock):
        return None
    body = list(node.body.body)
    store_statement = body[-1]
    if store_statement is not access.statement or any(_names_state(s, ref) for s in body[:-1]):
        return None
    if not (isinstance(store_statement, cst.SimpleStatementLine) and len(store_statement.body) == 1
            and isinstance(store_statement.body[0], cst.Assign)
            and len(store_statement.body[0].targets) == 1):
        return None
    if has_comment(model, store_statement):
        return None
    small = store_statement.body[0]
    target, value = code(model, small.targets[0].target), small.value
    built: list[cst.BaseStatement] = []
    if isinstance(value, cst.Name):
        named = value.value
    else:
        stem = ref[-1].strip("_").lower()
        named = _local_name(function, model, stem, "value")
        built.append(cst.parse_statement(f"{named} = {code(model, value)}\n"))
    test = code(model, node.test)
    region = cst.parse_statement(f"if {test}:\n    {target} = {named}\n")
    lock = lock_for(model, ref, region, function, (), io=False)
    if isinstance(lock, Declined):
        return lock
    guarded = cst.parse_statement(f"with {lock.expr}:\n    if {test}:\n        {target} = {named}\n")
    new_statements = [*built, guarded]
    new_statements[0] = new_statements[0].with_changes(leading_lines=store_statement.leading_lines)
    new = new_statements[0] if len(new_statements) == 1 else cst.FlattenSentinel(new_statements)
    return lock.fix(f"Build the value outside `{lock.expr}`; store it under the lock if no "
                    "other thread did", Edit(store_statement, new=new))
