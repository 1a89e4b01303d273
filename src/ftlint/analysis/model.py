"""The per-module analysis model that every rule reads.

Built in one pass by :mod:`ftlint.analysis.builder`. It holds CST nodes only
as handles for reporting; rules never walk the tree themselves.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import libcst as cst

from ftlint.analysis.names import dotted
from ftlint.analysis.walk import children, walk_code, walk_own


class Mutability(enum.Enum):
    MUTABLE = "mutable"
    IMMUTABLE = "immutable"
    UNKNOWN = "unknown"
    LOCK = "lock"
    THREADSAFE = "threadsafe"  # threading.local, ContextVar, queue.Queue, ...


# Where shared state lives. A Ref is a plain tuple so it hashes and pickles:
#   ("global", name)              module-level name
#   ("class", Class, attr)        class-level attribute (shared by instances)
#   ("instance", Class, attr)     attribute of an instance, through self
#   ("default", func, param)      mutable default argument value
#   ("funcattr", func, attr)      attribute stored on a function object
#   ("attr", dotted, attr)        attribute of some other shared object
Ref = tuple


@dataclass
class Binding:
    ref: Ref
    mutability: Mutability
    kind: str  # "list", "dict", "lock", "function", "class", "constant", ...
    node: cst.CSTNode  # the value (or def) for reporting and fixes
    statement: Optional[cst.CSTNode] = None
    import_time: bool = True
    # The values of the other import-time bindings of the same module or
    # class name (`X = [...]` in both branches of an `if`).
    others: tuple = ()


# The attribute name that stands for a container subclass's own items
# (`for key in self` in a `dict` subclass): ("instance", Class, ITEMS).
ITEMS = "[items]"
# The `__dict__` of the objects a descriptor's `__get__(self, obj, ...)` is
# called for (a cached-property look-alike): ("instance", Descriptor, OWNER_DICT).
OWNER_DICT = "[owner __dict__]"


def is_private_name(name: str) -> bool:
    """`_helper` and name-mangled `__helper`, but not `__init__`."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass
class Function:
    qualname: str
    name: str
    node: cst.FunctionDef
    class_name: Optional[str]  # set for methods defined directly in a class
    kind: str  # "function", "method", "classmethod", "staticmethod"
    self_name: Optional[str]  # name of the first parameter of a method
    decorators: tuple[str, ...]
    parent: Optional["Function"] = None
    is_generator: bool = False
    import_time_only: bool = False  # set for private helpers used only at import
    called_under_lock: bool = False  # a private helper every caller calls locked
    constructor_helper: bool = False  # a private helper called only from __init__
    # A public function every call of which in this module holds a lock (or
    # runs in a constructor): only callers elsewhere could run it unlocked.
    locked_callers: bool = False
    # Set-up code of a "configure, then freeze" class (see analysis.setup):
    # why, and the attribute its guard checks (not itself set-up state).
    setup: Optional[str] = None
    setup_attr: Optional[str] = None
    # Names the function binds itself (assignments, `with ... as`, loops):
    # its locals, as the walk saw them.
    local_names: frozenset[str] = frozenset()
    # Locals bound to an attribute (`lock = self._lock`): other names for
    # shared objects.
    alias_names: frozenset[str] = frozenset()

    @property
    def is_private(self) -> bool:
        return any(is_private_name(part) for part in self.qualname.split("."))

    @property
    def is_property(self) -> bool:
        return any(d.rpartition(".")[2] == "property" for d in self.decorators)

    @property
    def outermost(self) -> "Function":
        """The module-level function or method this one is nested in (itself
        if it is not nested)."""
        function = self
        while function.parent is not None:
            function = function.parent
        return function

    @property
    def is_public(self) -> bool:
        return not self.is_private and self.parent is None

    @property
    def in_constructor(self) -> bool:
        func: Optional[Function] = self
        while func is not None:
            if func.constructor_helper:
                return True
            if func.class_name and func.name in ("__init__", "__new__", "__post_init__",
                                                 "__init_subclass__", "__set_name__"):
                return True
            func = func.parent
        return False

    @property
    def in_setup(self) -> Optional["Function"]:
        """The set-up method (or helper) this code belongs to, if any."""
        func: Optional[Function] = self
        while func is not None:
            if func.setup is not None:
                return func
            func = func.parent
        return None


@dataclass
class Access:
    """One run-time (or import-time) read or write of shared state."""

    ref: Ref
    op: str  # "append", "setitem", "delitem", "setattr", "rebind", "augassign", "iter", ...
    write: bool
    atomic: bool  # for writes: a single built-in operation
    node: cst.CSTNode  # what a finding points at
    statement: cst.CSTNode  # the enclosing statement
    function: Optional[Function]  # None at module top level or in a class body
    locks: tuple[str, ...]  # lock keys held here
    # For rebinds: what the assigned value is, as (Mutability, kind).
    assigned: Optional[tuple] = None

    @property
    def import_time(self) -> bool:
        return self.function is None or self.function.import_time_only


