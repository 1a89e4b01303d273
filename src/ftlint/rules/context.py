"""Where a finding's code runs, and what its guarded block does: facts that
lower (or keep) the confidence of several race rules alike.

* In a coroutine, a read-modify-write or check-then-act with no ``await``,
  ``async for`` or ``async with`` inside runs as one step: the event loop
  starts nothing else in between.
* A lazy initialisation whose block only builds and stores the value costs
  duplicate work at worst; one that also registers, appends, writes other
  shared state or fills the value after publishing it does real harm twice.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ftlint.analysis.checks import cached_lookup, get_call, is_none, one_in, stored_marker
from ftlint.analysis.keys import expr_key
from ftlint.analysis.model import Compound, ModuleModel, Mutability
from ftlint.analysis.names import SNAPSHOT_CALLS, dotted
from ftlint.analysis.walk import walk_own
from ftlint.diagnostics import Confidence
from ftlint.rules.base import describe

def _suspends(node: cst.CSTNode) -> bool:
    for n in walk_own(node):
        if isinstance(n, cst.Await):
            return True
        if isinstance(n, (cst.For, cst.With)) and n.asynchronous is not None:
            return True
    return False


def in_one_coroutine_step(model: ModuleModel, finding) -> bool:
    """The finding's code is in an ``async def`` and cannot yield to the
    event loop between its steps."""
    function = finding.function
    if function is None or function.node.asynchronous is None:
        return False
    unit = finding.node
    access = finding.access
    if access is not None:
        compound = model.compound_for(access)
        unit = compound.node if compound is not None else access.statement
    return not _suspends(unit)


def lower_in_coroutine(code: str, finding, model: ModuleModel) -> None:
    """FT1 and FT2 findings inside one coroutine step are at most low, and so
    are FT2 findings on the own state of an asyncio object (a class with
    coroutine methods). Process-wide state (FT3) is left alone: executor threads see it
    too. Code handed to a thread is raised again by reachability."""
    if not code.startswith(("FT1", "FT2")) or finding.confidence <= Confidence.LOW:
        return
    if in_one_coroutine_step(model, finding):
        finding.confidence = Confidence.LOW
        finding.reason = (f"{finding.reason}; lowered: it runs in a coroutine with no `await` "
                          "between its steps, and its event loop runs nothing else meanwhile")
    elif (finding.function is not None and finding.function.node.asynchronous is None
          and (why := model.loop_functions.get(id(finding.function.outermost)))):
        finding.confidence = Confidence.LOW
        finding.reason = (f"{finding.reason}; lowered: it runs on an asyncio event loop ({why}), "
                          "so no other code of the loop runs between its steps")
    elif code.startswith("FT2") and (cls := _event_loop_class(model, finding)) is not None:
        finding.confidence = Confidence.LOW
        finding.reason = (f"{finding.reason}; lowered: `{cls}` has coroutine methods, so its "
                          "objects belong to one event loop, which runs their code one task "
                          "at a time")


def _event_loop_class(model: ModuleModel, finding) -> Optional[str]:
    """The class whose own state a method changes, when that class has
    ``async def`` methods: an asyncio object, used from the one event loop it
    belongs to. Its tasks interleave only at an ``await``: an asyncio race,
    which the GIL never prevented and no thread lock fixes."""
    function, access = finding.function, finding.access
    if function is None or access is None or access.ref[0] != "instance":
        return None
    method = function
    while method is not None and method.class_name is None:
        method = method.parent
    if method is None or method.class_name != access.ref[1]:
        return None
    cls = method.class_name
    if any(key.startswith(f"{cls}.") for key in model.lock_bindings):
        return None  # a thread lock of its own: its author expects threads
    if "thread-safe" in model.sharing_evidence.get(cls, "") and not _asyncio_locked(model, cls):
        # Its docstring says threads share it; with only asyncio locks of its
        # own, "thread-safe" means safe between the tasks of its loop.
        return None
    if any(e.target.rpartition(".")[0] == cls for e in model.entry_points):
        return None  # it hands its own methods to threads
    if any(f.class_name == cls and f.parent is None and f.node.asynchronous is not None
           and not f.name.startswith("__") for f in model.functions):
        return cls
    return None


def lower_if_callers_lock(code: str, finding) -> None:
    """FT2 findings in a public function that every call in its module makes
    with a lock held drop one level: the module's own use is guarded, and only
    a caller elsewhere could run it unlocked."""
    function = finding.function
    if (not code.startswith("FT2") or finding.confidence <= Confidence.LOW or function is None):
        return
    while function.parent is not None and not function.locked_callers:
        function = function.parent
    if not function.locked_callers:
        return
    finding.confidence = (Confidence.MEDIUM if finding.confidence is Confidence.HIGH
                          else Confidence.LOW)
    use = (f"read of the property `{function.name}`" if function.is_property
           else f"call of `{function.name}()`")
    finding.reason = (f"{finding.reason}; lowered: every {use} in this module holds a "
                      "lock, so only a caller elsewhere could run it unlocked")


# Methods that end an object's life: they usually run once, from its owner.
SHUTDOWN = re.compile(r"^(close|shutdown|teardown|tear_down|stop|kill|terminate|dispose|"
                      r"cleanup|clean_up|__exit__|__aexit__|__del__)$")
# Of those, the ones that end it for good: a `cleanup()` or `clean_up()` may
# be a sweep that a monitor runs every minute, and counts only when one of
# these calls it.
CLOSING = re.compile(r"^(close|shutdown|teardown|tear_down|stop|terminate|dispose|"
                     r"__exit__|__aexit__|__del__)$")


def unread_counter(model: ModuleModel, ref) -> Optional[str]:
    """Why an attribute is a statistic, or None: a number only ever bumped
    (`self.hits += 1`) or reset to a number, and read nowhere in the module
    (`hit_count`, kept for callers to look at). A lost increment skews the
    figure, but no decision of this code depends on it."""
    if ref[0] not in ("instance", "class") or len(ref) < 3:
        return None
    attr = ref[-1]
    # Every class of the module that keeps a count of that name (a family
    # of caches each bumping `miss_count`): all of their writes must be
    # counts, and reads of any of them are reads of the name.
    writes = [w for w in model.accesses if w.write and w.ref[0] in ("instance", "class")
              and len(w.ref) >= 3 and w.ref[-1] == attr]
    if not writes or not any(w.op == "augattr" for w in writes):
        return None
    for w in writes:
        if w.op == "augattr":
            node = w.statement.body[0] if isinstance(w.statement, cst.SimpleStatementLine) else None
            if not isinstance(node, cst.AugAssign) or not isinstance(
                    node.operator, (cst.AddAssign, cst.SubtractAssign)):
                return None
        elif w.op == "setattr":
            value = getattr(w.node, "value", None)
            # A number, or the same count copied from another object
            # (`self.misses = self._fallback.misses`).
            if not (isinstance(value, (cst.Integer, cst.Float))
                    or (isinstance(value, cst.Attribute) and value.attr.value == attr)):
                return None
        else:
            return None
    # What `__repr__` or a stats line shows is for people reading it, not a
    # decision.
    shown = model.displayed_attributes.get(attr, 0)
    copies = sum(1 for w in writes if w.op == "setattr"
                 and isinstance(getattr(w.node, "value", None), cst.Attribute))
    if model.name_uses.get(attr, 0) - shown - copies > len(writes):
        return None  # read somewhere: a limit, a size, a decision
    return (f"`{attr}` is a count that nothing in this module reads (a statistic for "
            "callers, or shown by `__repr__`): a lost update skews the figure, but no "
            "decision here depends on it")


# Module-level functions named for configuring their module.
_CONFIGURES = re.compile(r"^_?(?:set_?up|reset|configure|config|init|initiali[sz]e|install|"
                         r"uninstall|tear_?down|enable|disable|set)(?:_|$)", re.IGNORECASE)


def configures_module(function) -> Optional[str]:
    """Why a module-level function is configuration code, or None: named
    for setting the module up, resetting or tearing it down
    (`setup_profiler()`, `set_pickler()`, `reset_collector()`), it runs
    while a program sets itself up, or in tests, one call at a time. Methods
    do not count: `obj.set_x()` is how objects change at run time."""
    if function is None:
        return None
    outer = function.outermost
    if outer.class_name or not _CONFIGURES.match(outer.name):
        return None
    return (f"`{outer.name}()` configures the module, which programs do while they set up, "
            "not from several threads at once")


def in_teardown(access) -> bool:
    """In `close()`, `_cleanup()`, `shutdown()`, `__exit__` and the like."""
    if access.function is None:
        return False
    name = access.function.outermost.name
    return bool(SHUTDOWN.match(name) or SHUTDOWN.match(name.lstrip("_")))


def lower_in_shutdown(code: str, finding, model: ModuleModel) -> None:
    """A close-once guard (`if self.closed: return ... self.closed = True`)
    or a check-then-act in a method that ends the object's life is at most
    low: it runs once, from the object's owner, and at worst its cleanup runs
    twice. A read-modify-write there (`self.run_time += ...`) is left alone."""
    function, access = finding.function, finding.access
    if (code not in ("FT201", "FT203", "FT204") or finding.confidence <= Confidence.LOW
            or function is None or access is None or access.ref[0] != "instance"
            or not SHUTDOWN.match(function.name)):
        return
    compound = model.compound_for(access)
    if compound is None or compound.kind == "rmw":
        return
    finding.confidence = Confidence.LOW
    finding.reason = (f"{finding.reason}; lowered: `{function.name}()` ends the object's life "
                      "and usually runs once, from its owner; at worst its cleanup runs twice")


_ASYNC_LOCKS = frozenset({"asyncio.Lock", "asyncio.Condition", "asyncio.Semaphore",
                          "asyncio.BoundedSemaphore", "anyio.Lock", "trio.Lock"})


def _asyncio_locked(model: ModuleModel, cls: str) -> bool:
    """``cls`` keeps an asyncio lock of its own (``self._lock = asyncio.Lock()``)."""
    return any(key[0] == "instance" and key[1] == cls
               and model.constructed.get(id(binding.node)) in _ASYNC_LOCKS
               for key, binding in model.bindings.items())


def lower_in_setup(code: str, finding) -> None:
    """FT2 findings on an object's own state in its set-up methods are at
    most low: a "configure, then freeze" class is configured from one thread
    before threads use it (see :mod:`ftlint.analysis.setup`). The attribute
    the set-up guard checks is left alone."""
    access = finding.access
    if (not code.startswith("FT2") or finding.confidence <= Confidence.LOW or access is None
            or access.ref[0] != "instance" or finding.function is None):
        return
    setup = finding.function.in_setup
    if setup is None or access.ref[2] == setup.setup_attr:
        return
    finding.confidence = Confidence.LOW
    finding.reason = f"{finding.reason}; lowered: set-up code ({setup.setup})"


# Calls whose repetition only repeats output: a warning or a log line twice.
_OUTPUT = re.compile(r"(^|\.)(warn|warning|info|debug|log|print|error|exception|critical|"
                     r"warn_explicit|showwarning)$")


def lazy_init_effects(model: ModuleModel, compound: Compound) -> Optional[str]:
    """What the guarded block of a lazy initialisation does besides building
    and storing its value, in words; None when it does nothing else."""
    write = compound.write
    if write is not None and write.assigned is not None and write.assigned[0] is Mutability.LOCK:
        return ("the value is a lock: two threads can each make one and hold different "
                "locks, which exclude nothing")
    block = compound.node.body if isinstance(compound.node, cst.If) else compound.node
    return block_effects(model, block, compound.ref, write, singletons=True)


def block_effects(model: ModuleModel, block: cst.CSTNode, ref=None, write=None,
                  singletons: bool = False) -> Optional[str]:
    """What ``block`` does that is harmful to do twice, in words, besides
    storing ``ref`` (by ``write``); None when it only computes."""
    by_node = model.by_node
    # The block's accesses in the model's order (looking each node up costs
    # the block's size; scanning every access of the module cost its size).
    inside = sorted((entry for n in walk_own(block) for entry in by_node.get(id(n), ())),
                    key=lambda entry: entry[0])
    for _, access in inside:
        if not access.write or access is write:
            continue
        if ref is not None and access.ref == ref:
            # Another store of the whole value (`d[k] = a` in one branch,
            # `d[k] = b` in the other) is the same fill.
            if access.op not in ("rebind", "setattr") and not (
                    write is not None and access.op == write.op == "setitem"):
                return ("it fills the value after storing it, so another thread can "
                        "use it half built")
            continue
        if access.ref[0] in ("global", "class", "instance", "attr", "funcattr", "ext"):
            return f"the block also changes {describe(access.ref)}"
    local: Optional[frozenset[str]] = None
    for node in walk_own(block):
        if singletons and isinstance(node, (cst.Assign, cst.AnnAssign)):
            if _new_instance(model, node.value) and not _stateless(model, node.value, ref):
                return ("each build makes a new instance, so callers can end up holding "
                        "different objects")
            opened = _opens(model, node.value)
            if opened is not None:
                return opened
        if (isinstance(node, cst.Expr) and isinstance(node.value, cst.Call)
                and not (write is not None and write.node in (node, node.value))):
            func = node.value.func
            name = dotted(func) or (f"….{func.attr.value}" if isinstance(func, cst.Attribute) else "")
            if local is None:
                local = _local_containers(write.function.node if write is not None
                                          and write.function is not None else None)
            if not _OUTPUT.search(name) and name.partition(".")[0] not in local:
                return f"the block also calls `{name or 'a function'}()`, which runs twice"
    return None


_NEW_CONTAINERS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)


def _local_containers(function: Optional[cst.CSTNode]) -> frozenset[str]:
    """Names that ``function`` binds only to containers it builds itself
    (`parts = []`, `seen = set()`), and to their bound methods (`append =
    parts.append`): calling them fills a list no other thread sees, which
    is building the value, not an effect."""
    if function is None:
        return frozenset()
    values: dict[str, list] = {}
    for node in walk_own(function):
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            for item in node.names:
                values.setdefault(item.name.value, []).append(None)
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)):
            targets = [node.target]
        elif isinstance(node, cst.With):
            targets = [item.asname.name for item in node.items if item.asname]
        else:
            continue
        for target in targets:
            for name in walk_own(target):
                if isinstance(name, cst.Name):
                    value = getattr(node, "value", None) if target is name else None
                    values.setdefault(name.value, []).append(value)
    built = {n for n, vs in values.items()
             if all(isinstance(v, _NEW_CONTAINERS) or (
                 isinstance(v, cst.Call) and not v.args
                 and (dotted(v.func) or "") in SNAPSHOT_CALLS) for v in vs)}
    methods = {n for n, vs in values.items()
               if all(isinstance(v, cst.Attribute) and isinstance(v.value, cst.Name)
                      and v.value.value in built for v in vs)}
    return frozenset(built | methods)


_LITERALS = (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)


def _constant(model: ModuleModel, value: Optional[cst.BaseExpression]) -> bool:
    """A literal, a module-level name bound once to one (``STOPPED``), or a
    named constant of a class or module (``State.CLOSED``, ``errno.EINTR``:
    an enum member or a class constant, upper case by convention)."""
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    if isinstance(value, _LITERALS):
        return True
    if (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name)
            and value.value.value not in ("self", "cls")
            and value.attr.value.isupper() and not value.attr.value.startswith("_")):
        return True
    if isinstance(value, cst.Name):
        if value.value in ("None", "True", "False"):
            return True
        binding = model.bindings.get(("global", value.value))
        return binding is not None and isinstance(binding.node, _LITERALS)
    return False


# The endings of a reason that says the race is harmless by design.
_BENIGN = ("the outcome is the same", "duplicate work only")


def mark_benign(finding) -> None:
    """A check-then-set of one constant, or a lazy value built twice at worst:
    the project pass does not raise it when threads reach it (the worst
    outcome stays the same)."""
    if finding.confidence <= Confidence.LOW and finding.reason.endswith(_BENIGN):
        finding.facts["benign"] = True


def _setting(model: ModuleModel, value: Optional[cst.BaseExpression], store) -> bool:
    """A plain read of another object's attribute (``self.adj.high_watermark``,
    ``config.LIMIT``): no call, and not the stored state itself, so threads
    racing to store it store the same value."""
    if not isinstance(value, cst.Attribute) or not isinstance(value.value, cst.Attribute):
        return False
    node = value
    while isinstance(node, cst.Attribute):
        node = node.value
    if not isinstance(node, cst.Name):
        return False
    targets = [t.target for t in getattr(store, "targets", ())] or [getattr(store, "target", None)]
    text = model.module.code_for_node(value)
    return not any(t is not None and text.startswith(model.module.code_for_node(t))
                   for t in targets)


def constant_set_confidence(model: ModuleModel, compound: Compound, confidence: Confidence,
                            reason: str) -> tuple[Confidence, str]:
    """A check-then-set that stores a constant and does nothing else (bar a
    warning or a log line) ends the same whichever thread wins: low."""
    write = compound.write
    if compound.kind != "check-then-set" or write is None or not isinstance(compound.node, cst.If):
        return confidence, reason
    if (not isinstance(write.node, (cst.Assign, cst.AnnAssign))
            or not (_constant(model, write.node.value)
                    or _setting(model, write.node.value, write.node))):
        return confidence, reason
    if id(write.node) not in {id(n) for n in walk_own(compound.node.body)}:
        return confidence, reason  # after a guard clause: the rest of the function acts
    if block_effects(model, compound.node.body, compound.ref, write) is not None:
        return confidence, reason
    return Confidence.LOW, (f"{reason}, but every thread stores the same constant and the "
                            "block does nothing else: the outcome is the same")


def _new_instance(model: ModuleModel, value: Optional[cst.BaseExpression]) -> bool:
    """`cls()`, a class of this module or `super().__call__()` (a singleton
    metaclass): a new instance, whose identity matters."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Name):
        return func.value == "cls" or func.value in model.classes
    return (isinstance(func, cst.Attribute)
            and func.attr.value in ("__class__", "__call__", "__new__"))


