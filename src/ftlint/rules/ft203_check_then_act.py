from __future__ import annotations


from typing import Iterator

import libcst as cst

from ftlint.analysis.checks import REMOVALS
from ftlint.analysis.model import ModuleModel
from ftlint.analysis.walk import walk_own
from ftlint.fixes import Declined, Fix
from ftlint.fixes.atomic import atomic_fix
from ftlint.fixes.locks import wrap_fix
from ftlint.fixes.tree import code, parents
from ftlint.diagnostics import Confidence
from ftlint.rules.base import (
    defer, no_fix,
    Example, Finding, Rule, describe, is_shared_write,
    shared_object_confidence,
)
from ftlint.rules.context import (CLOSING, configures_module, fresh_fill, in_teardown,
                                  memo_fill, output_once)


class CheckThenAct(Rule):
    code = "FT203"
    name = "check-then-act"
    brief = ("`if k not in d: d[k] = v`, `if k in d: del d[k]`, `if lst: lst.pop()`, `try: "
             "d[k] except KeyError: ...`")
    message = "Check-then-act on shared {name}: another thread can act between the check and the act"
    summary = (
        "A test on a shared container followed by an action that relies on it: "
        "`if k not in d: d[k] = v`, `if k in d: del d[k]`, `if e in s: "
        "s.remove(e)`, `if lst: lst.pop()`, `try: d[k] except KeyError: d[k] = "
        "...`, eviction by `len()`, `if k in d: return d[k]` when other code "
        "deletes from `d` while the object is in use (a cache cleared only in "
        "`close()` or `_cleanup()` does not count), a lookup through a copy of the keys (`for k in "
        "list(d): d[k]`) when other code deletes from `d`, and a reset after "
        "fork guarded by a pid check (`if self.pid != os.getpid(): self.reset()`), "
        "`if not logger.handlers: logger.addHandler(h)` on a logger, which "
        "`logging.getLogger()` shares with every thread, and a cached-property "
        "look-alike whose `__get__(self, obj, ...)` tests and fills `obj.__dict__`. "
        "A `hasattr(self, \"x\")` test on an attribute the constructor sets and "
        "nothing deletes only guards a half-built object, and is not reported. "
        "Nor is `if k in d: d[k] = v` when nothing removes items from `d` or "
        "binds a new container in its place at run time: the key the test saw "
        "is still there at the store, so the pair is one store (FT101 judges "
        "that store alone)."
    )
    rationale = (
        "Each step is atomic on the free-threaded build, but the pair is not. "
        "Between `k not in d` and `d[k] = v` another thread can insert (the "
        "value is built twice and one is lost); between `k in d` and `del d[k]` "
        "another thread can delete (KeyError); between `if lst` and `lst.pop()` "
        "another thread can empty the list (IndexError). With the GIL the "
        "window was rarely hit; without it, it is hit under any real load."
    )
    confidence_doc = (
        "high when reachable from a thread entry point; medium for containers on "
        "a class or module, or used in a public method; low otherwise. A cache "
        "filled on a miss (`if k not in d: d[k] = build(k)`, `v = d.get(k)` "
        "then `if v is None:`, or `if k in d: return d[k]` followed by the "
        "fill) whose build only computes stays at most medium, and threads "
        "reaching it do not raise it to high: two threads that miss together "
        "build the value twice and one store wins, so the reason says so (the "
        "`setdefault` fix makes every caller get the stored value). That does "
        "not hold, and the fill is reported like any other, when the value is "
        "a lock, a new mutable container or an instance of a class, also when "
        "the block builds it into a local first (`lock = threading.Lock()` "
        "then `d[k] = lock`; callers "
        "keep and change it: two threads would work on different objects), "
        "when the block opens something or has other effects, or when entries "
        "are changed in place elsewhere (`d[k] += 1`). A set of messages "
        "already output, whose guarded block only outputs the message (a log "
        "or `warnings.warn` call, `print`) and adds the key (`if k not in "
        "warned: log.warning(m); warned.add(k)`, or `if k in warned: return` "
        "before them), is low, and threads do not raise it: at worst two "
        "threads both output the message. A test followed by a "
        "removal (`while self.pending: self.pending.pop()`) in a function that "
        "only one thread started once runs, where all other code only adds "
        "items, is low: nothing else can make the test false before the removal. "
        "Other removals count as that thread's own when they are in private "
        "helpers that only its loop calls (`_check_timers()` each round, "
        "`_cleanup()` at its end) and that are not handed out as callbacks. "
        "The logger-handler test is low in a module-level function named for "
        "configuring (`setup_logging()`, `configure_*()`). "
        "`if p not in sys.path: sys.path.insert(0, p)` is low: a directory "
        "listed twice changes nothing (a removal still counts). "
        "A test of `sys.modules` in a loader's `load_module()`, `create_module()` "
        "or `exec_module()` is low: the import system holds that module's "
        "import lock while it calls them."
    )
    fix = "sometimes"
    fix_doc = (
        "Where the value has no side effects, one atomic call replaces the pair "
        "(safe): `d.setdefault(k, v)`, `d.pop(k, None)`, `s.discard(e)`, and "
        "`try: x = lst.pop() except IndexError` for `if lst: x = lst.pop()`. "
        "Where the value calls out (I/O, a callback, a function of another "
        "package), or the finding says it is a cache fill whose worst case is "
        "building the value twice (a lock over the test would cost every "
        "lookup, hit or miss, to save that; the `try: v = d[k]` / `except "
        "KeyError:` form too), no lock is held while it is "
        "built: the test stays, the "
        "value is built, and it is published in one step, `d.setdefault(k, "
        "value)` (a guard clause's `value = d.setdefault(k, value)`, so the "
        "value returned is the one stored). Where other writes of the "
        "container hold a lock, or it is not an exact built-in mapping, only "
        "the publication takes the lock, checked again: `with lock: "
        "d.setdefault(k, value)`, or `if k not in d: d[k] = value` under it. "
        "Safe: with one thread the value is built once and stored, as before; "
        "with several, two threads can still both build a value, as they "
        "could before the fix, but the first one stored is kept and every "
        "reader gets it. A value that must never be built twice needs a lock "
        "held across the build, which ftlint does not add around code it "
        "cannot see: add it by hand (an `RLock` if the build can come back). "
        "Otherwise the whole `if` goes under a lock (safe), except for such "
        "a cache fill that neither shape fits (a comment on the store, a "
        "value used further in the fill), or whose publish would need a new "
        "lock (a container that is not a plain `dict`, which nothing else "
        "locks): that fix is declined, with the reason. A reset guarded by "
        "a pid check has no automatic fix: the reset usually takes locks of its "
        "own, so the lock over the check and the reset must be chosen by hand. "
        "Nor has a lookup through a copy of the keys: look each key up with "
        "`d.get(k)` and skip the missing ones, or loop over `list(d.items())`."
    )
    no_fix_doc = (
        "A lookup through a copy of the keys has no fix: look each key up "
        "with `d.get(k)` and skip the missing ones, or loop over "
        "`list(d.items())`. A reset after fork guarded by a pid check has no "
        "fix: hold one lock over the check and the reset and check again under "
        "it. Both findings end with that advice. A cache fill whose value is "
        "populated after it is stored (`d[k] = build(); d[k].ready = True`) "
        "is left alone where the build calls out: build and populate it in a "
        "local, then publish it with `d.setdefault(k, value)`. "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT203` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        def register(name, handler):
            _handlers.setdefault(name, handler)

        def forget(name):
            _handlers.pop(name, None)
    '''
    supersedes = ("FT101", "FT104", "FT105")
    VALID = (
        Example('''
            import threading

            class Cache:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._data = {}

                def get(self, key):
                    with self._lock:
                        if key not in self._data:
                            self._data[key] = len(key)
                        return self._data[key]
        ''', "the check and the act under one lock"),
        Example('''
            class Cache:
                def __init__(self):
                    self._data = {}

                def get(self, key):
                    if key in self._data:
                        return self._data[key]
                    return None
        ''', "check-then-read where nothing deletes"),
        Example('''
            class Connection:
                def __init__(self):
                    self._classes = {}

                def lookup(self, key):
                    if key in self._classes:
                        return self._classes[key]
                    return None

                def close(self):
                    self._classes.clear()
        ''', "a cache cleared only when the object closes: while it is used, nothing deletes"),
    )
    INVALID = (
        Example('''
            import threading

            class Locks:
                def __init__(self):
                    self._locks = {}

                def get(self, key):
                    if key not in self._locks:  # expect: FT203[medium]
                        self._locks[key] = threading.Lock()
                    return self._locks[key]

            LOCKS = Locks()
        ''', "one lock per key, made on a miss: two threads can hold different locks"),
        Example('''
            class Cache:
                def __init__(self):
                    self._data = {}

                def get(self, key):
                    if key not in self._data:  # expect: FT203[medium]
                        self._data[key] = len(key)
                    return self._data[key]

            CACHE = Cache()
        ''', "a cache filled on a miss with a value that only computes: duplicate work at worst"),
        Example('''
            import logging

            def console_logger(name):
                logger = logging.getLogger(name)
                if not logger.handlers:
                    logger.addHandler(logging.StreamHandler())  # expect: FT203[medium]
                return logger
        ''', "adding a handler to a process-wide logger once"),
        Example('''
            _pending = set()

            def finish(job):
                if job in _pending:  # expect: FT203[medium]
                    _pending.remove(job)
        ''', "remove after a membership test"),
        Example('''
            class Pool:
                def __init__(self):
                    self.free = []

                def _take(self):
                    if self.free:  # expect: FT203[low]
                        return self.free.pop()
                    return None
        ''', "pop after a truth test"),
        Example('''
            class Registry:
                def __init__(self):
                    self._items = {}

                def lookup(self, key):
                    try:  # expect: FT203[low]
                        return self._items[key]
                    except KeyError:
                        self._items[key] = object()
                        return self._items[key]
        ''', "try/except KeyError"),
        Example('''
            import os
            import threading

            class Pool:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.pid = os.getpid()

                def get(self):
                    if self.pid != os.getpid():  # expect: FT203[medium]
                        self.reset()

                def reset(self):
                    with self._lock:
                        self.pid = os.getpid()
        ''', "a reset after fork: two threads of the child both reset"),
        Example('''
            _entries = {}

            def check_all():
                for name in list(_entries):
                    entry = _entries[name]  # expect: FT203[medium]
                    if entry.stale():
                        _entries.pop(name, None)
        ''', "a lookup through a stale copy of the keys (KeyError)"),
    )

    FIX_EXAMPLES = (
        ('''
        _handlers = {}

        def register(name, handler):
            if name not in _handlers:
                _handlers[name] = handler

        def forget(name):
            if name in _handlers:
                del _handlers[name]
    ''', '''
        _handlers = {}

        def register(name, handler):
            _handlers.setdefault(name, handler)

        def forget(name):
            _handlers.pop(name, None)
    '''),
        ('''
        class Pool:
            def __init__(self):
                self.free = []

            def take(self):
                if self.free:
                    return self.free.pop()
                return None

        POOL = Pool()
    ''', '''
        class Pool:
            def __init__(self):
                self.free = []

            def take(self):
                try:
                    return self.free.pop()
                except IndexError:
                    pass
                return None

        POOL = Pool()
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        reported = set()
        lazy = model.lazy_init_nodes
        deleted: dict = {}  # per state: is it deleted from at run time (asked per compound)
        for compound in model.compounds:
            access = compound.write
            if access is None or compound.ref[0] not in ("instance", "class", "global", "attr", "ext"):
                continue
            if not is_shared_write(model, access):
                continue  # under construction, or at import time
            if compound.kind == "check-then-read":
                if compound.ref not in deleted:
                    # A cache cleared only when the object closes grows while
                    # it is used: nothing removes what a check has just seen.
                    deleted[compound.ref] = any(w.op in REMOVALS and is_shared_write(model, w)
                                                and not _closing(model, w)
                                                for w in model.writes(compound.ref))
                if not deleted[compound.ref]:
                    continue
            elif compound.kind != "check-then-act":
                continue
            if model.guarded(compound.locks) or (
                    access.function is not None and access.function.called_under_lock):
                continue
            if id(compound.node) in lazy.get(compound.ref, ()):
                continue  # filling a value just built lazily: FT103/FT204 report it
            if _set_for_life(model, compound):
                continue
            key = (id(compound.node), compound.ref)
            if key in reported:
                continue
            reported.add(key)
            confidence, reason = shared_object_confidence(model, access)
            if compound.detail == "snapshot":
                binding = model.binding(compound.ref)
                if binding is not None and binding.kind in ("defaultdict", "Counter"):
                    continue  # a missing key gets a default value, not a KeyError
                finding = Finding.at(access, self.message.format(name=describe(compound.ref)),
                                     confidence, "the loop runs over a copy of the keys, and "
                                     "another thread can delete one before it is looked up "
                                     f"(KeyError); {reason}", node=access.node)
                no_fix(finding, "look each key up with `.get()` and skip the missing ones, "
                                "or loop over a copy of `.items()`")
                yield finding
                continue
            detail = "try/except" if compound.detail == "try/except KeyError" else "test"
            reason = f"the {detail} and the act are separate steps; {reason}"
            if (confidence > Confidence.LOW and compound.ref == ("ext", "sys.path")
                    and access.op in ("append", "insert")):
                confidence = Confidence.LOW
                reason = (f"{reason}; low: at worst two threads both add the entry, and a "
                          "directory listed twice on `sys.path` changes nothing")
            elif confidence > Confidence.LOW and _import_hook(compound, access):
                confidence = Confidence.LOW
                reason = (f"{reason}; low: the import system calls "
                          f"`{access.function.name}()` holding the import lock of the module "
                          "it loads, so two threads never load the same name at once")
            memo = confidence > Confidence.LOW and memo_fill(model, compound)
            once = confidence > Confidence.LOW and not memo and output_once(model, compound)
            if once:
                confidence = Confidence.LOW
                reason = (f"{reason}; low: the block only outputs a message and marks it "
                          "as output, so at worst two threads both output it")
            if memo:
                reason = (f"{reason}; it fills a cache on a miss and the block only builds "
                          "and stores the value, so at worst two threads build it twice and "
                          "one store wins")
            finding = Finding.at(access, self.message.format(name=describe(compound.ref)),
                                 confidence, reason, node=compound.node)
            if memo or once:
                finding.facts["benign"] = True  # threads reaching it do not raise it
            if _lone_remover(model, compound, access):
                # `while self.pending: add(self.pending.pop())` where other
                # code only adds: the project pass lowers it when one
                # dedicated thread runs this function.
                finding.facts["consumer"] = True
            finding.build = defer(_atomic_or_locked, compound, access, bool(memo))
            yield finding
        yield from _fork_checks(self, model)
        yield from _handler_checks(self, model)


# Loader methods the import system calls holding the module's import lock.
_LOADER_METHODS = frozenset({"create_module", "exec_module", "load_module"})


def _import_hook(compound, access) -> bool:
    """A test and a store of `sys.modules` in a loader method: importlib
    holds the per-name module lock around it."""
    function = access.function
    return (compound.ref == ("ext", "sys.modules") and function is not None
            and function.class_name is not None and function.outermost.name in _LOADER_METHODS)


def _set_for_life(model: ModuleModel, compound) -> bool:
    """``if not hasattr(self, "_tasks"): return`` where the constructor sets
    ``self._tasks`` and nothing deletes it: the test guards a half-built
    object, and no other thread can change its answer."""
    ref, node = compound.ref, compound.node
    if ref[0] != "instance" or not isinstance(node, cst.If):
        return False
    asks = any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "hasattr"
               and len(n.args) == 2 and isinstance(n.args[0].value, cst.Name)
               and n.args[0].value.value == "self"
               and isinstance(n.args[1].value, cst.SimpleString)
               and n.args[1].value.evaluated_value == ref[2]
               for n in walk_own(node.test))
    if not asks:
        return False
    writes = list(model.writes(ref))
    return (any(w.function is not None and w.function.in_constructor for w in writes)
            and not any(w.op in ("del", "delattr") for w in writes))


def _lone_remover(model: ModuleModel, compound, access) -> bool:
    """The act takes an item (`pop()`, `popleft()`) from what the test saw
    non-empty, and every other run-time change of the state elsewhere only
    adds to it: nothing but this function can make the test false before
    the removal. A keyed removal (`del d[k]`) does not count: it is where
    the fix of a reader's lookup goes too."""
    function = access.function
    untargeted = access.op in ("popitem", "popleft") or (
        access.op == "pop" and isinstance(access.node, cst.Call) and not access.node.args)
    if not untargeted or function is None:
        return False
    root = _sole_root(model, function.outermost)
    for write in model.writes(compound.ref):
        if write.function is None or write.import_time or write.function.in_constructor:
            continue
        if write.function.outermost is function.outermost:
            continue
        if write.op in REMOVALS or write.op in ("rebind", "setattr", "delattr"):
            if _sole_root(model, write.function.outermost) is not root:
                return False
    return True


def _sole_root(model: ModuleModel, function):
    """The function that alone leads to ``function``: a private method
    called from one method only, and named nowhere else (not handed out as a
    callback), belongs to that method's run, and so on up (`_loop()` calls
    `_check_timers()` and, at its end, `_cleanup_all_timers()`: both take
    from the queue, on the loop's one thread)."""
    seen = set()
    while function is not None and id(function) not in seen:
        seen.add(id(function))
        if function.parent is not None or not function.name.startswith("_") \
                or function.name.startswith("__"):
            return function
        sites = [c for c in model.calls if c.callee.rpartition(".")[2] == function.name]
        callers = {id(c.caller.outermost): c.caller.outermost for c in sites if c.caller is not None}
        if len(callers) != 1 or len(sites) != model.name_uses.get(function.name, 0):
            return function
        function = next(iter(callers.values()))
    return function


def _closing(model: ModuleModel, access) -> bool:
    """In code that ends the object's life: `close()` and the like, or a
    `_cleanup()` that one of them calls. A `clean_up()` sweep that a monitor
    runs every minute to drop expired entries is no such code."""
    if not in_teardown(access):
        return False
    function = access.function.outermost
    if CLOSING.match(function.name.lstrip("_") or function.name):
        return True
    return any(c.callee.rpartition(".")[2] == function.name and c.caller is not None
               and CLOSING.match(c.caller.outermost.name.lstrip("_") or "-")
               for c in model.calls)


def _handler_checks(rule: CheckThenAct, model: ModuleModel) -> Iterator[Finding]:
    """``if not logger.handlers: logger.addHandler(h)``: loggers are
    process-wide (``logging.getLogger(name)`` hands every thread the same
    one), so two threads can both see no handler and both add one, and every
    later line is logged twice."""
    by_function: dict = {}
    for call in model.calls:
        if (not call.callee.endswith(".addHandler") or call.caller is None
                or model.guarded(call.locks) or call.caller.called_under_lock
                or call.caller.import_time_only):
            continue
        by_function.setdefault(id(call.caller), []).append(call)
    for calls in by_function.values():
        function = calls[0].caller
        parent_of = parents(model, function.node)
        for call in calls:
            logger = code(model, call.node.func.value)
            test = _guarding_test(call.node, function.node, parent_of)
            if test is None or not _tests_handlers(model, test, logger):
                continue
            confidence = Confidence.MEDIUM
            reason = ("the test for handlers and `addHandler()` are separate steps, and a "
                      "logger is process-wide: two threads can both see none and both add "
                      "one, so every later record is logged twice")
            configures = configures_module(function)
            if configures:
                confidence, reason = Confidence.LOW, f"{reason}; low: {configures}"
            yield no_fix(
                Finding(call.node, rule.message.format(name=f"`{logger}.handlers`"),
                        confidence, reason, function),
                "configure logging once at start-up, or hold one module-level lock over "
                "the test and `addHandler()`")


def _guarding_test(node: cst.CSTNode, scope: cst.CSTNode, parent_of: dict):
    """The test of the nearest ``if`` whose body holds ``node``."""
    child, current = node, parent_of.get(id(node))
    while current is not None and current is not scope:
        if isinstance(current, cst.If) and child is current.body:
            return current.test
        child, current = current, parent_of.get(id(current))
    return None


def _tests_handlers(model: ModuleModel, test: cst.BaseExpression, logger: str) -> bool:
    """``not logger.handlers``, ``len(logger.handlers) == 0``, ``not
    logger.hasHandlers()``."""
    text = code(model, test)
    return f"{logger}.handlers" in text or f"{logger}.hasHandlers()" in text


def _fork_checks(rule: CheckThenAct, model: ModuleModel) -> Iterator[Finding]:
    """``if self.pid != os.getpid(): self.reset()``: after a fork, two
    threads of the child can both see the parent's pid and both reset."""
    checks = [a for a in model.accesses if a.op == "pidcheck"]
    # Double-checked: the same check again under a lock makes the first one a fast path.
    rechecked = {(a.ref, id(a.function)) for a in checks if model.access_guarded(a)}
    for access in checks:
        if (access.ref[0] not in ("instance", "class", "global") or model.access_guarded(access)
                or not is_shared_write(model, access)
                or (access.ref, id(access.function)) in rechecked
                or not _acts(access.node)):
            continue
        confidence, reason = shared_object_confidence(model, access)
        finding = Finding.at(access, rule.message.format(name=describe(access.ref)), confidence,
                             "a reset after fork: two threads of the child process can both see "
                             f"the parent's pid and both reset; {reason}")
        no_fix(finding, "hold one lock over the pid check and the reset, and check again "
                        "under it; the reset must not take that lock itself")
        yield finding


_NO_ACT = (cst.Return, cst.Raise, cst.Pass, cst.Break, cst.Continue)


def _atomic_or_locked(context, compound, access, duplicate_work: bool = False):
    """One atomic call if the shape has one, else a lock around the whole
    unit. A cache fill whose worst case is duplicate work keeps its test and
    is published with `setdefault`, or gets nothing: a lock over the test
    would cost every lookup, hit or miss, to save an occasional second
    build."""
    fix = atomic_fix(context, compound, publish=duplicate_work)
    if isinstance(fix, Declined):
        fix = wrap_fix(context, compound.ref, compound.node, access, publish=duplicate_work,
                       fill=not duplicate_work and fresh_fill(context, compound))
        if duplicate_work and isinstance(fix, Fix) and _locks_the_lookup(fix):
            return Declined("a cache filled on a miss, whose worst case is building a value "
                            "twice: a lock from the check to the store would cost every "
                            "lookup, hit or miss, to save that, and neither one atomic call "
                            "nor a publish with `setdefault` fits this shape (build the "
                            "value in a local and publish it with `d.setdefault(k, value)` "
                            "if a second build must never be seen)")
    return fix


def _locks_the_lookup(fix: Fix) -> bool:
    """Does ``fix`` hold a lock over the test itself (`with lock: if k not in
    d: ...`), rather than only over the publish of a value built outside?"""
    return any(edit.wrap is not None or (
        isinstance(edit.new, cst.With) and isinstance(edit.new.body, cst.IndentedBlock)
        and any(isinstance(s, (cst.If, cst.Try)) for s in edit.new.body.body))
        for edit in fix.edits)


def _acts(check: cst.CSTNode) -> bool:
    """Does the block of a pid check do something (a reset, a call, a
    store), rather than only leave (`if self.pid != os.getpid(): return`)?"""
    body = getattr(check, "body", None)
    if body is None:
        return True
    statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
    for statement in statements:
        if isinstance(statement, cst.BaseCompoundStatement):
            return True
        smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else (statement,)
        if any(not isinstance(small, _NO_ACT) for small in smalls):
            return True
    return False
