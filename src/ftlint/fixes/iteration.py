"""Fixes for iteration over shared state.

FT206: iterate a snapshot. `list(d)`, `list(d.items())`, `list(s)` and
`list(lst)` copy an exact built-in dict, set or list (and a dict's keys,
values and items views) in one step that holds the container's lock on the
free-threaded build, so no mutation can happen in the middle of the copy.
Any other container is copied item by item, which is no better than the
loop; there the loop is put under the lock that already guards the
mutations, or the finding is left alone.

FT301: one `next()` at a time, under a lock named after the iterator.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ftlint.analysis.model import Access, Function, ModuleModel
from ftlint.fixes import SAFE, Declined, Edit, Fix
from ftlint.fixes.callouts import calls_out, opaque_call
from ftlint.fixes.locks import unit_of_work, wrap_fix, write_locks
from ftlint.fixes.tree import code, inside, parents, uses_of_local, walk

_SNAPSHOT_ANY = frozenset({"dict", "list", "set"})
# Subclasses of dict whose views are the built-in ones.
_SNAPSHOT_VIEWS = frozenset({"defaultdict", "Counter"})
_VIEWS = frozenset({"keys", "values", "items"})


def _is_view(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _VIEWS)


def _container_kind(model: ModuleModel, access: Access) -> str:
    """The kind of the container, when every binding of it agrees."""
    ref = access.ref
    kinds = {a.assigned[1] for a in model.accesses_of(ref)
             if a.op == "rebind" and a.assigned is not None}
    binding = model.binding(ref)
    if binding is not None:
        kinds.add(binding.kind)
    return kinds.pop() if len(kinds) == 1 else "unknown"


# What to do instead, where no fix of the loop is possible.
CHANGES_ITSELF = ("the loop changes the container itself: collect the changes and make them "
                  "after the loop, or loop over a copy (`list(...)`) if it must not see its own "
                  "changes; hold one lock over the loop and the other writes")
REBUILDS_ITSELF = ("the statement rebuilds the container from itself, so a change another "
                   "thread makes between the read and the store is lost: hold one lock over "
                   "it and the other writes")


def snapshot_dead_end(model: ModuleModel, access: Access,
                      mutations: list[Access]) -> Optional[str]:
    """What to do instead when no fix of the loop is possible, whatever its
    shape: the loop changes the container it iterates, or the container
    cannot be copied in one step and no single lock guards its writes."""
    loop = access.statement
    itself = _changes_itself(model, access)
    if itself is not None:
        return itself
    kind = _container_kind(model, access)
    if kind in _SNAPSHOT_ANY or (kind in _SNAPSHOT_VIEWS and _is_view(access.node)):
        return None
    locks = {k for w in mutations for k in w.locks if model.is_lock(k)}
    if isinstance(loop, cst.For) and len(locks) == 1 and all(w.locks for w in mutations):
        return None
    what = {"unknown": "a container of unknown type", "object": "an object"}.get(
        kind, f"{'an' if kind[:1] in 'AEIOUaeiou' else 'a'} {kind}")
    return (f"copying {what} is not one atomic step: guard the loop and the writes "
            "with one lock")


def _changes_itself(model: ModuleModel, access: Access) -> Optional[str]:
    """Why no snapshot fixes a statement that iterates the container and
    also changes it, or None. A plain assignment of what the iteration
    builds (`self.jobs[:] = (j for j in self.jobs if ...)`) uses the
    iteration up before it stores, so the loop never sees its own change;
    but the statement rebuilds the container from itself, and a change
    another thread makes in between is lost, which a snapshot does not
    prevent either."""
    loop = access.statement
    rebuilt = False
    for w in model.writes(access.ref):
        if not inside(w.node, loop):
            continue
        if (isinstance(w.node, (cst.Assign, cst.AnnAssign)) and w.node.value is not None
                and inside(access.node, w.node.value)):
            rebuilt = True
        else:
            return CHANGES_ITSELF
    if rebuilt:
        return REBUILDS_ITSELF
    through = _changed_through_calls(model, access)
    if through:
        return (f"the loop calls {through}, which changes the container itself, so a copy "
                "would change what the loop does (items it now skips would be visited): "
                "collect the changes and make them after the loop; hold one lock over the "
                "loop and the other writes")
    back = _written_back(model, access)
    if back is not None:
        return (f"after the loop the function replaces or empties the container (`{back}`): "
                "an item another thread adds meanwhile is visited by the loop as it is, but a "
                "copy would miss it before the store drops it; hold one lock over the loop "
                "and that store")
    return None


def _written_back(model: ModuleModel, access: Access) -> Optional[str]:
    """The statement after the loop, in the loop's function, that replaces
    or empties the container the loop iterates (`for d in self.pending: ...
    unsettled.append(d)`, then `self.pending = unsettled`; a drain that
    ends with `self.pending = []`), in code, or None. Such a function
    rebuilds the container from what the loop saw: an item another thread
    adds while the live loop runs is visited, but a copy misses it, and the
    store then drops it unseen."""
    loop, own = access.statement, access.function
    if own is None:
        return None
    for w in model.writes(access.ref):
        node = w.node
        if w.function is not own or inside(node, loop):
            continue
        # `self.pending = ...` or `pending[:] = ...`, not a store of one
        # item (`pending[k] = v`).
        replaces = (isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None
                    and not all(_one_item(t) for t in (
                        [t.target for t in node.targets] if isinstance(node, cst.Assign)
                        else [node.target])))
        empties = (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                   and node.func.attr.value == "clear")
        if (replaces or empties) and _after(model, own, loop, node):
            return code(model, node).strip()
    return None


def _one_item(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Subscript) and all(isinstance(e.slice, cst.Index)
                                                     for e in target.slice)


def _after(model: ModuleModel, own: Function, loop: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Does ``node`` run after ``loop`` in the block of the loop? True
    (the cautious answer) when it sits outside that block."""
    parent_of = parents(model, own.node)
    block = parent_of.get(id(loop))
    current = node
    while current is not None and parent_of.get(id(current)) is not block:
        current = parent_of.get(id(current))
    if current is None or not isinstance(block, cst.IndentedBlock):
        return True
    order = {id(s): i for i, s in enumerate(block.body)}
    return order.get(id(current), -1) > order.get(id(loop), -1)


