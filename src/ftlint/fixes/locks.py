"""Lock fixes: a lock named after the state, and the unit of work under it.

A new module lock `_cache_lock` guards `_cache`; an instance gets
`self._lock`. An existing lock is reused when the state is already partly
guarded by it. A region that calls back into the module's (or the class's)
own code gets an `RLock`, since that code may take the same lock again; an
existing lock is never reused for such a region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from ftlint.analysis.keys import iter_subexpressions
from ftlint.analysis.model import Access, Function, ModuleModel, Mutability, Ref
from ftlint.analysis.names import dotted
from ftlint.analysis.walk import walk_own
from ftlint.fixes import SAFE, Declined, Edit, Fix, Statement
from ftlint.fixes.callouts import calls_out, handler_names, held_across_call_outs, opaque_call
from ftlint.fixes.tree import (
    block_statement, code, has_comment, inside, parents, plain_with_lock, pure_test, scope_of,
    module_names, per_model, suspends, top_level, walk, walk_code,
)


@dataclass(frozen=True)
class Lock:
    expr: str  # what `with` takes: "_cache_lock", "self._lock"
    imports: tuple[str, ...] = ()
    module_statements: tuple[Statement, ...] = ()
    class_statements: tuple[Statement, ...] = ()
    init_statements: tuple[Statement, ...] = ()
    edits: tuple[Edit, ...] = ()  # to the lock itself: Lock() becomes RLock()

    def fix(self, message: str, *edits: Edit) -> Fix:
        return Fix(SAFE, message, edits + self.edits, self.imports, self.module_statements,
                   self.class_statements, self.init_statements)


def _reentered(model: ModuleModel, key: str, expr: str) -> Union[Lock, Declined]:
    """Existing lock ``key`` for a region that could take it again: an
    `RLock` allows that, and a plain `Lock` that an earlier pass of this run
    added becomes one (no code of the user's relies on it being plain)."""
    binding = model.lock_bindings.get(key)
    value = code(model, binding.node) if binding is not None else ""
    factory = _factory(model)
    if value in ("threading.RLock()", "RLock()", _threading_spelling(model, "RLock", None)) or (
            factory is not None and factory.reentrant and value == factory.call):
        return Lock(expr)
    if key in model.fresh_locks and value in ("threading.Lock()",
                                              _threading_spelling(model, "Lock", None)):
        # The module's own spelling of an RLock, else `threading.RLock()`.
        new, imports = _constructor(model, True, None)[0], ()
        if not new.endswith("RLock()"):
            new = "threading.RLock()"
        if new.startswith("threading.") and _import_threading(model) is None:
            if _threading_available(model):
                return Declined(f"the region could re-enter `{expr}`")
            imports = ("threading",)
        upgrade = Edit(binding.node, new=cst.parse_expression(new), shared=True)
        return Lock(expr, imports, edits=(upgrade,))
    return Declined(f"the region could re-enter `{expr}`")


@dataclass(frozen=True)
class Factory:
    """The project's own way to make a lock (`_create_lock()`)."""
    call: str  # "_create_lock()"
    reentrant: bool
    index: int  # the top-level statement that binds it


def _factory(model: ModuleModel) -> Optional[Factory]:
    """The lock factory this module already uses for its locks, if any: new
    locks are made the same way (a project may swap in a debugging or
    fork-safe lock there)."""
    def compute() -> Optional[Factory]:
        used: dict[str, int] = {}
        for binding in model.bindings.values():
            value = binding.node
            if binding.mutability is Mutability.LOCK and isinstance(value, cst.Call) and not value.args:
                name = dotted(value.func)
                if name and not name.startswith(("threading.", "_thread.", "multiprocessing.")) and (
                        name not in ("Lock", "RLock", "allocate_lock")):
                    used[name] = used.get(name, 0) + 1
        if not used:
            return None
        name = max(sorted(used), key=used.get)
        head = name.partition(".")[0]
        index = next((i for i, statement in enumerate(model.module.body)
                      if head in _bound_names(model, statement)), None)
        if index is None:
            return None
        definition = model.module.body[index]
        reentrant = "rlock" in name.lower() or (
            isinstance(definition, cst.FunctionDef) and "RLock" in code(model, definition.body)
            and "Lock()" not in code(model, definition.body).replace("RLock()", ""))
        return Factory(f"{name}()", reentrant, index)
    return per_model(model, "lock factory", compute)


def _bound_names(model: ModuleModel, statement: cst.CSTNode) -> set[str]:
    """Names a top-level `def` or import binds."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return {statement.name.value}
    names = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if alias.asname is not None:
                        names.add(code(model, alias.asname.name))
                    else:
                        names.add(code(model, alias.name).partition(".")[0])
    return names


def _constructor(model: ModuleModel, reentrant: bool, before: Optional[int]) -> tuple[str, bool]:
    """How a new lock is made, and whether that needs `import threading`:
    the module's own factory where it fits (bound before the statement at
    index ``before``, which runs at import time; None: at run time)."""
    factory = _factory(model)
    if factory is not None and (factory.reentrant or not reentrant) and (
            before is None or factory.index < before):
        return factory.call, False
    kind = "RLock" if reentrant else "Lock"
    spelling = _threading_spelling(model, kind, before)
    if spelling is not None:
        return spelling, False
    return f"threading.{kind}()", True


def _threading_spelling(model: ModuleModel, kind: str, before: Optional[int]) -> Optional[str]:
    """How the module already names ``threading.<kind>`` without `import
    threading`: `th.Lock()` after `import threading as th`, `Lock()` after
    `from threading import Lock`. None when it has `import threading` (the
    usual spelling) or neither."""
    if _import_threading(model) is not None:
        return None
    names = per_model(model, "threading names", lambda: _threading_imports(model))
    for name, what, index in names:
        if before is not None and index >= before:
            continue
        binding = model.binding(("global", name))
        if binding is None or binding.kind not in ("module", "import") or _rebound(model, name):
            continue
        if what == "threading":
            return f"{name}.{kind}()"
        if what == kind:
            return f"{name}()"
    return None


def _threading_imports(model: ModuleModel) -> list[tuple[str, str, int]]:
    """(bound name, what it is: "threading" or a name in it, top-level
    index) for each top-level import of `threading` or from it."""
    found = []
    for index, statement in enumerate(model.module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if code(model, alias.name) == "threading" and alias.asname is not None:
                        found.append((code(model, alias.asname.name), "threading", index))
            elif (isinstance(small, cst.ImportFrom) and not small.relative
                  and small.module is not None and code(model, small.module) == "threading"
                  and not isinstance(small.names, cst.ImportStar)):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    found.append((code(model, bound), code(model, alias.name), index))
    return found


def _rebound(model: ModuleModel, name: str) -> bool:
    """``name`` is assigned somewhere in the module besides its import."""
    assigned = per_model(model, "assigned names", lambda: {
        t.value for n in walk_code(model.module)
        if isinstance(n, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign))
        for t in walk_code(n.target) if isinstance(t, cst.Name)})
    return name in assigned


def lock_name(name: str) -> str:
    base = name.lstrip("_")
    return f"_{base.lower() if base.isupper() else base}_lock"


def _threading_available(model: ModuleModel, at: Optional[int] = None) -> Optional[str]:
    """None if `threading` names the module (or can be imported as it) at
    top-level index ``at``, where a new lock statement will go."""
    binding = model.binding(("global", "threading"))
    if binding is None:
        return None
    index = per_model(model, "import threading", lambda: _import_threading(model))
    if index is None:
        return "`threading` names something else in this module"
    if at is not None and index > at:
        return "`import threading` comes after the place for the lock"
    return None


def _import_threading(model: ModuleModel) -> Optional[int]:
    """The index of the first top-level `import threading`."""
    for index, statement in enumerate(model.module.body):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                        a.asname is None and code(model, a.name) == "threading" for a in small.names):
                    return index
    return None


def _module_calls(model: ModuleModel, region: cst.CSTNode) -> bool:
    """The region calls a function or method defined in this module, which
    may take the same module lock: a call by name, a method call, a class
    of this module (its `__init__` runs), or a read of a property."""
    names = per_model(model, "module functions", lambda: {
        f.name for f in model.functions if f.class_name is None and f.parent is None}
        | set(model.classes))
    methods = per_model(model, "methods", lambda: {
        f.name for f in model.functions if f.class_name is not None})
    properties = _properties(model)
    return any(_runs(parent, n) and (
        (isinstance(n, cst.Name) and n.value in names)
        or (isinstance(n, cst.Attribute) and n.attr.value in methods))
        or (isinstance(n, cst.Attribute) and n.attr.value in properties)
        for parent, n in _pairs(region))


def _runs(parent: Optional[cst.CSTNode], node: cst.CSTNode) -> bool:
    """``node`` names code that runs here: it is called, or handed to a
    call that may call it (`map(self.weigh, items)`)."""
    return (isinstance(parent, cst.Call) and parent.func is node) or (
        isinstance(parent, cst.Arg) and parent.value is node)


def _pairs(node: cst.CSTNode):
    """(parent, node) for every node under ``node``."""
    stack: list = [(None, node)]
    while stack:
        parent, current = stack.pop()
        yield parent, current
        stack.extend((current, child) for child in current.children)


def _properties(model: ModuleModel, cls: Optional[str] = None) -> frozenset[str]:
    """Names of the properties (and cached properties) of ``cls``, or of
    every class of the module: reading one runs code of this module."""
    def compute() -> dict:
        found: dict = {}
        for f in model.functions:
            if f.class_name is not None and any(d.rpartition(".")[2] in (
                    "property", "cached_property", "cachedproperty", "reify", "lazy_property")
                    for d in f.decorators):
                found.setdefault(f.class_name, set()).add(f.name)
        return found
    by_class = per_model(model, "properties", compute)
    if cls is not None:
        return frozenset(by_class.get(cls, ()))
    return frozenset(name for names in by_class.values() for name in names)


def _method_calls(model: ModuleModel, region: cst.CSTNode, cls: str, self_name: str) -> bool:
    methods = {f.name for f in model.functions if f.class_name == cls}
    properties = _properties(model, cls)
    # A method named anywhere in the region may run there: called, read as
    # a property, or handed to a call (`map(self.weigh, items)`).
    return any(isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name)
               and n.value.value == self_name and (
                   n.attr.value in properties or (n.attr.value in methods and _runs(parent, n)))
               for parent, n in _pairs(region))


def _interrupted(model: ModuleModel, function: Optional[Function]) -> bool:
    """A signal handler of this module calls ``function``: it can run on the
    main thread while that thread is inside ``function``, holding its lock."""
    if function is None:
        return False
    handlers = handler_names(model)
    return any(call.caller is not None and call.caller.name in handlers
               and call.callee.rpartition(".")[2] == function.name for call in model.calls)


def _called_holding(model: ModuleModel, function: Optional[Function], key: str) -> bool:
    if function is None:
        return False
    held = per_model(model, "called holding", lambda: _held_calls(model))
    return (function.name, key) in held


def _held_calls(model: ModuleModel) -> set[tuple[str, str]]:
    """(function name, lock key) for each function called, or handed to a
    call (`cond.wait_for(self._ready)`, which calls it back), while the lock
    is held."""
    found = set()
    for call in model.calls:
        for lock in call.locks:
            found.add((call.callee.rsplit(".", 1)[-1], lock))
            for arg in call.node.args:
                name = dotted(arg.value)
                if name:
                    found.add((name.rsplit(".", 1)[-1], lock))
    return found


def _reused(locks: tuple[str, ...], model: ModuleModel) -> list[str]:
    return [k for k in locks if k in model.lock_bindings]


def module_lock(model: ModuleModel, ref: Ref, region: cst.CSTNode, function: Optional[Function],
                reuse: tuple[str, ...] = ()) -> Union[Lock, Declined]:
    """The module lock for global ``ref`` around ``region``."""
    name = ref[1]
    for key in _reused(reuse, model):
        if model.lock_bindings[key].ref[0] != "global":
            continue
        busy = held_across_call_outs(model, key)
        if busy:
            return Declined(f"`{key}` is held around code that calls out ({busy}); "
                            "waiting for it here could stall or deadlock")
        if _module_calls(model, region) or _called_holding(model, function, key):
            return _reentered(model, key, key)
        return Lock(key)
    if reuse:
        return Declined("the lock that guards it elsewhere is not a module lock")
    binding = model.binding(ref)
    if binding is None or binding.statement is None:
        return Declined(f"`{name}` is not bound at module level in this file")
    return new_module_lock(model, lock_name(name), binding.statement, region, function)


def new_module_lock(model: ModuleModel, lock: str, anchor: cst.CSTNode, region: cst.CSTNode,
                    function: Optional[Function], before: bool = False,
                    constructor: str = "threading.Lock()",
                    reentrant_constructor: Optional[str] = "threading.RLock()") -> Union[Lock, Declined]:
    """Module lock ``lock``, added after (or ``before``) the top-level
    statement holding ``anchor`` unless it exists; the reentrant constructor
    when ``region`` calls this module's own code, which may take it again."""
    existing = model.binding(("global", lock))
    if existing is None and _name_used(model, lock):
        return Declined(f"`{lock}` already names something else (bound in a function, "
                        "or used before it is defined)")
    if existing is not None:
        if existing.mutability is not Mutability.LOCK:
            return Declined(f"`{lock}` already names something else")
        if _module_calls(model, region) or _called_holding(model, function, lock):
            return _reentered(model, lock, lock)
        return Lock(lock)
    statement = top_level(model, anchor)
    if statement is None:
        return Declined(f"cannot find the module-level statement for `{lock}`")
    reentrant = _module_calls(model, region) or _interrupted(model, function)
    if reentrant:
        if reentrant_constructor is None:
            return Declined(f"the region could re-enter a shared `{constructor}`")
        constructor = reentrant_constructor
    why = _fork_refusal(model, "module")
    if why:
        return Declined(why)
    index = next(i for i, s in enumerate(model.module.body) if s is statement)
    if constructor in ("threading.Lock()", "threading.RLock()"):
        constructor = _constructor(model, constructor == "threading.RLock()",
                                   index if before else index + 1)[0]
    imports: tuple[str, ...] = ()
    if constructor.startswith("threading."):
        why = _threading_available(model, index - 1 if before else index)
        if why:
            return Declined(why)
        imports = ("threading",)
    new = Statement(statement, f"{lock} = {constructor}\n", lock, reentrant, before)
    return Lock(lock, imports, module_statements=(new,))