def _stateless(model: ModuleModel, value: cst.Call, ref) -> bool:
    """The new instance is of a class of this module that keeps no state:
    no instance attributes, no mutable class attributes, no subclass here
    that adds some. Two such instances are interchangeable."""
    func = value.func
    if isinstance(func, cst.Name) and func.value in model.classes:
        cls = func.value
    elif ref is not None and ref[0] == "class":
        cls = ref[1]  # `cls._instance = super().__new__(cls)`, `cls()`
    else:
        return False
    family = {cls} | {c for c, bases in model.class_bases.items()
                      if any(b == cls or b.endswith(f".{cls}") for b in bases)}
    for (kind, *rest), binding in model.bindings.items():
        if not rest or rest[0] not in family:
            continue
        if kind == "instance":
            return False
        if (kind == "class" and binding.mutability not in (Mutability.IMMUTABLE, Mutability.LOCK)
                and (ref is None or tuple(ref) != (kind, *rest))):
            return False
    return True


# Calls that open something: building the value twice opens two, and the one
# a thread stored first is replaced and never closed.
_OPENS = re.compile(r"^(open|urlopen|connect|create_connection|socket|Popen|"
                    r"(open|connect)_\w+)$")


def _opens(model: ModuleModel, value: Optional[cst.BaseExpression]) -> Optional[str]:
    """What building ``value`` twice does, in words, when it opens a resource
    or calls a function of this module that has effects; None otherwise."""
    if not isinstance(value, cst.Call):
        return None
    name = dotted(value.func) or ""
    short = name.rpartition(".")[2]
    if _OPENS.match(short):
        return (f"each build calls `{name}()`, so two threads can each open one and the "
                f"first is replaced without being closed")
    if "." in name:
        return None
    helper = next((f for f in model.functions if f.name == name and f.class_name is None
                   and f.parent is None), None)
    if helper is None:
        return None
    effects = block_effects(model, helper.node.body)
    if effects is None:
        return None
    return f"each build calls `{name}()`, which has effects: {effects.replace('the block', 'it')}"