# How deep a chain of calls from a loop is followed to a change of what it
# iterates.
_CALL_DEPTH = 4


def _changed_through_calls(model: ModuleModel, access: Access) -> Optional[str]:
    """The chain of calls, in words, by which the body of the loop over
    ``access`` reaches a change of the container's items (`t._complete()`
    -> `self._cooperator._remove(t)` -> `self._tasks.remove(t)`), resolving
    each call by name among the module's functions and methods, whatever
    the object it is called on; None when no chain is found."""
    loop, own = access.statement, access.function
    if own is None:
        return None
    # The loop's own function is not followed: `protocol.close()` in the
    # loop of `close()` is another object's `close()`, and what `close()`
    # itself does after the loop is no change made while it runs.
    writers = {id(w.function.node) for w in model.writes(access.ref) if w.function is not None
               and w.function is not own and w.op not in ("rebind", "setattr")}
    if not writers:
        return None
    by_name, calls_in = model.functions_by_name, model.calls_by_caller
    frontier = [(call, ()) for call in calls_in.get(id(own.node), ()) if inside(call.node, loop)]
    seen: set[int] = {id(own.node)}
    for _ in range(_CALL_DEPTH):
        following = []
        for call, path in frontier:
            name = call.callee.rpartition(".")[2]
            for function in by_name.get(name, ()):
                if id(function.node) in seen:
                    continue
                seen.add(id(function.node))
                chain = (*path, f"`{function.name}()`")
                if id(function.node) in writers:
                    return " -> ".join(chain)
                following += [(c, chain) for c in calls_in.get(id(function.node), ())]
        frontier = following
    return None


def snapshot_fix(model: ModuleModel, access: Access,
                 mutations: list[Access]) -> Union[Fix, Declined]:
    iterable = access.node
    loop = access.statement
    itself = _changes_itself(model, access)
    if itself is not None:
        return Declined(itself)
    kind = _container_kind(model, access)
    locks = {k for w in mutations for k in w.locks if model.is_lock(k)}
    # A change in a helper that its callers call holding the lock
    # (`_cache_completed_trial()` under `with self._thread_lock:`) holds it too.
    held = [frozenset(k for k in w.locks if model.is_lock(k)) or write_locks(model, w)
            for w in mutations]
    common = set.union(set(), *held)
    if (kind in _SNAPSHOT_ANY and len(common) == 1 and mutations and all(held)
            and not common & set(model.fresh_locks)
            and not calls_out(model, loop, access.function) and not opaque_call(model, loop)):
        # Every change already holds one lock of the program's: the loop
        # takes it too, as the code that changes the container does, rather
        # than copying it (a copy runs on while a change lands, and what
        # follows the loop, `self._dbs = {}`, would still drop it).
        fix = wrap_fix(model, access.ref, loop, access, reuse=tuple(common))
        if isinstance(fix, Fix):
            return fix
        if _in_steps(model, mutations):
            # `clear()` then `append()`s under the lock: a copy taken without
            # it can catch the container half refilled.
            return Declined(f"{fix.reason}; the changes under that lock take several "
                            "steps, and a copy taken without it can catch one half done")
    if kind in _SNAPSHOT_ANY or (kind in _SNAPSHOT_VIEWS and _is_view(iterable)):
        if model.binding(("global", "list")) is not None:
            return Declined("`list` names something else in this module")
        lookups = _lookups(model, loop, iterable)
        if lookups:
            # `for k in list(d): d[k]` still fails with KeyError once
            # another thread removes `k`: the values come with the copy.
            return _items_fix(model, access, loop, lookups)
        snapshot = cst.Call(cst.Name("list"), [cst.Arg(iterable)])
        return Fix(SAFE, "Iterate a snapshot taken in one step", (Edit(iterable, new=snapshot),))
    if isinstance(loop, cst.For) and len(locks) == 1 and all(w.locks for w in mutations):
        return wrap_fix(model, access.ref, loop, access, reuse=tuple(locks))
    what = {"unknown": "a container of unknown type", "object": "an object"}.get(kind, f"a {kind}")
    return Declined(f"copying {what} is not one atomic step; "
                    "guard the loop and the mutations with one lock")