def _name_used(model: ModuleModel, name: str) -> bool:
    """``name`` appears anywhere in the module as a name."""
    return name in module_names(model)


def _fork_refusal(model: ModuleModel, kind: str) -> Optional[str]:
    """Why no new lock that lives as long as the process (a module's or a
    class's) may be added: this module, or another module of its package
    (a fact the fixer gives, from the project's summaries), forks."""
    from ftlint.analysis.summary import forks

    if forks(model):
        where = "the module forks"
    elif getattr(model, "facts", {}).get("forking"):
        where = f"`{model.facts['forking']}` forks the process"
    else:
        return None
    return (f"{where}: a new {kind} lock that another thread holds at the fork stays held in "
            "the child, which then hangs on it; add the lock with an `os.register_at_fork` "
            "reset by hand")


def _function_named(model: ModuleModel, qualname: str) -> Optional[Function]:
    return next((f for f in model.functions if f.qualname == qualname), None)


def default_lock(model: ModuleModel, ref: Ref, region: cst.CSTNode,
                 function: Optional[Function]) -> Union[Lock, Declined]:
    """A module lock for the mutable default of ``ref[1]`` (parameter
    ``ref[2]``), put before the function's statement. The default itself is
    left alone: callers may pass the argument, and ftlint keeps seeing it."""
    owner = _function_named(model, ref[1])
    if owner is None:
        return Declined(f"cannot find `{ref[1]}()`")
    base = ref[1].replace(".", "_").replace("<", "").replace(">", "")
    return new_module_lock(model, lock_name(f"{base}_{ref[2].lstrip('_')}"), owner.node, region, function,
                           before=True)