def lazy_init_confidence(model: ModuleModel, compound: Compound, confidence: Confidence,
                         reason: str) -> tuple[Confidence, str]:
    """``confidence`` when the block has side effects, else low."""
    effects = lazy_init_effects(model, compound)
    if effects is not None:
        return confidence, f"{reason}; {effects}"
    return Confidence.LOW, (f"{reason}, but the block only builds and stores the value: "
                            "duplicate work only")


def _misses(test: cst.BaseExpression) -> bool:
    """`k not in d`, `d.get(k) is None`, or `v is None` and `not v` for a
    local `v = d.get(k)` (alone or in an `and`): the builder ties a local
    test to the container only when the local came from it."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _misses(test.left) or _misses(test.right)
    if (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
            and isinstance(test.expression, cst.Name)):
        return True
    if not isinstance(test, cst.Comparison):
        return False
    return any(isinstance(target.operator, cst.NotIn)
               or (isinstance(target.operator, cst.Is) and is_none(target.comparator)
                   and (isinstance(test.left, cst.Name) or get_call(test.left)))
               for target in test.comparisons)


def _hits_then_returns(node: cst.If) -> bool:
    """`if k in d: return d[k]`: a guard clause, the fill follows it."""
    return one_in(node.test) and _returns_at_end(node)


def _returns_at_end(node: cst.If) -> bool:
    """Does the `if` body end with a `return`?"""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    return (isinstance(last, cst.SimpleStatementLine)
            and any(isinstance(small, cst.Return) for small in last.body))


def _stored_value(write, block: Optional[cst.CSTNode]) -> Optional[cst.BaseExpression]:
    """The value ``write`` stores; for a local, what the guarded ``block``
    binds it to first (`lock = threading.Lock()` then `LOCKS[f] = lock`)."""
    value = getattr(write.node, "value", None)
    if isinstance(value, cst.Name) and block is not None:
        value = next((n.value for n in walk_own(block) if isinstance(n, cst.Assign)
                      and any(isinstance(t.target, cst.Name) and t.target.value == value.value
                              for t in n.targets)), value)
    return value


def _identity_matters(write, block: Optional[cst.CSTNode] = None) -> bool:
    """The stored value is a lock, a new mutable object (`[]`, `{}`,
    `deque()`) or an instance of a class (`Entry(k)`): callers keep and use
    it, so two threads that each built one hold different objects, and one
    is lost. A local the guarded ``block`` binds to one first (`lock =
    threading.Lock()` then `LOCKS[f] = lock`) counts too."""
    if write.assigned is not None and write.assigned[0] in (Mutability.MUTABLE,
                                                            Mutability.LOCK):
        return True
    value = _stored_value(write, block)
    if isinstance(value, cst.Call):
        name = (dotted(value.func) or "").rpartition(".")[2]
        return name[:1].isupper()
    return False


# Constructors that only allocate: building one twice and dropping one
# changes nothing but memory.
_ALLOCATORS = frozenset({
    "dict", "list", "set", "bytearray", "object",
    "collections.deque", "collections.defaultdict", "collections.OrderedDict",
    "collections.Counter", "queue.Queue", "queue.SimpleQueue", "queue.LifoQueue",
    "queue.PriorityQueue", "weakref.WeakSet", "weakref.WeakValueDictionary",
    "weakref.WeakKeyDictionary", "re.compile",
})


def fresh_fill(model: ModuleModel, compound: Compound) -> bool:
    """A fill (see :func:`memo_fill`) of a new object whose identity matters
    but whose building only allocates: a display (`{}`, `[]`) or a
    standard-library constructor (`deque()`, `Queue()`, `re.compile(p)`),
    directly or through a local the guarded block binds first. Building it
    twice and keeping one wastes memory, nothing else, and `setdefault`
    hands every thread the one stored: no lock is needed."""
    write = compound.write
    if write is None:
        return False
    handler = cached_lookup(compound.node)
    value = _stored_value(write, handler.body if handler is not None
                          else getattr(compound.node, "body", None))
    if isinstance(value, cst.Call):
        name = model.qualify(value.func) or dotted(value.func) or ""
        if "." not in name and ("global", name) in model.bindings:
            return False  # the module's own `dict`, not the builtin
        allocates = name in _ALLOCATORS
    else:
        allocates = isinstance(value, (cst.Dict, cst.List, cst.Set, cst.DictComp,
                                       cst.ListComp, cst.SetComp))
    return allocates and memo_fill(model, compound, identity=False)


def memo_fill(model: ModuleModel, compound: Compound, identity: bool = True) -> bool:
    """A cache filled on a miss, `if k not in d: d[k] = build(k)` (or a
    guard clause, `if k in d: return d[k]` then the fill, or `try: v = d[k]`
    / `except KeyError:` with the fill in the handler), whose build only
    computes: two threads that miss together build the value twice, and one
    store wins. A lock, a new instance of the module's own classes, an
    opened resource or any other effect makes it matter which one won.
    ``identity=False`` lets the value be a new object whose identity
    matters (for :func:`fresh_fill`)."""
    write, node = compound.write, compound.node
    if write is None or write.op != "setitem":
        return False
    handler = cached_lookup(node)
    if handler is None and not isinstance(node, cst.If):
        return False
    block = node.body if handler is None else handler.body
    if identity and _identity_matters(write, block):
        return False
    if stored_marker(write.statement) and any(
            s is not write.statement for s in getattr(block, "body", ())):
        # `if msg not in seen: seen[msg] = True; log(msg)`: a mark, and the
        # block acts once per key; nothing is built to share.
        return False
    # Entries changed in place elsewhere (`d[k] += 1`, `d[k].append(x)`) are
    # state, not a cache: a second fill drops what was done to the first.
    if any(w.op == "augitem" or w.op.startswith("item.") for w in model.writes(compound.ref)):
        return False
    if handler is not None or _misses(node.test):
        if id(write.node) not in {id(n) for n in walk_own(block)}:
            return False
        effects = (lazy_init_effects(model, compound) if handler is None
                   else block_effects(model, block, compound.ref, write, singletons=True))
        return effects is None
    if not _hits_then_returns(node) or node.orelse or write.function is None:
        return False
    rest = _after_guard(node, write.function)
    return rest is not None and block_effects(model, rest, compound.ref, write,
                                              singletons=True) is None


def _after_guard(node: cst.If, function) -> Optional[cst.IndentedBlock]:
    """The statements after the guard clause ``node``, up to the end of
    ``function``'s body; None when the guard is not a statement of it."""
    body = function.node.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
    after = next((i for i, s in enumerate(statements) if s is node), None)
    return None if after is None else cst.IndentedBlock(body=statements[after + 1:])