@dataclass
class Compound:
    """Several accesses that only work if nothing runs in between."""

    kind: str  # "rmw", "check-then-act", "check-then-read", "lazy-init", "check-then-set"
    ref: Ref
    node: cst.CSTNode  # the statement or `if` to report
    write: Optional[Access]
    function: Optional[Function]
    locks: tuple[str, ...]  # locks held over the whole unit (at the check)
    detail: str = ""  # e.g. "try/except KeyError", "len() eviction"


@dataclass
class Call:
    caller: Optional[Function]
    callee: str  # dotted text as written: "helper", "self._flush", "pool.submit"
    qualified: Optional[str]  # import-resolved name, when known
    node: cst.Call
    locks: tuple[str, ...]


@dataclass
class LockUse:
    """A ``with`` item or acquire() whose lock is created right there."""

    node: cst.CSTNode
    function: Optional[Function]
    constructor: str


@dataclass
class EntryPoint:
    """Code handed to another thread: ``Thread(target=f)``, ``pool.submit(f)``..."""

    target: str  # dotted callee as written, with self.x resolved to Class.x
    qualified: Optional[str]  # import-resolved name, when the target is imported
    kind: str  # "Thread(target=)", "executor.submit", "Thread.run", ...
    node: cst.CSTNode
    function: Optional[Function]
    # Starts exactly one thread: `Thread(target=self.run)` outside any loop
    # or comprehension (state only that thread writes is its own).
    single: bool = False


@dataclass
class IteratorHandoff:
    """A local iterator passed to code that runs on another thread."""

    name: str
    value: cst.BaseExpression  # what the local was bound to
    node: cst.Call  # the Thread(...) / submit(...) call
    function: Optional[Function]
    in_loop: bool


@dataclass
class GlobalCall:
    """A call into process-wide or GIL-reliant machinery (os.chdir, ...)."""

    name: str  # qualified: "os.chdir", "sys.setswitchinterval", ...
    node: cst.Call
    function: Optional[Function]
    locks: tuple[str, ...]
    in_test: bool = False  # used in a comparison or an if/while test


