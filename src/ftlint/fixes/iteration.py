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

from typing import Union

import libcst as cst

from ftlint.analysis.model import Access, ModuleModel
from ftlint.fixes import SAFE, Declined, Edit, Fix
from ftlint.fixes.locks import unit_of_work, wrap_fix
from ftlint.fixes.tree import inside

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


def snapshot_fix(model: ModuleModel, access: Access,
                 mutations: list[Access]) -> Union[Fix, Declined]:
    iterable = access.node
    loop = access.statement
    if any(inside(w.node, loop) for w in model.writes(access.ref)):
        return Declined("the loop's own statement changes the container; a copy would "
                        "change what it visits")
    kind = _container_kind(model, access)
    if kind in _SNAPSHOT_ANY or (kind in _SNAPSHOT_VIEWS and _is_view(iterable)):
        if model.binding(("global", "list")) is not None:
            return Declined("`list` names something else in this module")
        snapshot = cst.Call(cst.Name("list"), [cst.Arg(iterable)])
        return Fix(SAFE, "Iterate a snapshot taken in one step", (Edit(iterable, new=snapshot),))
    locks = {k for w in mutations for k in w.locks if model.is_lock(k)}
    if isinstance(loop, cst.For) and len(locks) == 1 and all(w.locks for w in mutations):
        return wrap_fix(model, access.ref, loop, access, reuse=tuple(locks))
    what = {"unknown": "a container of unknown type", "object": "an object"}.get(kind, f"a {kind}")
    return Declined(f"copying {what} is not one atomic step; "
                    "guard the loop and the mutations with one lock")


def next_lock_fix(model: ModuleModel, access: Access) -> Union[Fix, Declined]:
    """`next(shared)` under the iterator's lock; a `for` loop over a shared
    iterator is left alone (holding a lock for the whole loop would let one
    thread take every item)."""
    if access.op != "next":
        return Declined("a loop over a shared iterator; hand the items out through a "
                        "`queue.Queue` or take them one by one with `next()` under a lock")
    return wrap_fix(model, access.ref, unit_of_work(model, access), access)
