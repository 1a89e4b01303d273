"""The last step of building a model: settle what one pass could not know.

While reading, ``self.items`` cannot yet be told apart as a class-level or an
instance attribute, nor ``registry.x`` as an attribute of a class, a function
or a module; and whether a helper only ever runs at import time is known only
once every reference to it has been seen.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import libcst as cst

from ftlint.analysis.checks import REMOVALS, one_in
from ftlint.analysis.model import (Access, Function, ModuleModel, Mutability, is_private_name,
                                   local_locks_only, returned_functions)
from ftlint.analysis.names import ImportMap, dotted
from ftlint.analysis.setup import mark_setup_methods
from ftlint.analysis.walk import walk_own

_INSTANCE_WRITES = ("setattr", "augattr", "delattr")


def finalize(model: ModuleModel, imports: ImportMap, runtime_refs: dict[str, int],
             import_refs: dict[str, int], import_decorators: dict[str, set[str]]) -> ModuleModel:
    # `active = None` in the class body and `self.active = set()` later: the
    # container lives on the instance, whatever the class body says.
    # A field declared in the class body (`kernels = Dict()` of traitlets,
    # `field(default_factory=list)`, `attr.ib(factory=dict)`) gives each
    # instance its own value: `self.kernels` is instance state.
    class_attrs = {(r[1], r[2]) for r, b in model.bindings.items()
                   if r[0] == "class" and b.mutability is not Mutability.IMMUTABLE
                   and not _per_instance_field(b.node, imports)}
    # `cls._instances = WeakSet()` in `__new__` or a class method puts the
    # container on the class too; `self._instances.remove(self)` then changes it.
    class_attrs |= {(a.ref[1], a.ref[2]) for a in model.accesses
                    if a.ref[0] == "class" and a.op == "setattr" and len(a.ref) == 3
                    and (a.assigned is None or a.assigned[0] is not Mutability.IMMUTABLE)}
    for access in model.accesses:
        access.ref = _resolve(access, model, imports, class_attrs)
    kept = {id(a) for a in model.accesses}
    model.compounds = [c for c in model.compounds if c.write is None or id(c.write) in kept]
    for compound in model.compounds:
        if compound.write is not None:
            compound.ref = compound.write.ref
    _upgrade_rebound_globals(model)
    _mark_import_time_helpers(model, runtime_refs, import_refs, import_decorators)
    mark_setup_methods(model)
    _mark_locked_helpers(model, runtime_refs, import_refs)
    model.compounds = [c for c in model.compounds if not _settled_overwrite(model, c)]
    model.__dict__.pop("compound_index", None)  # built from the list above if asked already
    return model


def _settled_overwrite(model: ModuleModel, compound) -> bool:
    """`if k in d: d[k] = v` where nothing removes items from `d` or binds a
    new container in its place at run time: the key the test saw is still
    there at the store, so the pair is one store (`warnings(settings)`
    updating only the known keys of a module's settings dict)."""
    if compound.kind != "check-then-act" or compound.write is None:
        return False
    node, store = compound.node, compound.write
    if store.op != "setitem" or not isinstance(node, cst.If) or not isinstance(store.node, cst.Assign):
        return False
    test = node.test
    if not one_in(test):
        return False
    if not any(isinstance(t.target, cst.Subscript) and len(t.target.slice) == 1
               and isinstance(t.target.slice[0].slice, cst.Index)
               and t.target.slice[0].slice.value.deep_equals(test.left)
               for t in store.node.targets):
        return False
    if not any(n is store.node for n in walk_own(node.body)):
        return False  # the store is in the `else`: the key was missing
    return not any((w.op in REMOVALS or w.op == "rebind") and not w.import_time
                   and not (w.function is not None and w.function.in_constructor)
                   for w in model.writes(compound.ref))


# Calls in a class body that declare a per-instance field, not a shared value.
_FIELD_FACTORIES = ("traitlets.", "dataclasses.field", "attr.ib", "attr.attrib", "attr.field",
                    "attrs.field", "pydantic.Field", "pydantic.PrivateAttr",
                    "pydantic.fields.Field", "msgspec.field")


def _per_instance_field(value, imports: ImportMap) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = imports.qualify(value.func)
    return bool(name) and any(name == f or (f.endswith(".") and name.startswith(f))
                              for f in _FIELD_FACTORIES)


def _resolve(access: Access, model: ModuleModel, imports: ImportMap,
             class_attrs: set[tuple[str, str]]) -> tuple:
    ref = access.ref
    kind = ref[0]
    if kind == "name":
        if ref[1] in imports.aliases and "." in imports.aliases[ref[1]]:
            return ("ext", imports.aliases[ref[1]])  # from os import environ
        return ("global", ref[1])
    if kind == "nameattr":
        name, attr = ref[1], ref[2]
        binding = model.bindings.get(("global", name))
        if binding is not None and binding.kind == "class":
            return ("class", name, attr)
        if binding is not None and binding.kind == "function":
            return ("funcattr", name, attr)
        if name in imports.aliases:
            return ("ext", f"{imports.aliases[name]}.{attr}")
        return ("attr", name, attr)
    if kind == "self":
        cls, attr = ref[1], ref[2]
        # Assigning through self always creates an instance attribute; only
        # mutating a container found on the class touches shared class state.
        if (access.op not in _INSTANCE_WRITES and (cls, attr) in class_attrs
                and (cls, attr) not in model.constructor_attrs):
            return ("class", cls, attr)
        return ("instance", cls, attr)
    return ref


def _upgrade_rebound_globals(model: ModuleModel) -> None:
    """``_cache = None`` at import, ``_cache = {}`` later: it holds a dict."""
    for access in model.accesses:
        if access.op != "rebind" or access.ref[0] != "global" or access.assigned is None:
            continue
        mutability, kind = access.assigned
        binding = model.bindings.get(access.ref)
        if (binding is not None and mutability is Mutability.MUTABLE
                and binding.mutability in (Mutability.IMMUTABLE, Mutability.UNKNOWN)
                and binding.kind in ("constant", "object")):
            binding.mutability, binding.kind = mutability, kind


def _mark_import_time_helpers(model: ModuleModel, runtime_refs: dict[str, int],
                              import_refs: dict[str, int],
                              import_decorators: dict[str, set[str]]) -> None:
    """Module functions referenced only at import time run while the module
    is imported, not later: private registration helpers, and decorators,
    which are applied when the decorated code is defined. So do the
    functions they define, except what a decorator returns: the wrapper
    that ``@counted`` returns runs at every call of the decorated function.
    A decorator factory's returned function (``@register(X)``'s
    ``decorate``) is the decorator itself, applied at once."""
    how: dict[int, str] = {}  # id of a function that runs at import time -> how it is used
    for function in model.functions:
        parent = function.parent
        if parent is None:
            private = function.name.startswith("_") and not function.name.startswith("__")
            uses = import_decorators.get(function.name, set())
            if (function.class_name is None and (private or uses)
                    and runtime_refs.get(function.name, 0) <= 0
                    and import_refs.get(function.name, 0) > 0):
                how[id(function)] = ("plain" if "plain" in uses else
                                     "factory" if "factory" in uses else "call")
            else:
                continue
        elif id(parent) in how:
            if function.name not in returned_functions(parent):
                how[id(function)] = "call"
            elif how[id(parent)] == "factory":
                how[id(function)] = "plain"
            else:
                continue  # a wrapper, or a function handed out: it runs later
        else:
            continue
        function.import_time_only = True


_QUEUE_HOOKS = frozenset({"_init", "_qsize", "_put", "_get"})
_QUEUES = frozenset({"queue.Queue", "queue.LifoQueue", "queue.PriorityQueue"})


def queue_hook(model: ModuleModel, function: Optional[Function]) -> bool:
    """``function`` is a hook that `queue.Queue` calls holding its `mutex`."""
    if function is None or function.name not in _QUEUE_HOOKS:
        return False
    return any(b in _QUEUES for b in model.class_bases.get(function.class_name or "", ()))


def _mark_locked_helpers(model: ModuleModel, runtime_refs: dict[str, int],
                         import_refs: dict[str, int]) -> None:
    """A private function whose every call in the module holds a lock runs
    under that lock (RacerD's "called only with the lock held"); a call from a
    constructor counts too, since the object is not shared yet."""
    for function in model.functions:
        # queue.Queue calls its hooks holding `self.mutex`.
        if queue_hook(model, function):
            function.called_under_lock = True
    calls: dict[str, list] = {}
    for call in model.calls:
        # `helper()`, `self._helper()`, and `self._pool._helper()` from a
        # companion object: every call of the name counts, so that a call
        # through another object must hold a lock too.
        receiver, _, method = call.callee.rpartition(".")
        if method in ("acquire", "release") and receiver and model.is_lock(receiver):
            continue  # `self._lock.acquire()` calls the lock, not a method named so
        calls.setdefault(method, []).append(call)
    # `retry(self._inner_acquire, ...)` inside `with lock:` runs the helper
    # there and then, holding the lock: the call it is handed to counts as a
    # call of it. A thread or executor it is handed to runs it elsewhere.
    started = {id(e.node) for e in model.entry_points}
    handed: dict[str, list] = {}
    for call in model.calls:
        if id(call.node) in started or not _runs_now(call.callee.rpartition(".")[2]):
            continue
        for arg in call.node.args:
            text = dotted(arg.value)  # `helper` or `self._helper`
            name = text.rpartition(".")[2] if text and text.count(".") <= 1 else None
            if name is not None and is_private_name(name):
                handed.setdefault(name, []).append(dataclasses.replace(call, callee=text))
    for name, sites in handed.items():
        calls.setdefault(name, []).extend(sites)
    helpers = [f for f in model.functions if is_private_name(f.name)]
    changed = True
    while changed:  # helpers calling helpers: iterate to a fixed point
        changed = False
        for function in helpers:
            if function.called_under_lock or function.constructor_helper:
                continue
            sites = _call_sites(model, calls, function, runtime_refs, import_refs)
            if not sites:
                continue
            locked = [_locked_site(model, c, function.name) for c in sites]
            building = [c.caller is not None and c.caller.in_constructor for c in sites]
            setting_up = [c.caller.in_setup if c.caller is not None else None for c in sites]
            if all(locked):
                # Every call holds a lock: class state the helper touches is
                # guarded too, which "called from constructors" would not say.
                function.called_under_lock = True
                changed = True
            elif all(building):
                function.constructor_helper = True  # like __init__ itself
                changed = True
            elif (function.setup is None and any(setting_up)
                  and all(build or setup for build, setup in zip(building, setting_up))):
                setup = next(s for s in setting_up if s is not None)
                # A helper of a helper keeps the reason that names the method.
                function.setup = setup.setup if setup.setup.startswith("called only") else (
                    f"called only from constructors and set-up methods such as "
                    f"`{setup.name}()`: {setup.setup}")
                function.setup_attr = setup.setup_attr
                changed = True
            elif all(lock or build for lock, build in zip(locked, building)):
                function.called_under_lock = True
                changed = True
    _mark_locked_properties(model)
    for function in model.functions:
        # A public method the module itself only calls locked (tqdm's
        # `create_mp_lock()` inside `__init__`'s acquire/release).
        if function.called_under_lock or is_private_name(function.name):
            continue
        sites = calls.get(function.name)
        if not sites or function.name.startswith("__"):
            continue
        uses = runtime_refs.get(function.name, 0) + import_refs.get(function.name, 0)
        if uses > len(sites):
            continue
        # A call from the method itself (recursion, or `self.inner.close()`
        # in a `close()`) is no way in.
        entries = [c for c in sites if c.caller is not function]
        if entries and all(_locked_site(model, c, function.name) for c in entries):
            function.locked_callers = True
    _mark_callers_lock_below(model, calls, runtime_refs, import_refs)


def _mark_callers_lock_below(model: ModuleModel, calls: dict[str, list],
                             runtime_refs: dict[str, int], import_refs: dict[str, int]) -> None:
    """One level down from a public method whose callers hold a lock: what
    only such methods call runs under that lock too, as far as this module
    knows (`emit()` holds the lock and calls the public `do_write()`, which
    calls `_close()`). It gets the same mark, so its findings drop one level
    and not to nothing: a caller elsewhere could still run the public method
    unlocked."""
    changed = True
    while changed:  # chains of such methods: iterate to a fixed point
        changed = False
        for function in model.functions:
            if (function.called_under_lock or function.locked_callers
                    or function.constructor_helper or function.name.startswith("__")
                    and function.name.endswith("__")):
                continue
            sites = [c for c in _call_sites(model, calls, function, runtime_refs, import_refs)
                     if c.caller is not function]
            below = [c.caller is not None and c.caller.locked_callers for c in sites]
            if any(below) and all(
                    lower or _locked_site(model, c, function.name)
                    or (c.caller is not None and c.caller.in_constructor)
                    for lower, c in zip(below, sites)):
                function.locked_callers = True
                changed = True


def _call_sites(model: ModuleModel, calls: dict[str, list], function,
                runtime_refs: dict[str, int], import_refs: dict[str, int]) -> list:
    """The calls that may run ``function``; none when it is also used
    otherwise (a callback, a thread target), which may run it without the
    lock. Calls of another class's method of that name are no uses of it."""
    every = calls.get(function.name, ())
    sites = [c for c in every if _may_call(model, c, function)]
    uses = (runtime_refs.get(function.name, 0) + import_refs.get(function.name, 0)
            - (len(every) - len(sites)))
    return sites if uses <= len(sites) else []


def _may_call(model: ModuleModel, call, function) -> bool:
    """Whether ``call`` may run ``function``: `self._helper()` in a method of
    an unrelated class runs that class's own `_helper`, not this one."""
    cls = function.class_name
    if cls is None or call.caller is None or call.callee.count(".") != 1:
        return True
    receiver = call.caller.outermost.self_name
    if receiver is None or call.callee.partition(".")[0] != receiver:
        return True  # `self._pool._helper()`: a call through another object
    caller = call.caller.outermost.class_name
    return (caller is None or caller == cls or caller in model.subclasses(cls)
            or cls in model.subclasses(caller))


def _runs_now(name: str) -> bool:
    """Whether a call named ``name`` runs the callable it is handed before it
    returns: `retry(f)`, `call_with_retry(f)`, `run_sync(f)`. Anything that
    may keep it for later (`Finalize(f)`, `_register_atexit(f)`,
    `add_done_callback(f)`, a thread, an executor) does not count."""
    lowered = name.lower()
    return (any(word in lowered for word in _RUNS_NOW)
            and not any(word in lowered for word in _RUNS_LATER))


_RUNS_NOW = ("retry", "invoke", "call", "run", "execute", "apply", "with_")
_RUNS_LATER = ("executor", "thread", "async", "later", "soon", "atexit", "exit", "register",
               "callback", "pool", "submit", "spawn", "schedule", "defer", "final", "hook",
               "background", "timer", "signal", "listen", "subscribe", "connect")


def _mark_locked_properties(model: ModuleModel) -> None:
    """A property runs at each `self.name` of its class (and of the classes
    of the module that derive from it): when all of them hold a lock, so
    does the property's getter. Private names are locked; public ones, which
    other modules may read, drop one level, like public methods."""
    properties = [f for f in model.functions
                  if f.class_name and f.parent is None and f.is_property]
    if not properties:
        return
    uses: dict[str, list] = {}
    for use in model.self_attributes:
        uses.setdefault(use.callee.rpartition(".")[2], []).append(use)
    for function in properties:
        if function.called_under_lock:
            continue
        family = {function.class_name} | model.subclasses(function.class_name)
        sites = [u for u in uses.get(function.name, ())
                 if u.caller is not function and u.caller.outermost.class_name in family]
        if not sites or not all(_locked_site(model, u, function.name) for u in sites):
            continue
        if is_private_name(function.name):
            function.called_under_lock = True
        else:
            function.locked_callers = True


def _locked_site(model: ModuleModel, call, name: str) -> bool:
    """A call made with a lock held; `with cls.get_lock():` calls
    `get_lock()` before it holds the lock that call returns."""
    locks = tuple(k for k in call.locks if not k.endswith(f"{name}()"))
    return ((model.guarded(locks) and not local_locks_only(model, locks, call.caller))
            or (call.caller is not None and call.caller.called_under_lock))