def returned_functions(function: "Function") -> frozenset[str]:
    """Names the function returns as they are (``return decorate``), from
    its own statements, not those of the functions and classes it defines."""
    names = set()
    stack: list[cst.CSTNode] = [function.node.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            if isinstance(node.value, cst.Name):
                names.add(node.value.value)
        elif not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            stack.extend(children(node))
    return frozenset(names)


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"``, alone or as one operand of ``and``
    (``sys.platform != "win32" and __name__ == "__main__"``)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return is_main_guard(test.left) or is_main_guard(test.right)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = (test.left, test.comparisons[0].comparator)
    names = {s.value for s in sides if isinstance(s, cst.Name)}
    strings = {s.evaluated_value for s in sides if isinstance(s, cst.SimpleString)}
    return (names == {"__name__"} and strings == {"__main__"}
            and isinstance(test.comparisons[0].operator, cst.Equal))


def _is_type_checking(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "TYPE_CHECKING"
    return (isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
            and isinstance(test.value, cst.Name))


_SAYS_THREAD_SAFE = re.compile(
    r"\bthread[- ]?safe\b|\bsafe to (?:share|use) (?:between|across|from) (?:several |multiple )?threads\b",
    re.IGNORECASE)
# One declaration that code is not thread-safe, for the sharing signs here
# and the summary's not-thread-safe classes. Markup around the words counts
# too ("is **not** thread-safe", "*not* `threadsafe`"), as do contractions
# ("methods aren't thread-safe").
NOT_THREAD_SAFE = re.compile(
    r"(?:\bnot|\Bn['\u2019]t)[*_`]*\s+(?:[*_`]*\w+[*_`]*\s+){0,3}[*_`]*thread[- ]?safe\b"
    r"|\bthread[- ]?unsafe\b|\bnon[- ]?thread[- ]?safe\b|\bsingle[- ]threaded\b"
    r"|\bnot\s+safe\s+to\s+(?:pass|share|use|access)\b[^.]{0,80}?\bthreads\b",
    re.IGNORECASE)


def _before(statements, target: int) -> set[int]:
    """The ids of the code in ``statements`` that runs before the node
    ``target`` on the way to it: earlier statements of its block and of
    the blocks around it (not the other branch of an `if`, nor handlers)."""
    before: set[int] = set()
    for statement in statements:
        own = {id(n) for n in walk_own(statement)}
        if target not in own:
            before |= own
            continue
        if isinstance(statement, (cst.If, cst.Try, cst.With)):
            for name in ("body", "orelse"):
                suite = getattr(statement, name, None)
                if isinstance(suite, cst.Else):
                    suite = suite.body
                inner = getattr(suite, "body", None) if isinstance(suite, cst.BaseSuite) else None
                if inner is not None and any(target in {id(n) for n in walk_own(s)} for s in inner):
                    return before | _before(inner, target)
        return before
    return before


# A sentence that asks it of something else: "Connection is expected to
# implement a (thread safe) write function", "callbacks must be thread-safe".
_REQUIRES = re.compile(r"\b(?:expect|must|should|ought|requir|need|assum|has to|have to)\w*",
                       re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n")


def says_thread_safe(docstring: str) -> bool:
    """Does the docstring say that its own class is thread-safe? Not when it
    says it is not, and not when the words only ask a collaborator to be."""
    if NOT_THREAD_SAFE.search(docstring):
        return False
    for sentence in _SENTENCE.split(docstring):
        match = _SAYS_THREAD_SAFE.search(sentence)
        if match and not _REQUIRES.search(sentence, 0, match.start()):
            return True
    return False


_LOCKISH = re.compile(
    r"lock|mutex|(^|_)mu$|cond|(^|_)sem(aphore)?$|(^|_)cv$|synchron", re.IGNORECASE
)


# Bases of the classes whose methods an asyncio event loop calls back.
_LOOP_BASES = frozenset({
    "asyncio.Protocol", "asyncio.BaseProtocol", "asyncio.BufferedProtocol",
    "asyncio.DatagramProtocol", "asyncio.SubprocessProtocol",
    "asyncio.protocols.Protocol", "asyncio.protocols.BaseProtocol",
    "asyncio.protocols.BufferedProtocol", "asyncio.protocols.DatagramProtocol",
})

# Classes whose subclasses' `run()` runs on a thread of its own.
THREAD_BASES = frozenset({"threading.Thread"})
# Callback classes a parser drives: the parser calls one object's methods
# one event at a time, in document order, on the thread that runs the parse.
PARSER_HANDLER_BASES = frozenset({
    "xml.sax.ContentHandler", "xml.sax.handler.ContentHandler",
    "xml.sax.saxutils.XMLGenerator", "xml.sax.saxutils.XMLFilterBase",
    "html.parser.HTMLParser",
})


def base_where(cls: str, model: "ModuleModel", test, depth: int = 0) -> Optional[str]:
    """The first base of ``cls``, through the module's own classes, that
    passes ``test``."""
    for base in model.class_bases.get(cls, ()):
        if test(base):
            return base
        if depth < 10 and base in model.class_bases:
            found = base_where(base, model, test, depth + 1)
            if found is not None:
                return found
    return None


# Built-ins that only look at their argument, in one step.
_READS_ONLY = frozenset({"len", "bool", "id", "isinstance", "repr", "str", "hash", "print",
                         "type", "getattr", "hasattr", "callable"})


@dataclass
class ModuleModel:
    path: str
    module: cst.Module
    bindings: dict[Ref, Binding] = field(default_factory=dict)
    functions: list[Function] = field(default_factory=list)
    accesses: list[Access] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    # `if not hasattr(cls, "_x"): cls._make_x()`: a method of the object
    # called under an open check, as (call, checked attribute names, the
    # check's node, the locks at the check).
    helper_checks: list[tuple] = field(default_factory=list)
    # Branches no Python 3 runs (`if sys.version_info < (3,):`, the `else:`
    # of `if sys.version_info >= (2, 5):`): nothing in them is reported.
    dead_branches: list[cst.CSTNode] = field(default_factory=list)
    lock_uses: list[LockUse] = field(default_factory=list)
    # Every `self.name` in a method, as a Call whose callee is "self.name":
    # the uses of a property, which runs on each of them.
    self_attributes: list[Call] = field(default_factory=list)
    # Instance attributes assigned in a constructor: (Class, attr).
    constructor_attrs: set[tuple[str, str]] = field(default_factory=set)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    class_bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    class_docstrings: dict[str, str] = field(default_factory=dict)
    entry_points: list[EntryPoint] = field(default_factory=list)
    global_calls: list[GlobalCall] = field(default_factory=list)
    iterator_handoffs: list[IteratorHandoff] = field(default_factory=list)
    docstring: Optional[str] = None
    # Local name -> the dotted name it imports (`from pkg import mod as m`).
    import_aliases: dict[str, str] = field(default_factory=dict)
    # Qualified names that `import a.b` statements bind: certainly modules
    # (a name from `from a import b` may be any object).
    imported_modules: set[str] = field(default_factory=set)

    # -- queries rules use -------------------------------------------------
    def binding(self, ref: Ref) -> Optional[Binding]:
        return self.bindings.get(ref)

    def subclasses(self, cls: str, direct: bool = False) -> set[str]:
        """The classes of this module derived from ``cls`` (only those that
        name it as a base, with ``direct``)."""
        found: set[str] = set()
        wanted = {cls}
        while wanted:
            new = {name for name, bases in self.class_bases.items()
                   if name not in found and any(b.rsplit(".", 1)[-1] in wanted for b in bases)}
            found |= new
            wanted = set() if direct else new
        return found

    @functools.cached_property
    def thread_local_classes(self) -> frozenset[str]:
        """Classes of this module derived from ``threading.local``: each
        thread sees its own attributes."""
        direct = {name for name, bases in self.class_bases.items()
                  if any(b in ("threading.local", "local", "_threading_local.local") for b in bases)}
        found = set(direct)
        for name in direct:
            found |= self.subclasses(name)
        return frozenset(found)

    @functools.cached_property
    def thread_local_properties(self) -> dict[str, frozenset[str]]:
        """Class -> its properties every `return` of which gives an attribute
        of a thread-local the object holds (`return self._locals.buffer`,
        with `self._locals = threading.local()` or an instance of a
        subclass, perhaps after filling it lazily): `self.buffer` is then
        each thread's own, though it reads like instance state. A setter
        does not change that."""
        found: dict[str, set[str]] = {}
        for function in self.functions:
            cls = function.class_name
            if cls is None or function.parent is not None or not function.is_property:
                continue
            returned = [n.value for n in walk_own(function.node.body) if isinstance(n, cst.Return)]
            if returned and all(
                    isinstance(value, cst.Attribute) and isinstance(value.value, cst.Attribute)
                    and isinstance(value.value.value, cst.Name)
                    and value.value.value.value == function.self_name
                    and self._thread_local_value(("instance", cls, value.value.attr.value))
                    for value in returned):
                found.setdefault(cls, set()).add(function.name)
        return {cls: frozenset(names) for cls, names in found.items()}

    def _thread_local_value(self, ref: Ref) -> bool:
        """``ref`` is bound to a new ``threading.local`` (or subclass) object."""
        binding = self.bindings.get(ref)
        if binding is None:
            return False
        if binding.mutability is Mutability.THREADSAFE and binding.kind == "local":
            return True
        value = binding.node
        return (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                and value.func.value in self.thread_local_classes)

    def per_thread(self, ref: Ref) -> bool:
        """State each thread has its own copy of: attributes of a
        ``threading.local`` (or of a subclass's instance), and properties
        that return one of its attributes."""
        if ref[0] == "instance":
            return (ref[1] in self.thread_local_classes
                    or ref[2] in self.thread_local_properties.get(ref[1], ()))
        if ref[0] == "attr":
            return self._thread_local_value(("global", ref[1]))
        return False

    # The indexes below are built on first use, after the model is complete;
    # a model belongs to one file and one thread.
    @functools.cached_property
    def lock_bindings(self) -> dict[str, Binding]:
        return {".".join(ref[1:]): b for ref, b in self.bindings.items()
                if b.mutability is Mutability.LOCK}

    @functools.cached_property
    def lock_attributes(self) -> frozenset[str]:
        """Names of attributes that some class of the module binds to a lock
        (`self._not_full = threading.Condition(self._mutex)`)."""
        return frozenset(ref[-1] for ref, b in self.bindings.items()
                         if b.mutability is Mutability.LOCK and ref[0] in ("instance", "class"))

    @functools.cached_property
    def by_ref(self) -> dict[Ref, list[Access]]:
        index: dict[Ref, list[Access]] = {}
        for a in self.accesses:
            index.setdefault(a.ref, []).append(a)
        return index

    @functools.cached_property
    def by_node(self) -> dict[int, list[tuple[int, Access]]]:
        """id(node) -> (position in ``accesses``, access), for each access."""
        index: dict[int, list[tuple[int, Access]]] = {}
        for position, a in enumerate(self.accesses):
            index.setdefault(id(a.node), []).append((position, a))
        return index

    @functools.cached_property
    def compound_index(self) -> dict[int, Compound]:
        index: dict[int, Compound] = {}
        for c in self.compounds:
            if c.write is not None:
                index.setdefault(id(c.write), c)
        return index

    @functools.cached_property
    def lazy_init_nodes(self) -> dict[Ref, set[int]]:
        """ids of the `if` nodes that lazily initialise each ref."""
        nodes: dict[Ref, set[int]] = {}
        for c in self.compounds:
            if c.kind == "lazy-init":
                nodes.setdefault(c.ref, set()).add(id(c.node))
        return nodes

    @functools.cached_property
    def sharing_signs(self) -> dict[str, list[tuple[str, str]]]:
        """Classes whose instances are meant to be shared -> each sign of it,
        as (kind, words): the class uses a lock ("lock"), the module holds an
        instance of it ("instance"), one of its methods is handed to a thread
        ("thread"), or its docstring says it is thread-safe ("docstring")."""
        signs: dict[str, list[tuple[str, str]]] = {}

        def add(cls: str, kind: str, words: str) -> None:
            found = signs.setdefault(cls, [])
            if all(k != kind for k, _ in found):
                found.append((kind, words))

        never_shared = self.type_checking_nodes | self.main_block_nodes
        for ref, binding in self.bindings.items():
            # A class-level lock often guards only a class-wide registry (of
            # progress bars, say), not the instance: it counts below, when it
            # guards instance state.
            if binding.mutability is Mutability.LOCK and ref[0] == "instance":
                add(ref[1], "lock", f"`{ref[1]}` owns a lock")
            value = binding.node
            if id(value) in never_shared:
                continue  # `if TYPE_CHECKING:` never runs; a `__main__` block runs alone
            if (ref[0] == "global" and isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Name) and value.func.value in self.classes):
                add(value.func.value, "instance", f"the module holds an instance of "
                                                  f"`{value.func.value}` (`{ref[1]}`)")
        for access in self.accesses:
            function = access.function
            # A lock made in the method for one call (`lock = make_lock()`,
            # to sync with its own callback) says nothing about the object.
            if (function is not None and function.class_name and access.ref[0] == "instance"
                    and self.guarded(access.locks)
                    and not local_locks_only(self, access.locks, function)):
                add(function.class_name, "lock", f"`{function.class_name}` locks some of its state")
        for entry in self.entry_points:
            owner = entry.target.rpartition(".")[0]
            if owner in self.classes:
                add(owner, "thread", f"`{entry.target}` runs on another thread ({entry.kind})")
        for cls in self.thread_classes:
            add(cls, "thread", f"`{cls}` is a `Thread` subclass: its `run()` runs on a thread of "
                               "its own while other threads call its methods")
        for cls, docstring in self.class_docstrings.items():
            if says_thread_safe(docstring):
                add(cls, "docstring", f"the docstring of `{cls}` says it is thread-safe")
        return signs

    @functools.cached_property
    def thread_classes(self) -> frozenset[str]:
        """Classes of this module that subclass `threading.Thread` and define
        `run()`: each object's `run()` runs on a thread of its own."""
        runs = {f.qualname.rpartition(".")[0] for f in self.functions
                if f.name == "run" and f.parent is None and f.class_name}
        return frozenset(cls for cls in self.class_bases if cls in runs
                         and base_where(cls, self, THREAD_BASES.__contains__) is not None)

    @functools.cached_property
    def name_uses(self) -> dict[str, int]:
        """Name -> how often the module's code uses it, attribute names
        (`x.name`) included and the names `def` statements bind left out."""
        uses: dict[str, int] = {}
        defined = set()
        for node in walk_code(self.module):  # a `def` comes before its name
            if isinstance(node, cst.FunctionDef):
                defined.add(id(node.name))
            elif isinstance(node, cst.Name) and id(node) not in defined:
                uses[node.value] = uses.get(node.value, 0) + 1
        return uses

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """The import-resolved dotted name of ``node`` (`itertools.count` for
        `count` after `from itertools import count`), or None when its first
        part is not an imported name."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        base = self.import_aliases.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    @functools.cached_property
    def displayed_attributes(self) -> dict[str, int]:
        """Attribute name -> how often the methods that only render text for
        people read it: `__repr__` and the like, and methods whose every
        `return` gives a string literal or an f-string (a `_log_stats()`
        line). What they read decides nothing."""
        shown: dict[str, int] = {}
        for function in self.functions:
            if function.parent is None and _displays(function):
                for node in walk_own(function.node):
                    if isinstance(node, cst.Attribute):
                        shown[node.attr.value] = shown.get(node.attr.value, 0) + 1
        return shown

    @functools.cached_property
    def functions_by_name(self) -> dict[str, list["Function"]]:
        """The module's functions and methods by their own name."""
        found: dict[str, list[Function]] = {}
        for function in self.functions:
            found.setdefault(function.name, []).append(function)
        return found

    @functools.cached_property
    def calls_by_caller(self) -> dict[int, list["Call"]]:
        """id(function node) -> the calls made in that function."""
        found: dict[int, list[Call]] = {}
        for call in self.calls:
            if call.caller is not None:
                found.setdefault(id(call.caller.node), []).append(call)
        return found

    @functools.cached_property
    def sharing_evidence(self) -> dict[str, str]:
        """Classes whose instances are meant to be shared -> the first sign
        of it, in words (see `sharing_signs`)."""
        return {cls: found[0][1] for cls, found in self.sharing_signs.items()}

    def attribute_sharing(self, cls: str, attribute: str, writes: bool = False) -> Optional[str]:
        """The sign, in words, that `cls.attribute` is used by several
        threads, or None.

        As in RacerD, a class's own locks and threads speak for the state
        they touch: a class that locks some of its state, or hands one of
        its methods to a thread, says which of its objects' state several
        threads use. So a lock counts for a private attribute only if some
        method touches it under a lock, and a thread, for any attribute,
        only if the method it runs (or a method of the class that one calls)
        touches it: the rest of the object stays with the thread that made
        it (a worker's main loop hands requests to a pool and keeps its own
        counters of connections). A lock the class never takes says only
        that its objects are shared. A public attribute is API other threads
        may read (`bar.n`, `queue.total`), so a lock counts for it anyway. A
        module-level instance or a docstring that says "thread-safe" counts
        for every attribute. With ``writes`` (a lost update, which needs a
        second writer), a thread counts only for attributes its methods
        write, not for ones they read or hand on."""
        for kind, words in self.sharing_signs.get(cls, ()):
            if kind in ("instance", "docstring"):
                return words
            if kind == "thread":
                used = self.thread_written if writes else self.thread_touched
                if attribute in used.get(cls, ()):
                    return words
                continue
            if not is_private_name(attribute):
                return words
            if kind == "lock" and (("instance", cls, attribute) in self.lock_touched
                                   or cls not in self.locking_classes):
                return words
        return None

    @functools.cached_property
    def dispatched(self) -> dict[str, frozenset[str]]:
        """Class -> its methods that only its message dispatcher runs.

        A protocol object keeps a dispatch table, `{MSG_A: self._parse_a,
        MSG_B: self._parse_b, ...}`, and the thread that reads the messages
        looks each one up and runs its handler: one message at a time. Its
        handlers, and private helpers that only they call, run on that thread
        alone."""
        found: dict[str, set[str]] = {}
        methods: dict[str, dict[str, Function]] = {}
        for function in self.functions:
            if function.class_name and function.parent is None:
                methods.setdefault(function.class_name, {})[function.name] = function
        for cls, table in methods.items():
            node = self.classes.get(cls)
            if node is None:
                continue
            selves = {f.self_name for f in table.values() if f.self_name}
            for child in walk_code(node):  # a table may be built in a method
                if not isinstance(child, cst.Dict) or len(child.elements) < 3:
                    continue
                names = []
                for element in child.elements:
                    value = getattr(element, "value", None)
                    if (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name)
                            and value.value.value in selves):
                        names.append(value.attr.value)
                    elif isinstance(value, cst.Name):
                        names.append(value.value)
                    else:
                        break
                else:
                    if all(n in table for n in names):
                        found.setdefault(cls, set()).update(names)
        if not found:
            return {}
        # Who calls each name: a method of which class (or code elsewhere,
        # which may run it on any thread).
        callers: dict[str, set[tuple]] = {}
        for call in self.calls:
            outer = call.caller.outermost if call.caller is not None else None
            callers.setdefault(call.callee.rpartition(".")[2], set()).add(
                (outer.class_name, outer.name) if outer is not None else (None, None))
        for cls, handlers in found.items():
            # Private helpers that only handlers (or their helpers) call.
            changed = True
            while changed:
                changed = False
                for name in methods[cls]:
                    if (name not in handlers and is_private_name(name) and callers.get(name)
                            and all(c == cls and n in handlers for c, n in callers[name])):
                        handlers.add(name)
                        changed = True
        return {cls: frozenset(names) for cls, names in found.items()}

    @functools.cached_property
    def parser_driven(self) -> dict[str, str]:
        """Classes whose objects a parser drives (a SAX content handler, an
        `HTMLParser`) -> why, in words, unless the module shares one (holds
        an instance, or the docstring says it is thread-safe): the parser
        feeds one document's events to it in order, on one thread, so its
        state has one writer at a time whatever locks it takes for other
        objects."""
        found = {}
        for cls in self.class_bases:
            base = base_where(cls, self, PARSER_HANDLER_BASES.__contains__)
            if base is not None and not any(kind in ("instance", "docstring")
                                            for kind, _ in self.sharing_signs.get(cls, ())):
                found[cls] = (f"`{cls}` is a `{base.rpartition('.')[2]}` a parser drives: it "
                              "delivers one document's events to it in order, on the thread "
                              "that runs the parse")
        return found

    def dispatch_confined(self, cls: str, attribute: str) -> Optional[str]:
        """The dispatch table's words when every run-time write of
        `cls.attribute` is in a method only the dispatcher runs."""
        handlers = self.dispatched.get(cls)
        if not handlers:
            return None
        writes = [a for a in self.writes(("instance", cls, attribute))
                  if a.function is not None and not a.function.in_constructor]
        if writes and all(a.function.outermost.name in handlers for a in writes):
            return (f"`{cls}` dispatches messages to handlers from a table, and only those "
                    f"handlers write `{attribute}`: the thread reading the messages runs them "
                    "one at a time")
        return None

    @functools.cached_property
    def before_own_thread(self) -> dict[int, str]:
        """Nodes that run before a method starts the thread of its own object
        (``self._reader = Thread(target=self._read_loop)``, once, outside
        loops) -> the thread's target. What the method did to its object
        until then is set-up the thread sees complete: starting a thread
        orders everything before it (a serial port's `open()` fills its
        option table, then starts its reader)."""
        found: dict[int, str] = {}
        for entry in self.entry_points:
            function = entry.function
            if not entry.single or function is None:
                continue
            method = function.outermost
            if method is not function or method.class_name is None \
                    or not entry.target.startswith(f"{method.class_name}."):
                continue
            for node_id in _before(getattr(method.node.body, "body", ()), id(entry.node)):
                found.setdefault(node_id, entry.target)
        return found

    @functools.cached_property
    def locking_classes(self) -> frozenset[str]:
        """Classes with some instance state touched under a lock."""
        return frozenset(ref[1] for ref in self.lock_touched if ref[0] == "instance")

    @functools.cached_property
    def thread_touched(self) -> dict[str, frozenset[str]]:
        return self._thread_use[0]

    @functools.cached_property
    def thread_written(self) -> dict[str, frozenset[str]]:
        """Class -> the instance attributes that the methods it hands to
        threads write (a store or a change in place), as in
        :attr:`thread_touched` but without reads and without values handed
        to functions: a lost update of an attribute needs a second writer."""
        return self._thread_use[1]

    @functools.cached_property
    def _thread_use(self) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
        """Class -> the instance attributes that the methods it hands to
        threads touch, directly or through calls to other methods of the
        class (`self.helper()`), handing it to a function included
        (`leak(self.buckets)`, which may change or loop over it). A plain
        read (`len(self.conns) >= limit`) is no touch: it races with no
        update but a lost one, and a lost update needs two writers."""
        methods: dict[tuple[str, str], Function] = {
            (f.class_name, f.name): f for f in self.functions if f.class_name}

        def method_of(function: Optional[Function]) -> Optional[Function]:
            while function is not None and function.class_name is None:
                function = function.parent  # a nested function runs as its method does
            return function

        callees: dict[int, set[tuple[str, str]]] = {}
        for call in self.calls:
            caller = method_of(call.caller)
            if caller is None or not call.callee.startswith(f"{caller.self_name}."):
                continue
            callees.setdefault(id(caller), set()).add((caller.class_name, call.callee.split(".")[1]))
        touched_by: dict[int, set[str]] = {}
        written_by: dict[int, set[str]] = {}
        for access in self.accesses:
            function = method_of(access.function)
            if function is not None and access.ref[0] == "instance" and len(access.ref) > 2:
                touched_by.setdefault(id(function), set()).add(access.ref[2])
                if access.write:
                    written_by.setdefault(id(function), set()).add(access.ref[2])
        result: dict[str, set[str]] = {}
        written: dict[str, set[str]] = {}
        starts = [entry.target.rpartition(".") for entry in self.entry_points]
        starts += [(cls, ".", "run") for cls in self.thread_classes]
        for owner, _, name in starts:
            start = methods.get((owner, name))
            if start is None:
                continue
            seen: set[int] = set()
            stack = [start]
            while stack:
                function = stack.pop()
                if id(function) in seen:
                    continue
                seen.add(id(function))
                names = result.setdefault(owner, set())
                names.update(touched_by.get(id(function), ()))
                written.setdefault(owner, set()).update(written_by.get(id(function), ()))
                names.update(arg.value.attr.value for n in walk_code(function.node)
                             if isinstance(n, cst.Call)
                             and not (isinstance(n.func, cst.Name) and n.func.value in _READS_ONLY)
                             for arg in n.args
                             if isinstance(arg.value, cst.Attribute)
                             and isinstance(arg.value.value, cst.Name)
                             and arg.value.value.value == function.self_name)
                stack.extend(methods[key] for key in callees.get(id(function), ())
                             if key in methods)
        return ({cls: frozenset(names) for cls, names in result.items()},
                {cls: frozenset(names) for cls, names in written.items()})

    @functools.cached_property
    def lock_touched(self) -> frozenset[Ref]:
        """Refs of class and instance state that some method reads or writes
        while holding a lock (outside construction)."""
        touched = set()
        for access in self.accesses:
            function = access.function
            if (access.ref[0] in ("instance", "class") and function is not None
                    and not function.in_constructor and self.access_guarded(access)
                    and not local_locks_only(self, access.locks, function)):
                touched.add(access.ref)
        return frozenset(touched)

    @functools.cached_property
    def locks_internally(self) -> frozenset[str]:
        """Classes of this module that lock inside: they own a lock, and every
        write of their own state after construction holds one. Storing into
        one (``self.pools[key] = pool``) is that object's business."""
        owners = {ref[1] for ref, b in self.bindings.items()
                  if b.mutability is Mutability.LOCK and ref[0] in ("class", "instance")}
        guarded: set[str] = set()
        unguarded: set[str] = set()
        for access in self.accesses:
            function = access.function
            ref = access.ref
            if (not access.write or function is None or ref[0] not in ("class", "instance")
                    or ref[1] not in owners or function.in_constructor):
                continue
            (guarded if self.access_guarded(access) else unguarded).add(ref[1])
        return frozenset(guarded - unguarded)

    @functools.cached_property
    def property_setters(self) -> frozenset[tuple[str, str]]:
        """(Class, name) of properties with a setter: assigning one calls it."""
        return frozenset((f.class_name, f.name) for f in self.functions
                         if f.class_name and f"{f.name}.setter" in f.decorators)

    @functools.cached_property
    def constructed(self) -> dict[int, str]:
        """id of a call node -> the class it calls, import-resolved where the
        class is imported (``pkg.mod.Class``), else as written."""
        return {id(c.node): c.qualified or c.callee for c in self.calls}

    @functools.cached_property
    def loop_functions(self) -> dict[int, str]:
        """ids of the plain (not `async`) functions only an asyncio event
        loop runs -> why: the methods of an asyncio protocol class (the loop
        calls them back, one at a time) and private functions that only
        coroutines and such code call. Handed to a thread, they are raised
        again by reachability."""
        found: dict[int, str] = {}
        loop_classes = {cls for cls in self.classes
                        if base_where(cls, self, _LOOP_BASES.__contains__) is not None}
        for f in self.functions:
            if f.node.asynchronous is None and f.parent is None and f.class_name in loop_classes:
                found[id(f)] = (f"`{f.class_name}` is an asyncio protocol, whose methods the "
                                "event loop calls one at a time")

        def on_loop(caller: Optional[Function]) -> bool:
            if caller is None:
                return False
            outer = caller.outermost
            return outer.node.asynchronous is not None or id(outer) in found

        calls: dict[str, list] = {}
        for call in self.calls:
            calls.setdefault(call.callee.rsplit(".", 1)[-1], []).append(call)
        changed = True
        while changed:
            changed = False
            for f in self.functions:
                if (id(f) in found or f.node.asynchronous is not None or f.parent is not None
                        or not is_private_name(f.name)):
                    continue
                sites = calls.get(f.name, ())
                if sites and all(on_loop(c.caller) for c in sites):
                    found[id(f)] = ("only coroutines and asyncio callbacks call it, and its "
                                    "event loop runs them one at a time")
                    changed = True
        return found

    @functools.cached_property
    def dead_nodes(self) -> set[int]:
        """ids of the nodes in branches no Python 3 runs."""
        return {id(node) for branch in self.dead_branches for node in walk_code(branch)}

    @functools.cached_property
    def type_checking_nodes(self) -> set[int]:
        """ids of the nodes in module-level ``if TYPE_CHECKING:`` blocks."""
        return self._nodes_in_blocks(_is_type_checking)

    @functools.cached_property
    def main_block_nodes(self) -> set[int]:
        """ids of the nodes in module-level ``if __name__ == "__main__":``
        blocks: a script's demonstration, run once, alone, when the module is
        run rather than imported."""
        return self._nodes_in_blocks(is_main_guard)

    def _nodes_in_blocks(self, test: Callable[[cst.BaseExpression], bool]) -> set[int]:
        found: set[int] = set()
        for statement in self.module.body:
            if isinstance(statement, cst.If) and test(statement.test):
                stack: list[cst.CSTNode] = [statement.body]
                while stack:
                    node = stack.pop()
                    found.add(id(node))
                    stack.extend(children(node))
        return found

    def is_lock(self, key: str) -> bool:
        if key.startswith("@"):
            return True  # a synchronizing decorator holds a lock around the body
        if key in self.lock_bindings:
            return True
        if "." in key and key.rsplit(".", 1)[-1] in self.lock_attributes:
            return True  # `parent._not_full` where `parent = self._parent`
        return bool(_LOCKISH.search(key.rsplit(".", 1)[-1]))

    def guarded(self, locks: tuple[str, ...]) -> bool:
        return any(self.is_lock(k) for k in locks)

    def split_locks(self, compound: "Compound") -> bool:
        """The check holds one lock and the act another (or none): each step
        is locked, the pair is not (`with a: if flag: return` ... `with b:
        flag = True`)."""
        write = compound.write
        checked = {k for k in compound.locks if self.is_lock(k)}
        if write is None or not checked:
            return False
        return not checked & set(write.locks)

    def unit_guarded(self, compound: "Compound") -> bool:
        """One lock held over the check and the act."""
        return self.guarded(compound.locks) and not self.split_locks(compound)

    def access_guarded(self, access: "Access") -> bool:
        if self.guarded(access.locks):
            return True
        function = access.function
        while function is not None:
            if function.called_under_lock:
                return True
            function = function.parent
        return False

    def accesses_of(self, ref: Ref) -> list[Access]:
        return self.by_ref.get(ref, [])

    def writes(self, ref: Ref) -> Iterator[Access]:
        return (a for a in self.accesses_of(ref) if a.write)

    def runtime_writes(self, ref: Ref) -> list[Access]:
        """Writes after import that no lock guards."""
        return [a for a in self.accesses_of(ref)
                if a.write and not a.import_time and not self.access_guarded(a)]

    def runtime_iterations(self, ref: Ref) -> list[Access]:
        # Asked once per finding: cached, or a module's cost is its findings squared.
        cache = self.__dict__.setdefault("_runtime_iterations", {})
        if ref not in cache:
            cache[ref] = [a for a in self.accesses_of(ref)
                          if a.op == "iter" and not a.import_time and not self.access_guarded(a)]
        return cache[ref]

    def compound_for(self, access: Access) -> Optional[Compound]:
        return self.compound_index.get(id(access))


def local_locks_only(model: "ModuleModel", locks: tuple[str, ...], function) -> bool:
    """Every lock in ``locks`` is a local variable of ``function`` (or of a
    function around it), made for the call: `lock = make_lock()`, then
    `with lock:`. Two calls make two locks, which exclude nothing between
    them; such a lock only syncs one call with its own callbacks."""
    held = [k for k in locks if model.is_lock(k)]
    if not held or function is None or any("." in k for k in held):
        return False
    scopes = []
    while function is not None:
        if any(k in function.alias_names for k in held):
            return False  # `lock = cls._lock`: the shared lock under a local name
        scopes.append(function.local_names)
        function = function.parent
    return all(any(k in names for names in scopes) for k in held)


_DISPLAY = frozenset({"__repr__", "__str__", "__format__", "__rich_repr__"})
_TEXT = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)


def _displays(function: Function) -> bool:
    if function.name in _DISPLAY:
        return True
    returns = [n for n in walk_own(function.node.body) if isinstance(n, cst.Return)]
    return bool(returns) and all(isinstance(r.value, _TEXT) for r in returns)
