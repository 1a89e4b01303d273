from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.fixes.locks import double_checked_fix
from ftlint.rules.context import lazy_init_confidence
from ftlint.rules.base import (
    Example, Finding, Rule, describe, is_shared_write, shared_object_confidence,
)


class LazyAttributeInit(Rule):
    code = "FT204"
    name = "lazy-attribute-init"
    message = "Attribute {name} is initialised lazily without a lock; threads can build it twice"
    summary = (
        "`if self._x is None: self._x = build()`, `if cls._instance is None: "
        "cls._instance = cls()` singletons, and the same through `hasattr` or "
        "`getattr(..., None)`."
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
        "singletons (`cls()`: callers can hold different instances), and for "
        "objects shared between threads when the guarded block does more than "
        "build and store the value (it calls something, changes other shared "
        "state, or fills the value after storing it). Low when the block only "
        "builds and stores a value (duplicate work only), and for objects with "
        "no sign that several threads use them."
    )
    fix = "safe"
    fix_doc = (
        "Double-checked locking: keep the unlocked fast path, take the lock, "
        "test again, then build. Safe: with one thread nothing changes. "
        "`functools.cached_property` is not a fix: since Python 3.12 it no "
        "longer locks."
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
            confidence, reason = lazy_init_confidence(
                model, compound, confidence,
                f"the unset test and the assignment are separate steps; {reason}")
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, reason)
            finding.fix = double_checked_fix(model, compound.ref, compound.node, write)
            yield finding