def output_once(model: ModuleModel, compound: Compound) -> bool:
    """A set of keys already reported, whose guarded block only outputs a
    message and adds the key: `if k not in seen: log.warning(...);
    seen.add(k)`, or `if k in seen: return` with the add and the output in
    the `else:` or after the guard clause. Two threads that miss together
    output the message twice; nothing else happens twice."""
    write, node = compound.write, compound.node
    if write is None or not isinstance(node, cst.If) or not (
            write.op == "add" or write.op == "setitem" and stored_marker(write.statement)):
        return False  # (`seen[k] = True` marks a key as `seen.add(k)` does)
    if _misses(node.test):
        block: cst.CSTNode = node.body
    elif not _hits(node.test):
        return False
    elif isinstance(node.orelse, cst.Else):
        block = node.orelse.body
    elif _returns_at_end(node) and write.function is not None:
        rest = _after_guard(node, write.function)
        if rest is None:
            return False
        block = rest
    else:
        return False
    if id(write.node) not in {id(n) for n in walk_own(block)}:
        return False
    outputs = [n for n in walk_own(block) if isinstance(n, cst.Call)
               and _OUTPUT.search(dotted(n.func) or (
                   n.func.attr.value if isinstance(n.func, cst.Attribute) else ""))]
    return bool(outputs) and block_effects(model, block, compound.ref, write) is None


