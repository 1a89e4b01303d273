"""One pass over a libcst module that builds the :class:`ModuleModel`."""

from __future__ import annotations

import fnmatch
import operator
import re
from typing import Optional, Sequence

import libcst as cst

from ftlint.analysis.keys import expr_key, strip_view
from ftlint.analysis.model import (
    _LOCKISH, ITEMS, OWNER_DICT, Access, Binding, Call, Function, LockUse, ModuleModel, Mutability,
)
from ftlint.analysis.names import (
    IMMUTABLE_TYPES, LOCK_TYPES, MUTABLE_TYPES, MUTATORS, SNAPSHOT_CALLS, THREADSAFE_TYPES,
    ImportMap, all_params, binds, dotted,
)
from ftlint.analysis.resolve import finalize
from ftlint.analysis.scopes import Frame, bind_target, resolve_pending
from ftlint.analysis.threads import note_call, note_class
from ftlint.analysis.walk import Walker, code_children, walk_own
from ftlint.analysis.compounds import IDENTITY_METHOD, CheckTracking, block_exits, without_casts
from ftlint.analysis.locking import LockTracking

_DISPLAYS = {
    cst.List: "list", cst.ListComp: "list", cst.Dict: "dict", cst.DictComp: "dict",
    cst.Set: "set", cst.SetComp: "set",
}
_IMMUTABLE_NODES = frozenset({
    cst.Tuple, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
    cst.Integer, cst.Float, cst.Imaginary, cst.Lambda,
})
_SYNC_DECORATOR = ("synchron", "locked", "with_lock")
_THREAD_IDS = frozenset({
    "threading.get_ident", "threading.get_native_id", "threading.current_thread",
    "_thread.get_ident", "threading.currentThread",
})


# Names of functions that make locks: `_create_lock`, `make_rlock`, `new_lock`.
FACTORY_NAME = re.compile(r"_*((create|make|new|allocate|get)_?r?lock|r?lock_object)$", re.IGNORECASE)


