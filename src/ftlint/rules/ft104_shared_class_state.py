from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.fixes.locks import container_lock_fix
from ftlint.rules.base import (
    lone_atomic_advice, no_fix,
    defer,
    Example, Finding, Rule, container_write_confidence, describe,
    mutable_bindings, unguarded_runtime_writes,
)


class SharedClassState(Rule):
    code = "FT104"
    name = "shared-class-state"
    brief = "a class-level container mutated through `self`/`cls`"
    message = "Class-level {name} is shared by all instances and mutated without a lock"
    summary = (
        "A mutable container defined in a class body and mutated at run time "
        "through `self`, `cls` or the class name."
    )
    rationale = (
        "A container in the class body is one object shared by every instance "
        "and every thread. `self.items.append(x)` does not create a per-instance "
        "list; it mutates the class's list. With the GIL, compound updates of it "
        "rarely interleaved; on the free-threaded build instances used by "
        "different threads corrupt each other's view of it and lose updates."
    )
    confidence_doc = (
        "medium when the container is also iterated at run time without a lock "
        "and the write is not one atomic step, and for a compound update; low "
        "for a lone atomic operation (against an unlocked loop too: the loop is "
        "what breaks, and FT206 reports it there). Code "
        "reachable from a thread entry point raises a non-atomic write to high."
    )
    fix = "sometimes"
    fix_doc = (
        "If the state was meant per instance, create it in `__init__`. If it "
        "is meant to be shared, guard every mutation with a class-level lock "
        "named after it (`_counts_lock = threading.Lock()` in the class body)."
    )
    no_fix_doc = (
        "A lone atomic operation on a class-level container that a loop "
        "elsewhere iterates without a lock is not fixed where it is (a lock "
        "around it alone changes nothing); the message names the loop: copy "
        "the container there in one step, or guard the loop and the writes "
        "with one class lock. Other declined shapes are guarded by hand. "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT104` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        class Pool:
            def __init__(self):
                self.free = []  # one list per instance

            def release(self, conn):
                self.free.append(conn)
    '''
    VALID = (
        Example('''
            class Pool:
                free = []

                def __init__(self):
                    self.free = []

                def release(self, conn):
                    self.free.append(conn)
        ''', "shadowed by an instance attribute in __init__"),
        Example('''
            import threading

            class Registry:
                _items = {}
                _lock = threading.Lock()

                @classmethod
                def add(cls, key, value):
                    with cls._lock:
                        cls._items[key] = value
        ''', "guarded by a class lock"),
        Example('''
            class Config:
                defaults = {"debug": False}

                def get(self, key):
                    return self.defaults[key]
        ''', "only read"),
    )
    INVALID = (
        Example('''
            class Pool:
                free = []

                def release(self, conn):
                    self.free.append(conn)  # expect: FT104[low]
        ''', "a class list mutated through self"),
        Example('''
            class Stats:
                counts = {}

                @classmethod
                def hit(cls, key):
                    cls.counts[key] = cls.counts.get(key, 0) + 1  # expect: FT104[medium]
        ''', "read-modify-write through cls"),
    )

    FIX_EXAMPLES = (
        ('''
        class Registry:
            counts = {}

            def hit(self, key):
                self.counts[key] = self.counts.get(key, 0) + 1
    ''', '''
        import threading


        class Registry:
            _counts_lock = threading.Lock()
            counts = {}

            def hit(self, key):
                with self._counts_lock:
                    self.counts[key] = self.counts.get(key, 0) + 1
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for binding in mutable_bindings(model, "class"):
            for access in unguarded_runtime_writes(model, binding.ref):
                confidence, reason = container_write_confidence(model, access, binding)
                finding = Finding.at(access, self.message.format(name=describe(binding.ref)),
                                     confidence, reason)
                finding.build = defer(container_lock_fix, binding.ref, access)
                advice = lone_atomic_advice(model, access, self.code)
                if advice is not None:
                    no_fix(finding, advice)
                yield finding
