from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ftlint.analysis.model import ModuleModel, Mutability
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import double_checked_fix
from ftlint.rules.context import block_effects, lazy_init_confidence, mark_benign
from ftlint.rules.base import (
    defer, no_fix,
    NO_SIGN, Example, Finding, Rule, describe, is_shared_write, shared_object_confidence,
)


class LazyAttributeInit(Rule):
    code = "FT204"
    name = "lazy-attribute-init"
    brief = "`if self._x is None: self._x = ...`, `cls._instance` singletons"
    message = "Attribute {name} is initialised lazily without a lock; threads can build it twice"
    summary = (
        "`if self._x is None: self._x = build()`, `if cls._instance is None: "
        "cls._instance = cls()` singletons, the same through `hasattr` or "
        "`getattr(..., None)`, and `functools.cached_property` (or a look-alike "
        "such as `reify`) whose computation has side effects. Also the test in "
        "one method and the build in a helper of the same object "
        "(`if not hasattr(cls, \"_local\"): cls._make_local()`), reported at "
        "the call, without a fix."
    )
    rationale = (
        "Two threads both see the attribute unset and both build it. A "
        "singleton gets two instances, a lazily opened connection is opened "
        "twice and one leaks, and callers of the same object hold different "
        "values. With the GIL the window between the test and the store was "
        "small; on the free-threaded build it is open whenever two threads "
        "arrive together."
    )
    confidence_doc = (
        "high when reachable from a thread entry point; medium for class-level "
        "singletons (`cls()`: callers can hold different instances; low when "
        "the class keeps no state, so two instances are interchangeable), and for "
        "objects shared between threads when the guarded block does more than "
        "build and store the value (it calls something, changes other shared "
        "state, fills the value after storing it, or builds it by opening "
        "something: `open()`, `connect()`, a function of the module named "
        "`open_*`/`connect_*` or one with effects of its own, so the first "
        "one built is replaced and never closed). Low when the block only "
        "builds and stores a value (duplicate work only; filling a list the "
        "function itself made, `parts.append(x)`, is building it), and for objects with "
        "no sign that several threads use them. A cached property is medium when "
        "its body has side effects and its class shows that it is shared, and "
        "low otherwise."
    )
    fix = "safe"
    fix_doc = (
        "Double-checked locking: keep the unlocked fast path, take the lock, "
        "test again, then build. Safe: with one thread nothing changes. "
        "`functools.cached_property` is not a fix: since Python 3.12 it no "
        "longer locks. A cached property itself has no automatic fix: keep "
        "the side effects out of it, or compute under a lock of the object."
    )
    no_fix_doc = (
        "A cached property that does more than compute has no fix: compute "
        "under a lock of the object and check again inside, or keep the side "
        "effects out of the property (the message says so). "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT204` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import threading

        class Service:
            _instance = None
            _instance_lock = threading.Lock()

            @classmethod
            def instance(cls):
                if cls._instance is None:
                    with cls._instance_lock:
                        if cls._instance is None:
                            cls._instance = cls()
                return cls._instance
    '''
    supersedes = ("FT201",)
    VALID = (
        Example('''
            import threading

            class Service:
                _instance = None
                _lock = threading.Lock()

                @classmethod
                def instance(cls):
                    if cls._instance is None:
                        with cls._lock:
                            if cls._instance is None:
                                cls._instance = cls()
                    return cls._instance
        ''', "double-checked locking"),
        Example('''
            class Node:
                def __init__(self, parent=None):
                    self.parent = parent
                    if self.parent is None:
                        self.parent = self
        ''', "inside __init__"),
    )
    INVALID = (
        Example('''
            class Service:
                _instance = None

                def __init__(self):
                    self.handlers = []

                @classmethod
                def instance(cls):
                    if cls._instance is None:
                        cls._instance = cls()  # expect: FT204[medium]
                    return cls._instance
        ''', "a singleton"),
        Example('''
            class Client:
                def session(self):
                    if not hasattr(self, "_session"):
                        self._session = open_session()  # expect: FT204[low]
                    return self._session
        ''', "through hasattr"),
        Example('''
            import functools
            import logging

            class Client:
                """One client for the whole application; thread-safe."""

                @functools.cached_property
                def log(self):  # expect: FT204[medium]
                    log = logging.getLogger("client")
                    log.addHandler(logging.StreamHandler())
                    return log
        ''', "a cached property whose computation installs a handler, twice"),
    )

    FIX_EXAMPLES = (
        ('''
        class Service:
            _instance = None

            @classmethod
            def instance(cls):
                if cls._instance is None:
                    cls._instance = cls()
                return cls._instance
    ''', '''
        import threading


        class Service:
            _instance_lock = threading.Lock()
            _instance = None

            @classmethod
            def instance(cls):
                if cls._instance is None:
                    with cls._instance_lock:
                        if cls._instance is None:
                            cls._instance = cls()
                return cls._instance
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        reported = set()
        for compound in model.compounds:
            write = compound.write
            if (compound.kind != "lazy-init" or write is None
                    or compound.ref[0] not in ("instance", "class", "attr")
                    or not is_shared_write(model, write) or model.guarded(compound.locks)
                    or (write.function is not None and write.function.called_under_lock)):
                continue
            key = (id(compound.node), compound.ref)
            if key in reported:
                continue
            reported.add(key)
            confidence, reason = shared_object_confidence(model, write)
            if (confidence < Confidence.MEDIUM and write.assigned is not None
                    and write.assigned[0] is Mutability.LOCK):
                # A lock is made only for threads to share: the object that
                # makes one lazily expects them, whatever else it shows.
                confidence, reason = Confidence.MEDIUM, (
                    "a lock is made only for several threads to share, so its object is "
                    "meant to be used by them")
            confidence, reason = lazy_init_confidence(
                model, compound, confidence,
                f"the unset test and the assignment are separate steps; {reason}")
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, reason)
            finding.build = defer(double_checked_fix, compound.ref, compound.node, write)
            mark_benign(finding)
            yield finding
        yield from _cached_properties(self, model)
        yield from _built_by_helper(self, model, reported)


def _built_by_helper(rule: LazyAttributeInit, model: ModuleModel,
                     reported: set) -> Iterator[Finding]:
    """``if not hasattr(cls, "_local"): cls._make_local()`` where the
    helper assigns ``cls._local``: the unset test and the build are in two
    methods, and two threads can both pass the test."""
    for call, names, check, held in model.helper_checks:
        caller = call.caller
        if caller is None or model.guarded(held) or caller.called_under_lock:
            continue
        helper_name = call.callee.rsplit(".", 1)[-1]
        helper = next((f for f in model.functions if f.class_name == caller.class_name
                       and f.name == helper_name and f.parent is None), None)
        if helper is None or helper is caller:
            continue
        for write in model.accesses:
            if (write.function is not helper or not write.write or write.op != "setattr"
                    or write.ref[0] not in ("instance", "class") or write.ref[2] not in names
                    or model.access_guarded(write) or not is_shared_write(model, write)):
                continue
            key = (id(check), write.ref)
            if key in reported:
                break
            reported.add(key)
            confidence, reason = shared_object_confidence(model, write)
            effects = lazy_init_effects_of(model, write)
            if effects is None and confidence > Confidence.LOW:
                confidence, reason = Confidence.LOW, f"{reason}, but it only builds and stores the value: duplicate work only"
            elif effects is not None:
                reason = f"{reason}; {effects}"
            finding = Finding(call.node, rule.message.format(name=describe(write.ref)),
                              confidence,
                              f"the unset test is here and `{helper_name}()` builds it, in two "
                              f"steps that two threads can both take; {reason}", caller, write)
            yield no_fix(finding, f"hold one lock over the test and the call of "
                                  f"`{helper_name}()`, and test again under it")
            break


def lazy_init_effects_of(model: ModuleModel, write) -> Optional[str]:
    """What building the value does that is harmful twice: a new object
    whose identity matters (a lock, a thread-local, an instance), or other
    work in the helper."""
    if write.assigned is not None and write.assigned[0] is Mutability.LOCK:
        return "the value is a lock: two threads can each make one and hold different locks"
    value = getattr(write.node, "value", None)
    if isinstance(value, cst.Call):
        return ("each build makes a new object, so one thread can replace what another "
                "already stored in it")
    return None


# functools.cached_property has had no lock since Python 3.12; the look-alikes
# of web frameworks and ORMs never had one.
CACHED_PROPERTIES = frozenset({
    "cached_property", "cachedproperty", "reify", "lazy_property", "lazyproperty",
    "memoized_property", "memoized_attribute", "cached_attribute",
})


def _cached_properties(rule: LazyAttributeInit, model: ModuleModel) -> Iterator[Finding]:
    """A cached property computes on first access, with no lock: two threads
    can both compute it. That costs duplicate work, unless the computation
    has side effects, which then happen twice."""
    for function in model.functions:
        cls = function.class_name
        if cls is None or not any(d.rpartition(".")[2] in CACHED_PROPERTIES
                                  for d in function.decorators):
            continue
        name = describe(("instance", cls, function.name))
        effects = block_effects(model, function.node.body)
        if effects is None:
            confidence, reason = Confidence.LOW, ("a cached property computes on first access "
                                                  "without a lock, but only computes: "
                                                  "duplicate work only")
        else:
            evidence = model.sharing_evidence.get(cls)
            confidence = Confidence.MEDIUM if evidence else Confidence.LOW
            reason = (f"a cached property computes on first access without a lock (since "
                      f"Python 3.12), so two threads can both run it; {effects}; "
                      + (f"{evidence}, so its objects are meant to be shared between threads"
                         if evidence else NO_SIGN))
        finding = Finding(function.node.name, rule.message.format(name=name), confidence,
                          reason, function)
        no_fix(finding, "compute it under a lock of the object and check again inside, or "
                        "keep side effects out of the property")
        yield finding