class ModelBuilder(LockTracking, CheckTracking, Walker):
    # One builder per file, used by one thread: it is deliberately unlocked.
    __thread_safe__ = False

    def __init__(self, path: str, module: cst.Module,
                 sync_decorators: Sequence[str] = (), package: Optional[str] = None,
                 releases: bool = True) -> None:
        self.sync_decorators = tuple(sync_decorators)
        self.lock_decorators = _lock_decorators(module)
        # False when the source never says "release": no function can
        # release a lock its caller took, so no body needs scanning for it.
        self.releases = releases
        self.model = ModuleModel(path=path, module=module)
        self.imports = ImportMap(package)
        self.model.import_aliases = self.imports.aliases
        self.model.imported_modules = self.imports.modules
        self.frames: list[Frame] = [Frame("module")]
        self.container_classes: set[str] = set()  # classes derived from dict, list, set
        self.statements: list[cst.CSTNode] = []
        self.with_locks: list[str] = []
        self.line_locks: list[list[str]] = [[]]
        self.exiting_blocks: list[bool] = [False]  # per block: does it end by leaving?
        # Open checks: (test keys, the `if`/`try` node, locks held at the check)
        self.checks: list[tuple[dict, cst.CSTNode, tuple[str, ...]]] = []
        # Per block: checks kept open past their statement by a guard clause
        # (`if cached: return cached`), closed when the block ends.
        self.kept_checks: list[int] = [0]
        # How often each name occurs in functions / at import time.
        self.runtime_refs: dict[str, int] = {}
        self.import_refs: dict[str, int] = {}
        # Names used as decorators at the top level -> "plain" (`@d`) and/or
        # "factory" (`@d(...)`).
        self.import_decorators: dict[str, set[str]] = {}
        self.snapshot_loops: set[int] = set()  # `for` nodes over a copy of a container's keys
        self.stored_subscripts: set[int] = set()
        self.executors: set[str] = set()  # names bound by `with ThreadPoolExecutor() as ex`
        self.in_test = 0  # > 0 while inside an if/while test or a comparison
        self.loop_depth = 0

    # -- helpers -----------------------------------------------------------
    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def function(self) -> Optional[Function]:
        for frame in reversed(self.frames):
            if frame.kind == "function":
                return frame.function
            if frame.kind == "class":
                return None
        return None

    def method_frame(self) -> Optional[Frame]:
        for frame in reversed(self.frames):
            if frame.kind == "function" and frame.function.class_name:
                return frame
            if frame.kind != "function":
                return None
        return None

    def lock_factory(self, func: cst.BaseExpression) -> bool:
        """``func`` makes locks: a function of this module that only returns
        a new lock, or one named like a lock factory (`_create_lock`,
        `make_rlock`) imported from the project."""
        name = dotted(func)
        if name is None:
            return False
        last = name.rpartition(".")[2]
        if FACTORY_NAME.match(last):
            return True
        definition = self.module_functions().get(name)
        if definition is None:
            return False
        known = self.__dict__.setdefault("_lock_factories", {})
        if name not in known:  # a module calls the same helpers again and again
            returns, stack = [], code_children(definition.body)
            while stack:
                node = stack.pop()
                if isinstance(node, cst.Return):
                    returns.append(node)
                elif not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda,
                                           cst.BaseExpression)):
                    stack.extend(code_children(node))
            known[name] = bool(returns) and all(
                isinstance(r.value, cst.Call) and self.imports.qualify(r.value.func) in LOCK_TYPES
                for r in returns)
        return known[name]

    def module_functions(self) -> dict[str, cst.FunctionDef]:
        found = self.__dict__.get("_module_functions")
        if found is None:
            found = {s.name.value: s for s in self.model.module.body if isinstance(s, cst.FunctionDef)}
            self.__dict__["_module_functions"] = found
        return found

    def classify_value(self, value: cst.BaseExpression) -> tuple[Mutability, str]:
        node_type = type(value)  # exact types: libcst's classes have no subclasses
        display = _DISPLAYS.get(node_type)
        if display is not None:
            return Mutability.MUTABLE, display
        if node_type in _IMMUTABLE_NODES:
            return Mutability.IMMUTABLE, "constant"
        if isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
            return Mutability.IMMUTABLE, "constant"
        if isinstance(value, cst.GeneratorExp):
            return Mutability.UNKNOWN, "iterator"
        if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
            # `reporters or []`: the caller's list, or a new one.
            mutability, kind = self.classify_value(value.right)
            if mutability is Mutability.MUTABLE:
                return Mutability.UNKNOWN, kind
        if isinstance(value, cst.Call):
            name = self.imports.qualify(value.func)
            if name in MUTABLE_TYPES:
                return Mutability.MUTABLE, MUTABLE_TYPES[name]
            last = (name or dotted(value.func) or "").rsplit(".", 1)[-1]
            if last in _REEXPORTED and last not in self.model.classes:
                # `from ._compat import WeakSet`: a package's own re-export.
                return Mutability.MUTABLE, _REEXPORTED[last]
            if name in LOCK_TYPES or (name is None and self.lock_factory(value.func)):
                return Mutability.LOCK, "lock"
            if name in THREADSAFE_TYPES:
                return Mutability.THREADSAFE, name.rsplit(".", 1)[-1]
            if name in IMMUTABLE_TYPES:
                return Mutability.IMMUTABLE, "constant"
            if name in ("builtins.iter", "itertools.count", "itertools.cycle"):
                return Mutability.UNKNOWN, "iterator"
        return Mutability.UNKNOWN, "object"

    def raw_ref(self, target: cst.BaseExpression) -> Optional[tuple]:
        if isinstance(target, cst.Name):
            method = self.method_frame()
            if method is not None and target.value == method.function.self_name:
                func = method.function
                if (func.kind == "method" and func.class_name in self.container_classes
                        and target.value not in _bound_below(self.frames, method)):
                    # `for key in self`, `self[k] = v` in a dict subclass:
                    # the object's own items are its state.
                    return ("self", func.class_name, ITEMS)
            return ("name", target.value)
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            base, attr = target.value.value, target.attr.value
            method = self.method_frame()
            if method is not None and attr == "__dict__" and method.function.name == "__get__":
                params = method.function.node.params.params
                if len(params) >= 2 and params[1].name.value == base:
                    # A cached-property look-alike caching in `obj.__dict__`:
                    # the objects it is used on are the state.
                    return ("self", method.function.class_name, OWNER_DICT)
            if method is not None:
                func = method.function
                if base == func.self_name and base not in _bound_below(self.frames, method):
                    if func.kind == "classmethod":
                        return ("class", func.class_name, attr)
                    return ("self", func.class_name, attr)
            frame = self.frame
            if (base in ("self", "cls") and frame.kind == "function" and base in frame.params
                    and method is None):
                return ("self", base, attr)  # a decorator's wrapper(self, ...)
            return ("nameattr", base, attr)
        return None

    def _packed_parameter(self, value: cst.BaseExpression) -> bool:
        """``value`` is the enclosing function's `*args` (a tuple) or
        `**kwargs` (a dict), never bound again in it: exactly a built-in
        container, so `lst.extend(args)` is one atomic step."""
        function = self.function()
        if function is None or not isinstance(value, cst.Name):
            return False
        params = function.node.params
        packed = {p.name.value for p in (params.star_arg, params.star_kwarg)
                  if isinstance(p, cst.Param)}
        if value.value not in packed:
            return False
        return not any(binds(node, value.value) for node in walk_own(function.node.body))

    # -- recording -----------------------------------------------------------
    def record(self, target: cst.BaseExpression, op: str, write: bool, atomic: bool,
               node: cst.CSTNode, value: Optional[cst.BaseExpression] = None) -> None:
        element = ""
        target = self.unalias(target)
        ref = self.raw_ref(target)
        inner = target
        while ref is None and isinstance(inner, cst.Subscript):
            # G[k].append(x), G[k][j].append(x): a write to an element of a
            # shared container (which a defaultdict also fills).
            if self.is_thread_key(inner):
                return  # G[get_ident()][k] = v, or through an alias: the thread's own slot
            inner = inner.value
            ref = self.raw_ref(inner)
            element = "item."
        if ref is None:
            return
        access = Access(
            ref=ref, op=element + op, write=write, atomic=atomic, node=node,
            statement=self.statements[-1] if self.statements else node,
            function=self.function(), locks=self.held(),
            assigned=self.classify_value(value) if value is not None else None,
        )
        frame = self.frame
        if ref[0] in ("name", "nameattr") and frame.kind == "function":
            frame.pending.append(access)
        elif ref[0] in ("name", "nameattr") and frame.kind == "class" and ref[1] in frame.locals:
            return  # a class-body name: import time, and not a global
        else:
            self.model.accesses.append(access)
        self.match_check(target, access)

    def unalias(self, target: cst.BaseExpression) -> cst.BaseExpression:
        """Through a local alias, the shared container itself: `data.pop(k)`
        after `data = self._data` is `self._data.pop(k)`."""
        aliases = self.frame.container_aliases
        if not aliases:
            return target
        if isinstance(target, cst.Name):
            return aliases.get(target.value, target)
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            alias = aliases.get(target.value.value)
            if alias is not None:
                return target.with_changes(value=alias)
        return target

    def rekey(self, key: Optional[tuple]) -> Optional[tuple]:
        """A check key with local aliases replaced by what they alias."""
        aliases = self.frame.container_aliases
        if not aliases or key is None:
            return key
        if key[0] == "N" and key[1] in aliases:
            return expr_key(aliases[key[1]]) or key
        if key[0] in ("A", "S"):
            base = self.rekey(key[1])
            return key if base is key[1] else (key[0], base) + key[2:]
        return key

    def note_container_alias(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """`data = self._data` or `dmap = MAPS[fmt]` in a function: later
        operations on the local are operations on the shared container."""
        frame = self.frame
        if not isinstance(target, cst.Name) or target.value in frame.globals:
            return
        base = value
        while isinstance(base, cst.Subscript) and len(base.slice) == 1:
            base = base.value  # an element, or an element of an element
        shared = False
        if isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name):
            method = self.method_frame()
            shared = method is frame and base.value.value == frame.function.self_name
            # Only attributes the class assigns: `self.format_dict` may be a
            # property that builds a new dict on every access.
            shared = shared and (
                base.attr.value == "__dict__"  # the object's own namespace
                or ("instance", frame.function.class_name, base.attr.value) in self.model.bindings
                or ("class", frame.function.class_name, base.attr.value) in self.model.bindings)
        elif isinstance(base, cst.Name) and base.value not in frame.locals | frame.params:
            binding = self.model.bindings.get(("global", base.value))
            shared = binding is not None and binding.mutability in (Mutability.MUTABLE,
                                                                   Mutability.UNKNOWN)
        if shared:
            frame.container_aliases[target.value] = value

    def record_target(self, target: cst.BaseExpression, op: str, atomic: bool,
                      node: cst.CSTNode, value: Optional[cst.BaseExpression] = None) -> None:
        frame = self.frame
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.record_target(element.value, op, atomic, node)
            return
        if isinstance(target, cst.StarredElement):
            self.record_target(target.value, op, atomic, node)
            return
        if frame.container_aliases and isinstance(target, (cst.Name, cst.Attribute)):
            # `pending = self.pending; self.pending = []`: the local keeps the
            # old container, which the attribute no longer shares.
            key = expr_key(target)
            for name, value in list(frame.container_aliases.items()):
                if key is not None and expr_key(value) == key:
                    del frame.container_aliases[name]
        if isinstance(target, cst.Name):
            if frame.kind == "function":
                if target.value in frame.globals:
                    name = target.value
                    read_before = frame.global_reads.get(name, 0) > 0
                    # The target Name is visited next; it is a store, not a read.
                    frame.global_reads[name] = frame.global_reads.get(name, 0) - 1
                    before = len(self.model.compounds)
                    self.record(target, op if op != "setitem" else "rebind", True, atomic, node, value)
                    stores_back = (value is not None
                                   and expr_key(without_casts(value)) == ("N", name))
                    if (op == "rebind" and read_before and len(self.model.compounds) == before
                            and not stores_back):  # `x = cast(T, x)` changes nothing
                        self.add_rmw(target, node, augmented=False, detail="read earlier")
                        read_locks = frame.global_read_locks.get(name, ())
                        compound = self.model.compounds[-1] if len(self.model.compounds) > before else None
                        if compound is not None and set(read_locks) - set(compound.locks):
                            # Read under one lock, written under another: the
                            # unit holds the locks of its read.
                            compound.locks = read_locks
                else:
                    frame.bind(target.value)
            elif frame.kind == "class":
                frame.bind(target.value)
            return
        if isinstance(target, cst.Subscript):
            if self.is_thread_key(target):
                return  # d[threading.get_ident()] = v: each thread owns its slot
            item_op = {"rebind": "setitem", "augassign": "augitem", "del": "delitem"}[op]
            self.record(target.value, item_op, True, atomic, node,
                        value if op == "rebind" else None)
            return
        if isinstance(target, cst.Attribute):
            attr_op = {"rebind": "setattr", "augassign": "augattr", "del": "delattr"}[op]
            self.record(target, attr_op, True, atomic, node, value)
            if op == "rebind" and value is not None:
                self.note_instance_attr(target, value)

    def note_instance_attr(self, target: cst.Attribute, value: cst.BaseExpression) -> None:
        method = self.method_frame()
        if method is None or not isinstance(target.value, cst.Name):
            return
        func = method.function
        if target.value.value != func.self_name:
            return
        if func.kind == "classmethod" or func.name == "__new__":
            # `cls._instances = WeakSet()`: a container on the class, made at
            # run time; kept unless the class body binds the name itself.
            mutability, kind = self.classify_value(value)
            ref = ("class", func.class_name, target.attr.value)
            if mutability is Mutability.MUTABLE and ref not in self.model.bindings:
                self.model.bindings[ref] = Binding(ref, mutability, kind, value,
                                                   self.statements[-1], import_time=False)
            return
        if func.in_constructor:
            self.model.constructor_attrs.add((func.class_name, target.attr.value))
        mutability, kind = self.classify_value(value)
        ref = ("instance", func.class_name, target.attr.value)
        existing = self.model.bindings.get(ref)
        if existing is None or (mutability is not Mutability.UNKNOWN and func.in_constructor):
            self.model.bindings[ref] = Binding(ref, mutability, kind, value,
                                               self.statements[-1], import_time=False)

    def bind_shared(self, name: str, value: Optional[cst.BaseExpression], node: cst.CSTNode) -> None:
        """A module-level or class-level binding, made at import time."""
        frame = self.frame
        if frame.kind == "module":
            ref = ("global", name)
        elif frame.kind == "class":
            ref = ("class", frame.class_name, name)
        else:
            return
        if value is None:
            mutability, kind = Mutability.UNKNOWN, "object"
        else:
            mutability, kind = self.classify_value(value)
        old = self.model.bindings.get(ref)
        # A later mutable binding (`X = None` then `X = {}` in a branch) wins.
        if old is None or _rank(mutability) >= _rank(old.mutability):
            self.model.bindings[ref] = Binding(
                ref, mutability, kind, value or node,
                self.statements[-1] if self.statements else node,
                others=(*old.others, old.node) if old is not None else ())
        else:
            old.others = (*old.others, value or node)

    # -- imports and definitions ---------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self.imports.add_import(node)
        for alias in node.names:
            name = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
            self.frame.bind(name)
            self.bind_kind(name, "module", node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.add_import_from(node)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = alias.evaluated_alias or alias.evaluated_name
            self.frame.bind(name)
            self.bind_kind(name, "import", node)

    def bind_kind(self, name: str, kind: str, node: cst.CSTNode) -> None:
        if self.frame.kind == "module":
            ref = ("global", name)
            self.model.bindings.setdefault(ref, Binding(ref, Mutability.IMMUTABLE, kind, node, node))

    def uncount_definition(self, name: str) -> None:
        """The name of a def or class is a Name node too, but not a use."""
        refs = self.runtime_refs if self.function() is not None else self.import_refs
        refs[name] = refs.get(name, 0) - 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.note_decorators(node)
        self.frame.bind(node.name.value)
        self.bind_kind(node.name.value, "class", node)
        self.uncount_definition(node.name.value)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        outer = self.frame.class_name
        qual = f"{outer}.{node.name.value}" if outer else node.name.value
        self.model.classes[qual] = node
        note_class(self, qual, node)
        kind = next((_CONTAINER_BASES[b] for b in self.model.class_bases.get(qual, ())
                     if b in _CONTAINER_BASES), None)
        if kind is not None:
            self.container_classes.add(qual)
            ref = ("instance", qual, ITEMS)
            self.model.bindings[ref] = Binding(ref, Mutability.MUTABLE, kind, node, node,
                                               import_time=False)
        self.frames.append(Frame("class", class_name=qual,
                                 saved=(self.with_locks, self.line_locks, self.checks,
                                        self.kept_checks)))
        self.with_locks, self.line_locks, self.checks, self.kept_checks = [], [[]], [], [0]

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        frame = self.frames.pop()
        self.with_locks, self.line_locks, self.checks, self.kept_checks = frame.saved

    def note_decorators(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        if self.function() is None:
            for decorator in node.decorators:
                name = dotted(_decorator_target(decorator.decorator))
                if name is not None:
                    how = "factory" if isinstance(decorator.decorator, cst.Call) else "plain"
                    self.import_decorators.setdefault(name, set()).add(how)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.note_decorators(node)
        self.frame.bind(node.name.value)
        self.bind_kind(node.name.value, "function", node)
        self.uncount_definition(node.name.value)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        outer = self.frame
        decorators = tuple(filter(None, (dotted(_decorator_target(d.decorator))
                                         for d in node.decorators)))
        parent = outer.function if outer.kind == "function" else None
        class_name = outer.class_name if outer.kind == "class" else None
        if class_name:
            kind = ("staticmethod" if "staticmethod" in decorators
                    else "classmethod" if "classmethod" in decorators
                    or node.name.value in ("__new__", "__init_subclass__", "__class_getitem__")
                    else "method")
        else:
            kind = "function"
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        self_name = params[0] if kind in ("method", "classmethod") and params else None
        if parent is not None:
            qualname = f"{parent.qualname}.{node.name.value}"
        elif class_name:
            qualname = f"{class_name}.{node.name.value}"
        else:
            qualname = node.name.value
        function = Function(qualname, node.name.value, node, class_name, kind, self_name,
                            decorators, parent)
        self.model.functions.append(function)
        frame = Frame("function", function=function,
                      saved=(self.with_locks, self.line_locks, self.checks, self.kept_checks))
        for param in all_params(node.params):
            frame.params.add(param.name.value)
            if param.default is not None:
                mutability, kind_ = self.classify_value(param.default)
                if mutability is Mutability.MUTABLE:
                    ref = ("default", qualname, param.name.value)
                    binding = Binding(ref, mutability, kind_, param.default, node)
                    frame.mutable_defaults[param.name.value] = binding
                    self.model.bindings[ref] = binding
        self.frames.append(frame)
        self.with_locks, self.line_locks, self.checks, self.kept_checks = [], [[]], [], [0]
        qualified = {d: self.imports.qualify(_decorator_target(dec.decorator)) or d
                     for d, dec in zip(decorators, node.decorators)}
        sync = [d for d in decorators if any(s in d.lower() for s in _SYNC_DECORATOR)
                or d in self.lock_decorators
                or any(fnmatch.fnmatchcase(n, p) for p in self.sync_decorators
                       for n in (d, qualified.get(d, d)))]
        self.with_locks.extend(f"@{d}" for d in sync)
        if self.releases:
            self.line_locks[0].extend(self.held_on_entry(node))
        self.line_locks[0].extend(self.asserted_held(node))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        frame = self.frames.pop()
        frame.function.local_names = frozenset(frame.locals)
        frame.function.alias_names = frozenset(frame.attr_aliases)
        self.with_locks, self.line_locks, self.checks, self.kept_checks = frame.saved
        for name, (value, constructor) in frame.local_locks.items():
            uses = frame.lock_uses.get(name, 0)
            # Bound once, used only by with/acquire/release here: no other
            # code, and so no other thread, can ever hold the same lock.
            if uses and frame.name_counts.get(name, 0) == uses + 1:
                self.model.lock_uses.append(LockUse(value, frame.function, constructor))
        # A method sees the names of the function around its class, not the
        # class body's: the class scope is skipped, as Python does.
        enclosing = next(f for f in reversed(self.frames) if f.kind != "class")
        for access in resolve_pending(frame, enclosing):
            self.model.accesses.append(access)

    def visit_Global(self, node: cst.Global) -> None:
        frame = self.frame
        for item in node.names:
            frame.globals.add(item.name.value)
            # The Name inside `global x` is visited next; it is not a read.
            frame.global_reads[item.name.value] = frame.global_reads.get(item.name.value, 0) - 1

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.frame.nonlocals.update(n.name.value for n in node.names)

    def visit_Name(self, node: cst.Name) -> None:
        refs = self.runtime_refs if self.function() is not None else self.import_refs
        refs[node.value] = refs.get(node.value, 0) + 1
        for outer in self.frames:
            if outer.kind == "function":  # nested code's uses count for the outer local
                outer.name_counts[node.value] = outer.name_counts.get(node.value, 0) + 1
        frame = self.frame
        if frame.kind == "function" and node.value in frame.globals:
            frame.global_reads[node.value] = frame.global_reads.get(node.value, 0) + 1
            if frame.global_reads[node.value] > 0:  # not the Name of `global x`
                frame.global_read_locks.setdefault(node.value, self.held())

    # -- statements ------------------------------------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.append(node)
        self.note_acquire_release(node)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.pop()

    # A one-line suite (`def f(): x = 1`) is the statement of its small
    # statements; fix builders decline it, since it is not alone in a block.
    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.statements.append(node)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.statements.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.line_locks.append([])
        self.exiting_blocks.append(block_exits(node))
        self.kept_checks.append(0)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        acquired = self.line_locks.pop()
        if not self.exiting_blocks.pop() and len(self.line_locks) > 1:
            # `if timeout == -1: ok = lock.acquire() else: ok = lock.acquire(True, t)`:
            # a lock a branch takes and keeps is held after it.
            for key in acquired:
                if key not in self.line_locks[-1]:
                    self.line_locks[-1].append(key)
        kept = self.kept_checks.pop()
        if kept:
            del self.checks[-kept:]

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Subscript):
                self.stored_subscripts.add(id(target.target))  # `d[k] = v` looks nothing up
        frame = self.frame
        if frame.kind == "function" and len(node.targets) == 1:
            self.note_alias(node.targets[0].target, node.value)
            self.note_local_value(node.targets[0].target, node.value)
        for target in node.targets:
            if frame.kind in ("module", "class"):
                self.bind_names(target.target, node.value, node)
            self.record_target(target.target, "rebind", True, node, node.value)
            self.check_rmw(target.target, node.value, node)
        if frame.kind == "function" and len(node.targets) == 1:
            self.note_container_alias(node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            if isinstance(node.target, cst.Name) and self.frame.kind == "function":
                self.frame.bind(node.target.value)
            return
        if self.frame.kind in ("module", "class"):
            self.bind_names(node.target, node.value, node)
        self.record_target(node.target, "rebind", True, node, node.value)
        self.check_rmw(node.target, node.value, node)

    def is_thread_id(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return expr.value in self.frame.thread_ids
        if isinstance(expr, cst.Attribute) and expr.attr.value in ("ident", "native_id", "name"):
            expr = expr.value
        if not isinstance(expr, cst.Call):
            return False
        qualified = self.imports.qualify(expr.func)
        if qualified in _THREAD_IDS:
            return True
        # The project's own wrapper (`_get_threading_ident()`), named for what it returns.
        name = dotted(expr.func)
        return qualified is None and name is not None and bool(
            IDENTITY_METHOD.match(name.rpartition(".")[2]))

    def is_thread_key(self, target: cst.Subscript) -> bool:
        index = target.slice[0].slice if len(target.slice) == 1 else None
        return isinstance(index, cst.Index) and self.is_thread_id(index.value)

    def note_helper_check(self, node: cst.Call) -> None:
        """``self._helper()`` under an open unset test of ``self.x``: the
        helper may be what builds ``x`` (FT204 pairs them once the helper's
        writes are known)."""
        method = self.method_frame()
        func = node.func
        if (method is None or not isinstance(func, cst.Attribute)
                or not isinstance(func.value, cst.Name)
                or func.value.value != method.function.self_name):
            return
        keys, check, held = self.checks[-1]
        if not any(statement is check for statement in self.statements):
            return  # after a guard clause: the rest runs when the value is set
        names = frozenset(key[2] for key, kind in keys.items()
                          if kind == "none" and key[0] == "A" and key[1] == ("N", func.value.value))
        if names:
            self.model.helper_checks.append((self.model.calls[-1], names, check, held))

    def note_local_value(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """Locals bound to an iterator (FT301 if handed to threads) or to a
        new lock (FT305 if it never leaves the function)."""
        if not isinstance(target, cst.Name):
            return
        mutability, kind = self.classify_value(value)
        if kind == "iterator" or (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
            self.frame.local_iterators[target.value] = value
        if mutability is Mutability.LOCK and isinstance(value, cst.Call):
            self.frame.local_locks[target.value] = (value, self.imports.qualify(value.func) or "Lock")
        elif isinstance(value, cst.Attribute):
            # `lock = cls._lock`: another name for a shared lock, not a new one.
            self.frame.attr_aliases.add(target.value)

    def bind_names(self, target: cst.BaseExpression, value: cst.BaseExpression,
                   node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.bind_shared(target.value, value, node)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else None
            for i, element in enumerate(target.elements):
                sub = values[i].value if values and i < len(values) else None
                if isinstance(element.value, cst.Name):
                    self.bind_shared(element.value.value, sub, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.record_target(node.target, "augassign", False, node, node.value)
        self.add_rmw(node.target, node, augmented=True)

    def visit_Del(self, node: cst.Del) -> None:
        self.record_target(node.target, "del", True, node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        value = node.value
        if isinstance(value, cst.Name) and value.value == "self":
            function = self.function()
            if function is not None:
                self.model.self_attributes.append(
                    Call(function, f"self.{node.attr.value}", None, node, self.held()))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        callee = dotted(func)
        qualified = self.imports.qualify(func)
        if callee is not None:
            self.model.calls.append(Call(self.function(), callee, qualified, node, self.held()))
            if self.checks:
                self.note_helper_check(node)
        note_call(self, node, qualified)
        if qualified == "builtins.next" and node.args:
            self.record(node.args[0].value, "next", False, True, node)
        if (qualified is not None and qualified.startswith("builtins.") and len(node.args) == 1
                and qualified[9:] in SNAPSHOT_CALLS and node.args[0].keyword is None
                and not node.args[0].star):
            # `list(d.items())` copies under the container's lock, except for
            # weak containers, whose Python iterator runs: FT206 decides. On
            # 3.13t only `list()` and `sorted()` copy a dict view in one step;
            # `set(d.keys())`, `dict(d.items())` and `tuple(d)` iterate.
            argument = node.args[0].value
            target = strip_view(argument)
            view = target is not argument
            kind = qualified[9:]
            atomic = not (kind == "tuple" or (view and kind in ("set", "frozenset", "dict")))
            if isinstance(target, (cst.Name, cst.Attribute)):
                self.record(target, "snapshot", False, atomic, node)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            atomic = MUTATORS.get(method)
            if atomic is not None:
                if not atomic and node.args and (isinstance(
                        node.args[0].value, (cst.List, cst.Tuple, cst.Set, cst.Dict))
                        or self._packed_parameter(node.args[0].value)):
                    atomic = True  # the source is exactly a built-in container
                self.record(func.value, method, True, atomic, node)
            elif method == "acquire" and isinstance(func.value, cst.Call):
                self.lock_created_here(func.value)
            elif method in ("acquire", "release"):
                self.count_local_lock_use(func.value)
        elif isinstance(func, cst.Name) and func.value in ("setattr", "delattr") and len(node.args) >= 2:
            name = node.args[1].value
            # setattr(obj, "data-id", v) is legal; it is no attribute we track.
            if (isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str)
                    and name.evaluated_value.isidentifier()):
                target = cst.Attribute(node.args[0].value, cst.Name(name.evaluated_value))
                if isinstance(node.args[0].value, cst.Name):
                    self.record(target, func.value, True, True, node)

    # -- reads -------------------------------------------------------------------
    def record_iteration(self, iterable: cst.BaseExpression, node: cst.CSTNode) -> None:
        target = strip_view(iterable)
        if isinstance(target, (cst.Name, cst.Attribute)):
            self.record(target, "iter", False, True, node)

    def visit_For(self, node: cst.For) -> None:
        self.loop_depth += 1
        self.statements.append(node)
        self.record_iteration(node.iter, node.iter)
        if self.frame.kind == "function":
            snapshot = self.key_snapshot(node.iter) if isinstance(node.target, cst.Name) else None
            if snapshot is not None:
                # `for k in list(d): d[k]`: another thread can delete a key
                # between the copy and the lookup (KeyError).
                self.checks.append(({snapshot: "snapshot"}, node, self.held()))
                self.snapshot_loops.add(id(node))
            bind_target(self.frame, node.target)

    def leave_For(self, node: cst.For) -> None:
        self.loop_depth -= 1
        self.statements.pop()
        if id(node) in self.snapshot_loops:
            self.checks.pop()

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.record_iteration(node.iter, node.iter)
        if self.frame.kind == "function":
            bind_target(self.frame, node.target)

    # -- locks and checks ------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        self.statements.append(node)
        pid = _pid_compared(node.test)
        if pid is not None:  # if self.pid != os.getpid(): self.reset()
            self.record(pid, "pidcheck", False, True, node)
        runs = python3_decides(node.test)
        if runs is False:
            self.model.dead_branches.append(node.body)
        elif runs is True and node.orelse is not None:
            self.model.dead_branches.append(node.orelse)

    def visit_Try(self, node: cst.Try) -> None:
        self.statements.append(node)

    def leave_Try(self, node: cst.Try) -> None:
        self.statements.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and self.frame.kind == "function":
            bind_target(self.frame, node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if self.frame.kind == "function":
            bind_target(self.frame, node.target)

    def visit_Yield(self, node: cst.Yield) -> None:
        function = self.function()
        if function is not None:
            function.is_generator = True

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.in_test += 1

    def leave_Comparison(self, node: cst.Comparison) -> None:
        self.in_test -= 1

    def visit_If_test(self, node: cst.If) -> None:
        self.in_test += 1

    def leave_If_test(self, node: cst.If) -> None:
        self.in_test -= 1

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # lambdas hold expressions only; nothing shared is written

    def build(self) -> ModuleModel:
        self.walk(self.model.module)
        self.model.docstring = self.model.module.get_docstring()
        if self.model.dead_branches:
            # Code no Python 3 runs touches nothing: its accesses, checks and
            # calls would only speak for or against code that does run.
            dead = self.model.dead_nodes
            model = self.model
            model.accesses = [a for a in model.accesses if id(a.node) not in dead]
            model.compounds = [c for c in model.compounds if id(c.node) not in dead
                               and (c.write is None or id(c.write.node) not in dead)]
            model.calls = [c for c in model.calls if id(c.node) not in dead]
            model.global_calls = [c for c in model.global_calls if id(c.node) not in dead]
        return finalize(self.model, self.imports, self.runtime_refs, self.import_refs,
                        self.import_decorators)


_ORDER = {cst.LessThan: operator.lt, cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
          cst.GreaterThanEqual: operator.ge, cst.Equal: operator.eq, cst.NotEqual: operator.ne}


def python3_decides(test: cst.BaseExpression) -> Optional[bool]:
    """What ``test`` is on every Python 3 when that does not depend on the
    minor version (`sys.version_info < (3,)`, `sys.version_info >= (2, 5)`,
    `sys.version_info[0] == 2`, `six.PY2`), else None."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = python3_decides(test.expression)
        return None if inner is None else not inner
    if (isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name)
            and test.value.value == "six" and test.attr.value in ("PY2", "PY3")):
        return test.attr.value == "PY3"
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    compare = _ORDER.get(type(test.comparisons[0].operator))
    left, right = test.left, test.comparisons[0].comparator
    if compare is None:
        return None
    if dotted(left) in ("sys.version_info", "version_info") and isinstance(right, cst.Tuple):
        values = [e.value for e in right.elements]
        if not 0 < len(values) <= 3 or not all(isinstance(v, cst.Integer) for v in values):
            return None
        bound = tuple(int(v.value) for v in values)
        lowest, highest = (3, 0, 0), (3, 99, 99)
    elif ((isinstance(left, cst.Subscript) and dotted(left.value) in ("sys.version_info", "version_info")
           and len(left.slice) == 1 and isinstance(left.slice[0].slice, cst.Index)
           and isinstance(left.slice[0].slice.value, cst.Integer)
           and left.slice[0].slice.value.value == "0")
          or dotted(left) in ("sys.version_info.major", "version_info.major")):
        if not isinstance(right, cst.Integer):
            return None
        bound, lowest, highest = int(right.value), 3, 3
    else:
        return None
    if compare in (operator.eq, operator.ne) and isinstance(bound, tuple) and bound[:1] == (3,):
        return None  # `== (3, 5)`: one minor version
    first, last = compare(lowest, bound), compare(highest, bound)
    return first if first == last else None


def _pid_compared(test: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The state an ``if`` compares with ``os.getpid()``: a fork check."""
    while isinstance(test, cst.UnaryOperation):
        test = test.expression
    if isinstance(test, cst.BooleanOperation):
        return _pid_compared(test.left) or _pid_compared(test.right)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    sides = (test.left, test.comparisons[0].comparator)
    if not any(isinstance(s, cst.Call) and dotted(s.func) in ("os.getpid", "getpid")
               for s in sides):
        return None
    return next((s for s in sides if isinstance(s, (cst.Name, cst.Attribute))), None)


def _rank(m: Mutability) -> int:
    return {Mutability.IMMUTABLE: 0, Mutability.UNKNOWN: 1, Mutability.MUTABLE: 2,
            Mutability.THREADSAFE: 3, Mutability.LOCK: 4}[m]


def _decorator_target(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.func if isinstance(node, cst.Call) else node


def _bound_below(frames: list[Frame], method: Frame) -> set[str]:
    """Names rebound by functions nested inside ``method`` (rare for self)."""
    names: set[str] = set()
    for frame in frames[frames.index(method) + 1:]:
        names |= frame.params
    return names




# A class derived from a built-in container: its own items are state.
_CONTAINER_BASES = {"builtins.dict": "dict", "builtins.list": "list", "builtins.set": "set",
                    "dict": "dict", "list": "list", "set": "set",
                    "collections.OrderedDict": "OrderedDict",
                    "collections.defaultdict": "defaultdict", "collections.deque": "deque"}


# Container classes often re-exported by a package's compatibility module,
# recognised by their own name wherever they are imported from.
_REEXPORTED = {name.rsplit(".", 1)[-1]: kind for name, kind in MUTABLE_TYPES.items()
               if not name.startswith("builtins.") and name != "array.array"}


def _lock_decorators(module: cst.Module) -> frozenset[str]:
    """The module's own decorators that run the function they wrap holding
    a lock of the object: `def _atomic(fn):` whose inner `def inner(self,
    ...)` calls `fn(...)` inside `with self._lock:` (streamlink's cache).
    Methods they decorate hold that lock, as under `@synchronized`."""
    found = set()
    for outer in module.body:
        if not (isinstance(outer, cst.FunctionDef) and outer.params.params
                and isinstance(outer.body, cst.IndentedBlock)):
            continue
        wrapped = outer.params.params[0].name.value
        for inner in outer.body.body:
            if not (isinstance(inner, cst.FunctionDef) and inner.params.params
                    and isinstance(inner.body, cst.IndentedBlock)):
                continue
            owner = inner.params.params[0].name.value
            for statement in inner.body.body:
                if isinstance(statement, cst.With) and any(
                        isinstance(item.item, cst.Attribute)
                        and isinstance(item.item.value, cst.Name)
                        and item.item.value.value == owner
                        and _LOCKISH.search(item.item.attr.value) for item in statement.items) \
                        and any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name)
                                and n.func.value == wrapped for n in walk_own(statement.body)):
                    found.add(outer.name.value)
    return frozenset(found)


def build_model(path: str, module: cst.Module, sync_decorators: Sequence[str] = (),
                package: Optional[str] = None, releases: bool = True) -> ModuleModel:
    """``package`` (the module's package) resolves relative imports;
    ``releases``: False when the source never says "release"."""
    return ModelBuilder(path, module, sync_decorators, package, releases).build()
