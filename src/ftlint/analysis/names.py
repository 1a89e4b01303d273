"""Import aliases and the few library names the analysis knows about.

A full QualifiedNameProvider costs more than the rest of the analysis, and we
only need to recognise a short list of constructors (locks, containers,
thread-local state), so we resolve import aliases ourselves.
"""

from __future__ import annotations

import builtins
from typing import Optional

import libcst as cst

# Constructors of mutable containers, by qualified name -> kind.
MUTABLE_TYPES = {
    "builtins.list": "list",
    "builtins.dict": "dict",
    "builtins.set": "set",
    "builtins.bytearray": "bytearray",
    "collections.defaultdict": "defaultdict",
    "collections.deque": "deque",
    "collections.Counter": "Counter",
    "collections.OrderedDict": "OrderedDict",
    "collections.ChainMap": "ChainMap",
    "weakref.WeakValueDictionary": "weakdict",
    "weakref.WeakKeyDictionary": "weakdict",
    "weakref.WeakSet": "weakset",
    "array.array": "array",
}

LOCK_TYPES = frozenset({
    "threading.Lock", "threading.RLock", "threading.Condition",
    "threading.Semaphore", "threading.BoundedSemaphore",
    "_thread.allocate_lock", "_thread.RLock", "_thread.LockType",
    "multiprocessing.Lock", "multiprocessing.RLock", "multiprocessing.Condition",
    "multiprocessing.Semaphore", "multiprocessing.BoundedSemaphore",
})

# State that is per-thread, per-context, or synchronised internally.
THREADSAFE_TYPES = frozenset({
    "threading.local", "_threading_local.local", "contextvars.ContextVar",
    "queue.Queue", "queue.SimpleQueue", "queue.LifoQueue", "queue.PriorityQueue",
    "threading.Event", "threading.Barrier", "multiprocessing.Queue",
    "multiprocessing.SimpleQueue", "multiprocessing.JoinableQueue",
})

IMMUTABLE_TYPES = frozenset({
    "builtins.tuple", "builtins.frozenset", "builtins.str", "builtins.bytes",
    "builtins.int", "builtins.float", "builtins.complex", "builtins.bool",
    "builtins.range", "types.MappingProxyType", "re.compile", "builtins.object",
    "builtins.property", "builtins.staticmethod", "builtins.classmethod",
    "typing.TypeVar", "typing.NewType", "collections.namedtuple",
    "enum.auto", "logging.getLogger", "typing.NamedTuple",
})

# Mutating methods of built-in containers. True: one atomic operation on the
# free-threaded build. False: only partly atomic (the source of extend/update
# is locked only when it is exactly a built-in container).
MUTATORS = {
    "append": True, "appendleft": True, "insert": True, "pop": True,
    "popleft": True, "popitem": True, "remove": True, "discard": True,
    "add": True, "clear": True, "setdefault": True, "sort": True,
    "reverse": True, "rotate": True,
    "extend": False, "extendleft": False, "update": False, "subtract": False,
    "difference_update": False, "intersection_update": False,
    "symmetric_difference_update": False, "move_to_end": True,
}

# Calling these on a container reads all of it at once, under its lock.
SNAPSHOT_CALLS = frozenset({"list", "tuple", "sorted", "set", "frozenset", "dict"})
ITER_VIEWS = frozenset({"keys", "values", "items"})

_BUILTINS = frozenset(dir(builtins))


def all_params(params: cst.Parameters) -> list[cst.Param]:
    """Every parameter of a function or lambda, ``*args`` and ``**kwargs`` included."""
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out


def binds(node: cst.CSTNode, name: str) -> bool:
    """Does the statement or expression ``node`` itself bind ``name`` (an
    assignment, a loop, `with ... as`, `except ... as`, `del`, an import)?"""
    if isinstance(node, cst.Assign):
        return any(target_binds(t.target, name) for t in node.targets)
    if isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
        return target_binds(node.target, name)
    if isinstance(node, cst.For):
        return target_binds(node.target, name)
    if isinstance(node, cst.WithItem):
        return node.asname is not None and target_binds(node.asname.name, name)
    if isinstance(node, cst.ExceptHandler):
        return node.name is not None and target_binds(node.name.name, name)
    if isinstance(node, cst.Del):
        return target_binds(node.target, name)
    if isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names,
                                                                         cst.ImportStar):
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name) and bound.value == name:
                return True
    return False


def target_binds(target: cst.CSTNode, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(target_binds(e.value, name) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return target_binds(target.value, name)
    return False


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    # Exact types: isinstance() against libcst's node classes runs an ABC
    # check, and this runs for most expressions of a module.
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


class ImportMap:
    """Local name -> qualified name, from the module's import statements."""

    def __init__(self, package: Optional[str] = None) -> None:
        self.aliases: dict[str, str] = {}
        self.modules: set[str] = set()  # what `import a.b` binds: a and a.b
        self.shadowed: set[str] = set()
        self.package = package  # the importing module's package, for relative imports

    def add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            parts = name.split(".")
            self.modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.aliases[alias.asname.name.value] = name
            else:
                head = name.split(".")[0]
                self.aliases[head] = head

    def add_import_from(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = dotted(node.module) if node.module is not None else ""
        if module is None:
            return
        if node.relative:  # from ._collections import X, inside package `pkg`
            if not self.package:
                return
            parts = self.package.split(".")
            up = len(node.relative) - 1
            if up >= len(parts):
                return
            base = ".".join(parts[:len(parts) - up])
            module = f"{base}.{module}" if module else base
        elif not module:
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{alias.name.value}"

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.aliases:
            base = self.aliases[head]
        elif head in _BUILTINS and head not in self.shadowed:
            base = f"builtins.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base