def function_attribute_lock(model: ModuleModel, ref: Ref, region: cst.CSTNode,
                            function: Optional[Function]) -> Union[Lock, Declined]:
    """A module lock for state stored on a module-level function, put before
    the function's statement."""
    binding = model.binding(("global", ref[1]))
    if binding is None or binding.kind != "function" or binding.statement is None:
        return Declined(f"`{ref[1]}` is not a function defined at module level in this file")
    return new_module_lock(model, lock_name(f"{ref[1]}_{ref[2]}"), binding.statement, region,
                           function, before=True)


def instance_lock(model: ModuleModel, ref: Ref, region: cst.CSTNode, function: Optional[Function],
                  reuse: tuple[str, ...] = ()) -> Union[Lock, Declined]:
    """`self._lock` for instance state (class-level when there is no
    `__init__`); a class-level `_<attr>_lock` for class state."""
    if (function is None or function.class_name is None or function.parent is not None
            or function.self_name is None or function.kind not in ("method", "classmethod")):
        return Declined("the state is not written in a method of its class")
    cls, me = function.class_name, function.self_name
    if ref[0] not in ("instance", "class") or ref[1] != cls or cls not in model.classes:
        return Declined("the state belongs to another class")
    scopes = ("class",) if ref[0] == "class" or function.kind == "classmethod" else ("instance", "class")
    if ref[0] == "instance" and (cls, ref[2]) not in model.constructor_attrs:
        base = _concrete_base(model, cls)
        if base is not None:
            return Declined(f"`{ref[2]}` is not set up in `{cls}.__init__`: the base class "
                            f"`{base}` may write it too, without the lock")
    for key in _reused(reuse, model):
        binding = model.lock_bindings[key]
        if binding.ref[0] in scopes and binding.ref[1] == cls:
            busy = held_across_call_outs(model, key)
            if busy:
                return Declined(f"`{me}.{binding.ref[2]}` is held around code that calls out "
                                f"({busy}); waiting for it here could stall or deadlock")
            if _method_calls(model, region, cls, me) or _called_holding(model, function, key):
                return _reentered(model, key, f"{me}.{binding.ref[2]}")
            return Lock(f"{me}.{binding.ref[2]}")
    if reuse:
        return Declined(f"the lock that guards it elsewhere is not a lock of `{cls}`")
    for scope in scopes:
        for attr_ref, binding in model.bindings.items():
            if attr_ref[0] == scope and attr_ref[1] == cls and binding.mutability is Mutability.LOCK:
                key = ".".join(attr_ref[1:])
                if held_across_call_outs(model, key):
                    # Borrowing a lock that is held across I/O makes this code
                    # wait on that I/O: the state gets a lock of its own.
                    continue
                if _method_calls(model, region, cls, me) or _called_holding(model, function, key):
                    return _reentered(model, key, f"{me}.{attr_ref[2]}")
                return Lock(f"{me}.{attr_ref[2]}")
    # Instance state gets `self._lock`; class state a class lock named after
    # it, which no instance attribute of the same name can shadow.
    attr = "_lock" if "instance" in scopes else lock_name(ref[2])
    if any(r[1:] == (cls, attr) for r in model.bindings if r[0] in ("instance", "class")) or (
            _mentions(model, cls, attr)):
        busy = held_across_call_outs(model, f"{cls}.{attr}")
        if busy:
            return Declined(f"`{me}.{attr}`, the class's lock, is held around code that calls out "
                            f"({busy}); waiting for it here could stall: add a lock by hand")
        return Declined(f"`{cls}.{attr}` already names something else")
    why = _threading_available(model) or _inherited(model, cls, attr)
    if why:
        return Declined(why)
    class_node = model.classes[cls]
    placement = _placement(model, cls, attr) if "instance" in scopes else "class"
    if isinstance(placement, Declined):
        return placement
    reentrant = (_method_calls(model, region, cls, me) if placement == "init"
                 else _module_calls(model, region))
    kind = "RLock" if reentrant else "Lock"
    init = next((s for s in class_node.body.body
                 if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
    key = f"{cls}.{attr}"
    at_init = placement == "init" and init is not None
    class_index = next((i for i, s in enumerate(model.module.body) if s is class_node), None)
    constructor, needs_threading = _constructor(model, kind == "RLock",
                                                None if at_init else class_index)
    imports = ("threading",) if needs_threading else ()
    if at_init:
        params = init.params.params
        if not params:
            return Declined("`__init__` has no `self` parameter")
        statement = Statement(init, f"{params[0].name.value}.{attr} = {constructor}\n",
                              key, kind == "RLock")
        return Lock(f"{me}.{attr}", imports, init_statements=(statement,))
    if class_index is None:
        return Declined(f"`{cls}` is not defined at module level")
    why = _fork_refusal(model, "class")
    if why:
        return Declined(why)
    statement = Statement(class_node, f"{attr} = {constructor}\n", key, kind == "RLock")
    return Lock(f"{me}.{attr}", imports, class_statements=(statement,))


# Methods through which a class controls what pickling and copying keep.
_STATE_METHODS = frozenset({
    "__getstate__", "__setstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__",
    "__getnewargs__", "__getnewargs_ex__",
})

# Class decorators that build `__init__` or freeze the instance: dataclasses
# and attrs. An unannotated class attribute is not one of their fields.
_CLASS_BUILDERS = frozenset({"dataclass", "define", "frozen", "mutable", "attrs", "s"})

# Values that already make an instance impossible to pickle or deep-copy: a
# lock of its own changes nothing there.
_UNPICKLABLE_CALLS = frozenset({
    "threading.Thread", "threading.Timer", "threading.Condition", "threading.Semaphore",
    "threading.BoundedSemaphore", "socket.socket", "socket.create_connection", "builtins.open",
    "io.open", "selectors.DefaultSelector", "concurrent.futures.ThreadPoolExecutor",
    "concurrent.futures.ProcessPoolExecutor", "weakref.ref", "weakref.proxy", "subprocess.Popen",
    "sqlite3.connect",
})


# Names of live resources an object may be handed (a socket, a transport, a
# thread, a file): an object that keeps one cannot be pickled anyway.
_LIVE = re.compile(r"^_*(sock|socket|transport|thread|lock|rlock|cond|condition|event|file|fp|fh|"
                   r"stream|channel|selector|poller|loop|executor|pool|queue|conn|connection|client)s?$",
                   re.IGNORECASE)


def _placement(model: ModuleModel, cls: str, attr: str) -> Union[str, Declined]:
    """Where a new lock for instance state goes: "init" (`self._lock` set
    first in `__init__`) or "class" (one lock in the class body).

    A lock in the instance's `__dict__` breaks `pickle` and `copy.deepcopy`
    of an object that supported them, and cannot be set at all on a class
    with `__slots__` or a frozen dataclass. A class attribute survives all
    of these. So the lock goes in `__init__` only where the instance holds
    something unpicklable already (a lock, a thread, a queue, a socket, a file);
    elsewhere it is one lock for the class."""
    node = model.classes[cls]
    for keyword in node.keywords:
        if keyword.keyword is not None and keyword.keyword.value == "metaclass" and code(
                model, keyword.value).rpartition(".")[2] != "ABCMeta":
            return Declined("a metaclass may treat a new class attribute or `__init__` "
                            "specially; add the lock by hand")
    methods = {s.name.value for s in node.body.body if isinstance(s, cst.FunctionDef)}
    if "__getattribute__" in methods:
        return Declined("the class defines `__getattribute__`, which sees every use of the lock")
    if "__setattr__" in methods:
        return "class"  # `self._lock = ...` would go through the class's own `__setattr__`
    slots = _slots(node)
    if slots is not None:
        if attr in slots:
            return Declined(f"`__slots__` already names `{attr}`")
        return "class"
    decorators = {(dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                   or "").rpartition(".")[2] for d in node.decorators}
    if decorators & _CLASS_BUILDERS:
        return "class"
    if methods & _STATE_METHODS:
        return "class"
    if _init_bypassed(model, cls):
        return "class"
    qualified = {id(c.node): c.qualified for c in model.calls}
    for ref, binding in model.bindings.items():
        if ref[0] != "instance" or ref[1] != cls:
            continue
        if _LIVE.match(ref[2]) or (isinstance(binding.node, cst.Name)
                                   and _LIVE.match(binding.node.value)):
            return "init"  # `self.sock = sock`: it holds a live resource passed in
        if binding.mutability in (Mutability.THREADSAFE, Mutability.LOCK) or (
                binding.kind == "iterator") or (
                qualified.get(id(binding.node)) in _UNPICKLABLE_CALLS):
            return "init"
    return "class"


def _mentions(model: ModuleModel, cls: str, attr: str) -> bool:
    """The class or a subclass of it in this module uses the name ``attr``
    in any form: `x.attr`, `setattr(x, "attr", ...)`, a tuple target."""
    return per_model(model, f"mentions {cls}.{attr}", lambda: _mentioned(model, cls, attr))


def _mentioned(model: ModuleModel, cls: str, attr: str) -> bool:
    family = {cls} | model.subclasses(cls, direct=True)
    for name in family:
        node = model.classes.get(name)
        if node is None:
            continue
        for item in walk_code(node.body):
            if isinstance(item, cst.Attribute) and item.attr.value == attr:
                return True
            if isinstance(item, cst.SimpleString) and item.evaluated_value == attr:
                return True
    return False


def _init_bypassed(model: ModuleModel, cls: str) -> bool:
    """Instances of ``cls`` can be made without its `__init__`: the module
    calls `__new__` itself, or a subclass's `__init__` never calls the base's."""
    return per_model(model, f"init bypassed {cls}", lambda: _bypassed(model, cls))


def _bypassed(model: ModuleModel, cls: str) -> bool:
    for call in model.calls:
        if call.callee.endswith("__new__"):
            return True
    for name in model.subclasses(cls, direct=True):
        init = next((s for s in model.classes[name].body.body
                     if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
        if init is not None and not any(
                isinstance(n, cst.Attribute) and n.attr.value == "__init__" for n in walk(init.body)):
            return True
    return False


def _slots(node: cst.ClassDef) -> Optional[set[str]]:
    """The names in the class's `__slots__`, or None when it has none (an
    unreadable `__slots__` counts as holding every name)."""
    for statement in node.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else (
                [small.target] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else [])
            if any(isinstance(t, cst.Name) and t.value == "__slots__" for t in targets):
                value = small.value
                names = set()
                elements = value.elements if isinstance(value, (cst.Tuple, cst.List, cst.Set)) else (
                    [cst.Element(value)] if isinstance(value, cst.SimpleString) else None)
                if elements is None:
                    return {"_lock", "*"}
                for element in elements:
                    if isinstance(element.value, cst.SimpleString):
                        names.add(element.value.evaluated_value)
                    else:
                        return {"_lock", "*"}
                return names
    return None


# Bases that define no attributes of their own: the abstract collections of
# `collections.abc` and `typing`, `abc.ABC` and `typing.Generic`.
_ABSTRACT_BASES = frozenset({
    "object", "ABC", "Generic", "Container", "Hashable", "Iterable", "Iterator", "Reversible",
    "Generator", "Sized", "Callable", "Collection", "Sequence", "MutableSequence", "Set",
    "MutableSet", "Mapping", "MutableMapping", "MappingView", "KeysView", "ItemsView",
    "ValuesView", "Awaitable", "Coroutine", "AsyncIterable", "AsyncIterator", "AsyncGenerator",
})


def _concrete_base(model: ModuleModel, cls: str) -> Optional[str]:
    """A base of ``cls`` that may define attributes of its own."""
    for base in model.classes[cls].bases:
        name = code(model, base.value).partition("[")[0].rpartition(".")[2]
        if name not in _ABSTRACT_BASES:
            return name
    return None


def _inherited(model: ModuleModel, cls: str, attr: str) -> Optional[str]:
    """A new lock attribute must not meet one of the same name up or down the
    hierarchy. Any base declines: even one defined here could get the same
    attribute from another fix in the same pass."""
    for base in model.classes[cls].bases:
        name = code(model, base.value).partition("[")[0].rpartition(".")[2]
        if name not in _ABSTRACT_BASES:
            return f"a base class may already use `{attr}`; add the lock by hand"
    subclasses = model.subclasses(cls, direct=True)
    if any(r[0] in ("instance", "class") and r[1] in subclasses and r[2] == attr
           for r in model.bindings):
        return f"a subclass already uses `{attr}`"
    return None


def lock_for(model: ModuleModel, ref: Ref, region: cst.CSTNode, function: Optional[Function],
             reuse: tuple[str, ...] = (), io: bool = True) -> Union[Lock, Declined]:
    why = calls_out(model, region, function, io)
    if why:
        return Declined(why)
    seen = _interim_seen(model, ref, region)
    if seen is not None:
        return Declined(f"the locked code stores a value and then replaces it, and "
                        f"`{seen.qualname}()` reads it without a lock, so it can still see "
                        "the first value; build the value in a local and store it once")
    lock = _lock_for(model, ref, region, function, reuse)
    if isinstance(lock, Lock):
        handed = _handed_off(model).get(_key_of(lock.expr, function))
        if handed:
            return Declined(f"`{handed}()` returns holding `{lock.expr}`, so its callers may "
                            "hold it here; taking it again would hang")
    return lock


def _interim_seen(model: ModuleModel, ref: Ref, region: cst.CSTNode) -> Optional[Function]:
    """A function that reads ``ref`` outside any `with`, when ``region``
    stores it and later, on the same path, stores it again (nvitop's
    `self._id = query(default=UINT_MAX)` then `if self._id == UINT_MAX:
    self._id = NA`, then `return self._id` after the block): a lock around
    the region does not hide the first value from that read."""
    stores = [a.statement for a in model.accesses_of(ref)
              if a.op in _REBINDS and inside(a.node, region)]
    if len(stores) < 2 or not any(_runs_before(first, then, region)
                                  for first in stores for then in stores if first is not then):
        return None
    if ref[0] != "instance":
        return None  # (reads of globals are not told from locals here)
    rearms = _rearms(model, ref, region)
    for function in model.functions:
        method = function.outermost
        if method.class_name != ref[1] or method.self_name is None or function.in_constructor:
            continue
        if not rearms and inside(region, function.node):
            # `return self._x` after the locked `if self._x is None:` build:
            # this call passed the lock, and no call builds again once the
            # final value is stored, so no build runs while it reads.
            continue
        guarded: set[int] = set()
        for node in walk_own(function.node):
            if isinstance(node, cst.With):
                guarded.update(id(n) for n in walk(node.body))
            elif (isinstance(node, cst.Attribute) and node.attr.value == ref[2]
                  and isinstance(node.value, cst.Name) and node.value.value == method.self_name
                  and id(node) not in guarded and not inside(node, region)):
                return function
    return None


def _rearms(model: ModuleModel, ref: Ref, region: cst.CSTNode) -> bool:
    """The region stores the very value its test looks for (`if self._id is
    NA:` ... `self._id = NA`): the next call builds again, and a call that
    reads after its own locked test can meet another call's interim store."""
    test = next((n.test for n in walk(region) if isinstance(n, cst.If)), None)
    if test is None:
        return False
    sought = {code(model, c.comparator) for n in walk(test) if isinstance(n, cst.Comparison)
              for c in n.comparisons}
    sought |= {code(model, n.left) for n in walk(test) if isinstance(n, cst.Comparison)}
    for access in model.accesses_of(ref):
        statement = access.statement
        if (access.op in _REBINDS and inside(access.node, region)
                and isinstance(statement, cst.SimpleStatementLine)
                and isinstance(statement.body[0], cst.Assign)
                and code(model, statement.body[0].value) in sought):
            return True
    return False


def _runs_before(first: cst.CSTNode, then: cst.CSTNode, region: cst.CSTNode) -> bool:
    """``first`` is a statement of a block in ``region`` and ``then`` is in a
    later statement of that block."""
    for block in walk(region):
        if isinstance(block, cst.IndentedBlock):
            body = list(block.body)
            at = next((i for i, s in enumerate(body) if s is first), None)
            if at is not None:
                return any(inside(then, later) for later in body[at + 1:])
    return False


def write_locks(model: ModuleModel, write: Access) -> frozenset[str]:
    """The program's locks (keys of `lock_bindings`) that ``write`` runs
    under: those it takes itself, else, in a helper that its callers call
    holding a lock (`clear()` takes `self._mutex` and calls `_clear()`),
    the ones every such call holds. Calls from constructors (the object is
    not shared yet) and from helpers that are themselves called locked do
    not count."""
    own = frozenset(k for k in write.locks if k in model.lock_bindings)
    if own or model.guarded(write.locks):
        return own
    function = write.function
    while function is not None and not function.called_under_lock:
        function = function.parent
    if function is None:
        return frozenset()
    common: Optional[frozenset[str]] = None
    for call in model.calls:
        if call.callee.rpartition(".")[2] != function.name:
            continue
        caller = call.caller
        if (caller is not None and function.class_name is not None
                and caller.outermost.class_name not in (None, function.class_name)):
            continue  # `self._clear()` of another class
        if caller is not None and (caller.in_constructor or caller.called_under_lock):
            continue  # before the object is shared, or a caller's caller holds it
        locks = frozenset(k for k in call.locks if k in model.lock_bindings)
        common = locks if common is None else common & locks
    return common or frozenset()


def is_new(model: ModuleModel, lock: Lock, function: Optional[Function]) -> bool:
    """The fix adds ``lock``, or an earlier pass of this run did: no code of
    the program holds it around anything yet."""
    return bool(lock.module_statements or lock.class_statements or lock.init_statements
                or _key_of(lock.expr, function) in getattr(model, "fresh_locks", ()))


def _key_of(expr: str, function: Optional[Function]) -> str:
    """The lock key of ``expr`` as written in ``function``: `self._lock` in
    a method of `Slot` is `Slot._lock`."""
    if function is not None and function.self_name and expr.startswith(function.self_name + "."):
        method = function
        while method is not None and method.class_name is None:
            method = method.parent
        if method is not None:
            return method.class_name + expr[len(function.self_name):]
    return expr


def _handed_off(model: ModuleModel) -> dict[str, str]:
    """Lock key -> a function that acquires it and returns without releasing
    it (`acquire_and_get()`): the lock is handed to its caller."""
    def compute() -> dict[str, str]:
        found: dict[str, str] = {}
        spans: dict[int, tuple] = {}  # function id -> (function, acquired, released)
        for call in model.calls:
            expr, _, method = call.callee.rpartition(".")
            if call.caller is None or not expr or method not in ("acquire", "release"):
                continue
            entry = spans.setdefault(id(call.caller), (call.caller, set(), set()))
            entry[1 if method == "acquire" else 2].add(expr)
        for function, acquired, released in spans.values():
            for expr in acquired - released:
                found.setdefault(_key_of(expr, function), function.name)
        return found
    return per_model(model, "handed off", compute)


def _lock_for(model: ModuleModel, ref: Ref, region: cst.CSTNode, function: Optional[Function],
              reuse: tuple[str, ...] = ()) -> Union[Lock, Declined]:
    if ref[0] == "global":
        return module_lock(model, ref, region, function, reuse)
    if ref[0] in ("instance", "class"):
        return instance_lock(model, ref, region, function, reuse)
    if ref[0] == "default" and not reuse:
        return default_lock(model, ref, region, function)
    if ref[0] == "funcattr" and not reuse:
        return function_attribute_lock(model, ref, region, function)
    return Declined("only module, class, instance and function state get a lock")


def unit_of_work(model: ModuleModel, access: Access) -> cst.CSTNode:
    """The smallest complete unit: the whole `if`/`try` of a check-then-act,
    else the statement."""
    compound = model.compound_for(access)
    if compound is not None and isinstance(compound.node, (cst.If, cst.Try)):
        return compound.node
    return access.statement


def wrap_fix(model: ModuleModel, ref: Ref, region: cst.CSTNode, access: Access,
             reuse: tuple[str, ...] = (), publish: bool = False,
             fill: bool = False) -> Union[Fix, Declined]:
    """Put the whole unit of work ``region`` under the state's lock.
    ``publish``: a cache fill whose worst case is a second build is built
    outside any lock and published in one step, as one whose value calls
    out is, but declined where the publish would need a lock of its own.
    ``fill``: a fill of a new object whose identity matters (`v = d[k] =
    {}`) is published with `setdefault` where it can be, with no lock; else
    it gets the lock."""
    compound = model.compound_for(access)
    if compound is not None and compound.kind == "rmw" and not _reads_itself(model, access, ref):
        return Declined("the value is read in an earlier statement; a lock around the write "
                        "alone would leave the read outside it")
    scope = scope_of(model, access.function)
    region = _whole_chain(model, region, scope)
    why = block_statement(model, region, scope)
    if why:
        return Declined(why)
    statements = [region]
    if not inside(access.node, region):
        # A guard clause (`if k in d: return`, then the write further down):
        # the unit runs from the check to the write, in the block they share.
        span = _span(model, region, access.statement, scope)
        if span is None:
            return Declined("the check and the write are in different blocks")
        if any(isinstance(s, (cst.FunctionDef, cst.ClassDef)) for s in span):
            return Declined("the check and the write are separated by a definition")
        statements = span
    statements = _with_lookup(model, statements, scope)
    statements = _with_uses(model, statements, scope, ref)
    unpaired = statements
    statements = _with_paired(model, statements, scope, ref, access)
    unit = _unit(statements)
    if _after_interim_store(model, ref, access):
        return Declined("the function stores it once before: readers that take no lock "
                        "see that interim value whatever lock the update takes; build the "
                        "value in a local and store it once")
    from ftlint.rules.context import configured_after_store  # the rules import this module

    configured = configured_after_store(model, access)
    if configured and statements[-1] is access.statement:
        # `_ctx = ssl.create_default_context()` then `_ctx.load_cert_chain()`:
        # a lock from the check to the store still publishes it half set up.
        return Declined(f"the new object is stored before {configured} sets it up: a lock "
                        "from the check to the store would still publish it half set up; "
                        "build and set it up in a local, then store it last")
    if suspends(unit):
        return Declined("the region yields or awaits; a lock must not be held across it")
    test = _read_in_enclosing_test(model, ref, statements[0], access.function)
    if test:
        return Declined(f"the state is also read in the test of the enclosing `{test}`, "
                        "outside the lock: the test and the update would still be separate "
                        "steps")
    if _under_fresh_lock(model, statements[0], access.function):
        return Declined("the region is under a lock created at its use; "
                        "FT305's fix makes that lock shared")
    callout = calls_out(model, unit, access.function)
    opaque = None if callout else opaque_call(model, unit)
    outside = callout or opaque
    if publish or outside:
        # A cache fill whose value calls out, or is built by code ftlint
        # cannot see: build it with no lock held, publish it in one step.
        from ftlint.fixes.publish import fill_fix

        others = _locked_by_others(model, ref, access)
        # Only the fill is published; an update paired with it stays as it was.
        fill = fill_fix(model, ref, unpaired, access, lock_for, reuse, unlocked=not others)
        if isinstance(fill, Fix):
            if (publish and not outside and not others
                    and (fill.module_statements or fill.class_statements or fill.init_statements)):
                return Declined("a cache filled on a miss, whose worst case is building a value "
                                "twice, in a container that is not a plain `dict`: publishing "
                                "it in one step would need a new lock, the only one this state "
                                "would have, to save that; add one by hand if a second build "
                                "must never be seen")
            return fill
    elif fill and not _locked_by_others(model, ref, access):
        from ftlint.fixes.publish import fill_fix

        published = fill_fix(model, ref, unpaired, access, lock_for, reuse)
        if isinstance(published, Fix) and not (published.module_statements
                                                or published.class_statements
                                                or published.init_statements):
            return published
    lock = lock_for(model, ref, unit, access.function, reuse)
    if isinstance(lock, Declined):
        return lock
    if opaque is not None and is_new(model, lock, access.function):
        return Declined(f"the region {opaque}, which ftlint cannot see; a new lock held around "
                        "it could deadlock or stall, and the result cannot be published in one "
                        "step")
    if len(statements) > 1 and plain_with_lock(statements[0]) == lock.expr:
        # The span starts in a `with` of this lock: the rest joins that block
        # (the fixer joins adjacent `with` blocks of one lock).
        statements = statements[1:]
    contents = _inline(statements, lock.expr) if len(statements) > 1 else statements
    held = locks_taken(model, _unit(contents))
    if held:
        # Taking our lock around a region that takes a lock itself either
        # re-enters a plain Lock or fixes an order between two locks that
        # other code may take the other way round: both can deadlock.
        return Declined(f"the region already takes `{held[0]}`; nesting locks could deadlock")
    first, rest = statements[0], statements[1:]
    if not rest:
        return lock.fix(f"Guard with `{lock.expr}`", Edit(first, wrap=lock.expr))
    wrapped = cst.With(items=[cst.WithItem(cst.parse_expression(lock.expr))],
                       body=cst.IndentedBlock([contents[0].with_changes(leading_lines=())
                                               if contents[0] is first else contents[0],
                                               *contents[1:]]),
                       leading_lines=first.leading_lines)
    span = ("with the update of the same keys after it" if len(unpaired) == 1
            else "from the check to the write")
    return lock.fix(f"Guard with `{lock.expr}`, {span}",
                    Edit(first, new=wrapped), *(Edit(s, new=cst.RemovalSentinel.REMOVE) for s in rest))


_REBINDS = ("rebind", "setattr")


def _after_interim_store(model: ModuleModel, ref: Ref, access: Access) -> bool:
    """`self.accepted = "a,b"` ... `self.accepted = set(self.accepted.split(","))`:
    an update of state that an earlier statement of the same block stored,
    which readers see with or without a lock around the update. (An earlier
    store in an `except` that returns is no interim value of the later one.)"""
    function = access.function
    if function is None or function.in_constructor or access.op not in _REBINDS + ("augassign",):
        return False
    body = next((list(b.body) for b in walk_own(function.node) if isinstance(b, cst.IndentedBlock)
                 and any(s is access.statement for s in b.body)), [])
    earlier = body[:next(i for i, s in enumerate(body) if s is access.statement)] if body else []
    return any(a.op in _REBINDS and a.function is function
               and any(s is a.statement for s in earlier)
               for a in model.accesses_of(ref))


def _locked_by_others(model: ModuleModel, ref: Ref, access: Access) -> bool:
    """Another run-time write of ``ref`` holds a lock, or is a check-then-act
    that will get one: a lone atomic store here would race with it."""
    from ftlint.fixes.atomic import _locked_elsewhere

    compound = model.compound_for(access)
    if compound is not None:
        return _locked_elsewhere(model, compound)
    return any(model.access_guarded(w) for w in model.writes(ref)
               if w is not access and not w.import_time)


def _read_in_enclosing_test(model: ModuleModel, ref: Ref, region: cst.CSTNode,
                            function: Optional[Function]) -> Optional[str]:
    """"while" or "if" when the test of a loop or branch around ``region``
    reads the state (`while start != self.index:` around `self.index += 1`,
    `if "x" not in cls.__dict__:` around `cls.x = ...`)."""
    if function is None:
        return None
    parent_of = parents(model, function.node)
    node = parent_of.get(id(region))
    while node is not None and node is not function.node:
        if isinstance(node, (cst.While, cst.If)) and (_names_state(node.test, ref) or any(
                isinstance(n, cst.SimpleString) and n.evaluated_value == ref[-1]
                for n in walk(node.test))):
            return "while" if isinstance(node, cst.While) else "if"
        node = parent_of.get(id(node))
    return None


def _reads_itself(model: ModuleModel, access: Access, ref: Ref) -> bool:
    """The write's own statement reads the state (`x = x + 1`, `x += 1`), so
    the read and the write are one unit a lock around the statement holds."""
    statement = access.statement
    if not isinstance(statement, cst.SimpleStatementLine):
        return True  # a compound statement: its unit is the whole statement
    for small in statement.body:
        if isinstance(small, cst.AugAssign):
            return True
        value = getattr(small, "value", None)
        if value is not None and _names_state(value, ref):
            return True
    return False


def _inline(statements: list[cst.CSTNode], lock: str) -> list[cst.CSTNode]:
    """A span's statements, with the body of each plain `with` of ``lock``
    among them in its place: the new block holds the lock over them anyway
    (as joining adjacent blocks does). One with a comment on its `with`
    line stays, and the span is declined as taking the lock."""
    out: list[cst.CSTNode] = []
    for index, statement in enumerate(statements):
        if plain_with_lock(statement) != lock or statement.body.header.comment is not None:
            out.append(statement)
            continue
        body = list(statement.body.body)
        if index:  # the first statement's lines above go above the new block
            body[0] = body[0].with_changes(
                leading_lines=(*statement.leading_lines, *body[0].leading_lines))
        out += body
    return out


def _unit(statements: list[cst.CSTNode]) -> cst.CSTNode:
    """One node to inspect for the statements of a unit of work."""
    return statements[0] if len(statements) == 1 else cst.IndentedBlock(body=statements)


def _whole_chain(model: ModuleModel, region: cst.CSTNode,
                 scope: Optional[cst.CSTNode]) -> cst.CSTNode:
    """An `elif` is tested only after the tests above it failed: the unit of
    work is the whole `if`/`elif` chain."""
    parent_of = parents(model, scope)
    while isinstance(region, cst.If):
        parent = parent_of.get(id(region))
        if not (isinstance(parent, cst.If) and parent.orelse is region):
            break
        region = parent
    return region


def _with_lookup(model: ModuleModel, statements: list[cst.CSTNode],
                 scope: Optional[cst.CSTNode]) -> list[cst.CSTNode]:
    """`lock = LOCKS.get(f)` right before `if lock is None:`: the lookup is
    the check, so it joins the unit of work. Locking only the `if` would
    test a value read before the lock and leave the race in place."""
    first = statements[0]
    if not isinstance(first, cst.If):
        return statements
    block = parents(model, scope).get(id(first))
    if not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return statements
    body = list(block.body)
    index = next(i for i, s in enumerate(body) if s is first)
    previous = body[index - 1] if index > 0 else None
    if not (isinstance(previous, cst.SimpleStatementLine) and len(previous.body) == 1
            and isinstance(previous.body[0], cst.Assign) and len(previous.body[0].targets) == 1):
        return statements
    target = previous.body[0].targets[0].target
    tested = {n.value for n in iter_subexpressions(first.test) if isinstance(n, cst.Name)}
    if isinstance(target, cst.Name) and target.value in tested:
        return [previous, *statements]
    return statements


# How many neighbouring statements that use the state join its unit of work.
_USES_AROUND = 2


def _uses(statement: cst.CSTNode, ref: Ref) -> bool:
    """``statement`` reads or writes the state of ``ref`` (by its name)."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return False
    if isinstance(statement, cst.SimpleStatementLine) and any(
            isinstance(small, (cst.Global, cst.Nonlocal)) for small in statement.body):
        return False  # a declaration, not a use
    return _names_state(statement, ref)


def _names_state(node: cst.CSTNode, ref: Ref) -> bool:
    """``node`` names the state of ``ref``: a global or a mutable default by
    its name, the state of an object, class or function by its attribute."""
    name, attribute = ref[-1], ref[0] not in ("global", "default")
    return any((isinstance(n, cst.Attribute) and n.attr.value == name) if attribute
               else (isinstance(n, cst.Name) and n.value == name) for n in walk(node))


def _with_uses(model: ModuleModel, statements: list[cst.CSTNode], scope: Optional[cst.CSTNode],
               ref: Ref) -> list[cst.CSTNode]:
    """The statements right before and after the unit that use the same
    state join it: `old = self.iv` then `self.iv = step(self.iv)`, or
    `self.depth += 1` then `if self.depth == 1:`. A lock around only the
    update would leave the value read outside it."""
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return statements  # a check-then-act: its `if` is the unit already
    block = parents(model, scope).get(id(statements[0]))
    if not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return statements
    body = list(block.body)
    first = next((i for i, s in enumerate(body) if s is statements[0]), None)
    last = next((i for i, s in enumerate(body) if s is statements[-1]), None)
    if first is None or last is None or last < first:
        return statements
    start, end = first, last
    while first - start < _USES_AROUND and start > 0 and _uses(body[start - 1], ref) and (
            not isinstance(body[start - 1], cst.With)):
        start -= 1
    while end - last < _USES_AROUND and end + 1 < len(body) and _uses(body[end + 1], ref) and (
            not isinstance(body[end + 1], cst.With)):
        end += 1
    if (start, end) == (first, last):
        return statements
    return body[start:first] + statements + body[last + 1:end + 1]


def _with_paired(model: ModuleModel, statements: list[cst.CSTNode],
                 scope: Optional[cst.CSTNode], ref: Ref,
                 access: Access) -> list[cst.CSTNode]:
    """The updates right after the unit of another container of the same
    owner, under the same key, join it: `self._algorithms[k] = alg` then
    `self._valid_algs.add(k)`. The two are kept in step, and a lock over the
    first alone lets another thread see (or change) one without the other.
    Only one-line updates that call nothing ftlint cannot see join; a log
    appended after a cache fill (`_log.append(("price", k))`) is not kept
    in step with it."""
    key = _update_key(model, access.statement)
    if key is None:
        return statements
    block = parents(model, scope).get(id(statements[-1]))
    if not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return statements
    body = list(block.body)
    last = next((i for i, s in enumerate(body) if s is statements[-1]), None)
    if last is None:
        return statements
    end = last
    while (end - last < _USES_AROUND and end + 1 < len(body)
           and _pairs_with(model, body[end + 1], ref, access.function)
           and _update_key(model, body[end + 1]) == key):
        end += 1
    return statements + body[last + 1:end + 1]


_KEYED = frozenset({"add", "discard", "remove", "pop", "setdefault", "append"})


def _update_key(model: ModuleModel, statement: cst.CSTNode) -> Optional[str]:
    """The key a one-line container update uses, as code: `d[k] = v` and
    `del d[k]` give `k`, `s.add(k)` (and the other keyed methods) give
    `k`; `d.clear()` gives `*`, every key; None for anything else."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    small = statement.body[0]
    target = None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
    elif isinstance(small, cst.Del):
        target = small.target
    if isinstance(target, cst.Subscript):
        if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
            return code(model, target.slice[0].slice.value)
        return None
    call = small.value if isinstance(small, cst.Expr) else None
    if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in _KEYED and call.args and call.args[0].keyword is None
            and call.args[0].star == ""):
        return code(model, call.args[0].value)
    if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "clear" and not call.args):
        # `self.cache.clear()` then `self.access_times.clear()`: every key.
        return "*"
    return None


def _pairs_with(model: ModuleModel, statement: cst.CSTNode, ref: Ref,
                function: Optional[Function]) -> bool:
    """``statement`` is one update of another container that belongs where
    ``ref`` does (the same object's, class's or module's), and calls out to
    nothing."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], (cst.Expr, cst.Assign, cst.Del))):
        return False
    writes = [a for a in model.accesses if a.statement is statement and a.write]
    if not writes or any(a.ref == ref or a.ref[0] != ref[0] or a.ref[1:-1] != ref[1:-1]
                         or a.op in ("rebind", "setattr", "augassign") for a in writes):
        return False
    return not calls_out(model, statement, function) and not opaque_call(model, statement)


def _span(model: ModuleModel, check: cst.CSTNode, statement: cst.CSTNode,
          scope: Optional[cst.CSTNode]) -> Optional[list[cst.BaseStatement]]:
    """The statements of one block from the one holding ``check`` to the one
    holding ``statement``, when they share a block in that order."""
    parent_of = parents(model, scope)
    chain: dict[int, cst.CSTNode] = {}  # block id -> the write's ancestor in it
    current: Optional[cst.CSTNode] = statement
    while current is not None:
        parent = parent_of.get(id(current))
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            chain.setdefault(id(parent), current)
        current = parent
    current = check
    while current is not None:
        parent = parent_of.get(id(current))
        if isinstance(parent, (cst.IndentedBlock, cst.Module)) and id(parent) in chain:
            body = list(parent.body)
            first = next(i for i, s in enumerate(body) if s is current)
            last = next(i for i, s in enumerate(body) if s is chain[id(parent)])
            return body[first:last + 1] if first < last else None
        current = parent
    return None


def _under_fresh_lock(model: ModuleModel, region: cst.CSTNode,
                      function: Optional[Function]) -> bool:
    """``region`` sits in `with threading.Lock():` (a lock made right there)."""
    fresh = {id(u.node) for u in model.lock_uses if u.function is function}
    if function is None or not fresh:
        return False
    parent_of = parents(model, function.node)
    current = parent_of.get(id(region))
    while current is not None:
        if isinstance(current, cst.With) and any(id(i.item) in fresh for i in current.items):
            return True
        current = parent_of.get(id(current))
    return False


def locks_taken(model: ModuleModel, region: cst.CSTNode) -> list[str]:
    taken = []
    for node in walk(region):
        if isinstance(node, cst.With):
            for item in node.items:
                name = dotted(item.item.func if isinstance(item.item, cst.Call) else item.item)
                if name and model.is_lock(name.replace("self.", "", 1)) or (
                        name and model.is_lock(name)):
                    taken.append(name)
    return taken


def container_lock_fix(model: ModuleModel, ref: Ref, access: Access) -> Union[Fix, Declined]:
    """A lock for a container write, unless it is one atomic operation: then
    the code it races with needs the lock too, and that is not here."""
    if access.atomic and model.compound_for(access) is None:
        return Declined("a single atomic operation; a lock around it alone changes nothing")
    return wrap_fix(model, ref, unit_of_work(model, access), access)


def double_checked_fix(model: ModuleModel, ref: Ref, node: cst.CSTNode,
                       access: Access) -> Union[Fix, Declined]:
    """`if x is None: x = build()` -> test, lock, test again, build."""
    if not isinstance(node, cst.If) or node.orelse is not None:
        return Declined("only an `if` without `else` is rewritten")
    if not inside(access.node, node.body):
        return Declined("the assignment is not inside the `if`")
    why = block_statement(model, node, scope_of(model, access.function))
    if why:
        return Declined(why)
    if not isinstance(node.body, cst.IndentedBlock):
        return Declined("the `if` body is on the same line")
    if node.body.header.comment is not None or has_comment(model, node.test):
        return Declined("a comment on the test would be duplicated")
    if not pure_test(node.test):
        return Declined("the test may have side effects; it would run twice")
    if any(isinstance(n, cst.With) and not all(_opens_a_file(model, i.item) for i in n.items)
           for n in walk(node.body)):
        return Declined("the body already takes a lock")
    if suspends(node):
        return Declined("the body yields or awaits")
    # Building the value once under the lock is the point of the fix, so
    # I/O may stay under it; callbacks may not.
    lock = lock_for(model, ref, node, access.function, io=False)
    opaque = (opaque_call(model, node) if not isinstance(lock, Declined)
              and is_new(model, lock, access.function) else None)
    if opaque is not None:
        # `_app = WebhooksServer()` of another module, which imports a web
        # framework: build it with no lock held, store it if still unset.
        from ftlint.fixes.publish import lazy_fix

        built = lazy_fix(model, ref, node, access, lock_for)
        if built is not None:
            return built
        return Declined(f"the value is built by code ftlint cannot see (it {opaque}); a new "
                        "lock held around the build could deadlock or stall")
    if isinstance(lock, Declined):
        if calls_out(model, node, access.function, io=False):
            # The builder runs code ftlint cannot see (a callback): build
            # with no lock held, store under the lock if still unset.
            from ftlint.fixes.publish import lazy_fix

            built = lazy_fix(model, ref, node, access, lock_for)
            if built is not None:
                return built
        return lock
    body = list(node.body.body)
    if (sum(1 for a in model.accesses_of(ref) if a.write and inside(a.node, node.body)) > 1
            or (body and not inside(access.node, body[-1]))):
        # (Also when the store is not the body's last statement: `_lib = load()`
        # then `_ctx = _Context()`; a thread that sees `_lib` set and skips
        # the lock would use the object half set up.)
        # The body stores an interim value (or fills the new object in place)
        # before the final one: an unlocked first test would see it. The
        # whole `if` goes under the lock, without the fast path.
        return lock.fix(f"Guard with `{lock.expr}` (the value is built in steps)",
                        Edit(node, wrap=lock.expr))
    inner = node.with_changes(leading_lines=())
    guarded = cst.With(items=[cst.WithItem(cst.parse_expression(lock.expr))],
                       body=cst.IndentedBlock([inner]))
    new = node.with_changes(body=cst.IndentedBlock([guarded]))
    return lock.fix(f"Double-checked locking with `{lock.expr}`", Edit(node, new=new))


# Context managers of the standard library that open a file or directory:
# no lock, so a lazy build that reads a file keeps its own lock fix.
_FILE_OPENERS = frozenset({"io.open", "gzip.open", "bz2.open", "lzma.open", "tarfile.open",
                           "zipfile.ZipFile", "tempfile.TemporaryFile",
                           "tempfile.NamedTemporaryFile", "tempfile.TemporaryDirectory",
                           "os.scandir"})


def _opens_a_file(model: ModuleModel, item: cst.BaseExpression) -> bool:
    """`open(path)` (the built-in, not shadowed in the module) or one of
    `_FILE_OPENERS`: a `with` that takes no lock."""
    if not isinstance(item, cst.Call):
        return False
    if dotted(item.func) == "open":
        return model.binding(("global", "open")) is None
    return model.qualify(item.func) in _FILE_OPENERS