def _hits(test: cst.BaseExpression) -> bool:
    """`k in seen`, alone or in an `or` (`if not level or k in seen:`)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _hits(test.left) or _hits(test.right)
    return one_in(test)


def configured_after_store(model: ModuleModel, write) -> Optional[str]:
    """What configures a new object after the statement that publishes it,
    in words, or None: `_ctx = ssl.create_default_context()` followed in
    the same block by `_ctx.load_cert_chain(...)` or `_ctx.verify_mode =
    ...`. Until those run, another thread that finds the global set uses an
    object that is only half set up: a wrong result, not duplicate work."""
    node = write.node
    if write.function is None or not isinstance(node, (cst.Assign, cst.AnnAssign)):
        return None
    if not isinstance(node.value, (cst.Call, cst.Dict, cst.List, cst.Set)):
        return None  # only a new object is set up in place
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    keys = {expr_key(t) for t in targets} - {None}
    if not keys:
        return None
    statement = write.statement
    for block in walk_own(write.function.node):
        if not isinstance(block, cst.IndentedBlock):
            continue
        body = list(block.body)
        index = next((i for i, s in enumerate(body) if s is statement), None)
        if index is None:
            continue
        for later in body[index + 1:]:
            for n in walk_own(later):
                if (isinstance(n, cst.Expr) and isinstance(n.value, cst.Call)
                        and isinstance(n.value.func, cst.Attribute)
                        and expr_key(n.value.func.value) in keys):
                    return f"`{model.module.code_for_node(n.value.func).strip()}()`"
                if isinstance(n, (cst.Assign, cst.AugAssign)):
                    stores = ([t.target for t in n.targets] if isinstance(n, cst.Assign)
                              else [n.target])
                    for store in stores:
                        if (isinstance(store, (cst.Attribute, cst.Subscript))
                                and expr_key(store.value) in keys):
                            return f"`{model.module.code_for_node(store).strip()} = …`"
        return None
    return None


def published_half_built(model: ModuleModel, write, confidence: Confidence,
                         reason: str) -> tuple[Confidence, str]:
    """High for a lazily stored new object that is set up after it is
    stored (see :func:`configured_after_store`), unless already lowered."""
    if confidence <= Confidence.LOW:
        return confidence, reason
    configured = configured_after_store(model, write)
    if configured is None:
        return confidence, reason
    return Confidence.HIGH, (f"{reason}; high: the new object is stored before {configured} "
                             "sets it up, so a thread that finds it stored meanwhile uses it "
                             "half set up")


_COPIERS = SNAPSHOT_CALLS | {"copy.copy", "copy.deepcopy"}


def copy_of_itself(model: ModuleModel, node: cst.CSTNode) -> bool:
    """`x = x.copy()`, `x = dict(x)` (or `list`, `set`, `copy.copy`...): an
    assignment whose new container starts with the old one's items."""
    if not isinstance(node, (cst.Assign, cst.AnnAssign)) or not isinstance(node.value, cst.Call):
        return False
    if isinstance(node, cst.Assign):
        if len(node.targets) != 1:
            return False
        target_node = node.targets[0].target
    else:
        target_node = node.target
    code = model.module.code_for_node
    target, value, func = code(target_node).strip(), node.value, node.value.func
    if isinstance(func, cst.Attribute) and func.attr.value == "copy" and not value.args:
        return code(func.value).strip() == target
    return (code(func).strip() in _COPIERS and len(value.args) == 1
            and code(value.args[0].value).strip() == target)