def _in_steps(model: ModuleModel, mutations: list[Access]) -> bool:
    """Some function changes the container more than once, itself or
    through a helper it calls under the lock (`clear()`, then
    `_cache_completed_trial()` appends): between its steps the container
    is neither as before nor as after."""
    functions: dict[int, Function] = {}
    for w in mutations:
        if w.function is None:
            continue
        if id(w.function) in functions:
            return True
        functions[id(w.function)] = w.function
    helpers = {f.name for f in functions.values() if f.called_under_lock}
    return any(call.caller is not None and id(call.caller) in functions
               and call.callee.rpartition(".")[2] in helpers - {call.caller.name}
               for call in model.calls)


def _keys_of(model: ModuleModel, iterable: cst.BaseExpression) -> Optional[str]:
    """The mapping whose keys ``iterable`` runs over: `d` or `d.keys()`."""
    if _is_view(iterable):
        if iterable.func.attr.value != "keys":
            return None
        iterable = iterable.func.value
    return code(model, iterable)


def _lookups(model: ModuleModel, loop: cst.CSTNode, iterable: cst.BaseExpression) -> list:
    """The `d[k]` subscripts in the loop's body, for `for k in d:`."""
    if not (isinstance(loop, cst.For) and isinstance(loop.target, cst.Name)):
        return []
    mapping, key = _keys_of(model, iterable), loop.target.value
    if mapping is None:
        return []
    return [n for n in walk(loop.body) if isinstance(n, cst.Subscript) and len(n.slice) == 1
            and isinstance(n.slice[0].slice, cst.Index)
            and isinstance(n.slice[0].slice.value, cst.Name) and n.slice[0].slice.value.value == key
            and code(model, n.value) == mapping]


def _items_fix(model: ModuleModel, access: Access, loop: cst.For,
               lookups: list) -> Union[Fix, Declined]:
    """`for k in d: ... d[k] ...` -> `for k, value in list(d.items()): ... value ...`."""
    if access.function is None:
        return Declined("the loop looks values up by key; iterate a snapshot of `items()`")
    key = loop.target.value
    value = next(n for n in ("value", f"{key}_value", f"_{key}_value")
                 if not uses_of_local(access.function.node, n))
    if any(isinstance(n, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.For, cst.With,
                          cst.NamedExpr, cst.Del, cst.CompFor))
           and any(isinstance(t, cst.Name) and t.value == key for t in walk(_targets(n)))
           for n in walk(loop.body)):
        return Declined(f"the loop rebinds `{key}`; iterate a snapshot of `items()` by hand")
    targets = {id(n) for n in lookups}

    class Lookups(cst.CSTTransformer):
        def leave_Subscript(self, original, updated):
            return cst.Name(value) if id(original) in targets else updated

    body = loop.body.visit(Lookups())
    mapping = _keys_of(model, access.node)
    new = loop.with_changes(
        target=cst.Tuple([cst.Element(cst.Name(key)), cst.Element(cst.Name(value))],
                         lpar=[], rpar=[]),
        iter=cst.parse_expression(f"list({mapping}.items())"), body=body)
    return Fix(SAFE, "Iterate a snapshot of `items()` taken in one step", (Edit(loop, new=new),))


def _targets(node: cst.CSTNode) -> cst.CSTNode:
    """What a binding statement binds (the node itself when in doubt)."""
    if isinstance(node, cst.Assign):
        return cst.Tuple([cst.Element(t.target) for t in node.targets])
    if isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr, cst.CompFor)):
        return node.target
    if isinstance(node, cst.With):
        return cst.Tuple([cst.Element(i.asname.name) for i in node.items if i.asname])
    return node


def next_lock_fix(model: ModuleModel, access: Access) -> Union[Fix, Declined]:
    """`next(shared)` under the iterator's lock; a `for` loop over a shared
    iterator is left alone (holding a lock for the whole loop would let one
    thread take every item)."""
    if access.op != "next":
        return Declined("a loop over a shared iterator; hand the items out through a "
                        "`queue.Queue` or take them one by one with `next()` under a lock")
    return wrap_fix(model, access.ref, unit_of_work(model, access), access)
