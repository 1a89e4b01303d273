from __future__ import annotations

from typing import Iterator

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.names import SNAPSHOT_CALLS
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import unit_of_work, wrap_fix
from ftlint.rules.context import (
    constant_set_confidence, copy_of_itself, mark_benign, unread_counter,
)
from ftlint.rules.base import (
    defer,
    Example, Finding, Rule, describe, is_shared_write, shared_object_confidence,
)

_ATTRIBUTE_REFS = ("instance", "class", "attr")


class AttributeReadModifyWrite(Rule):
    code = "FT201"
    name = "attribute-read-modify-write"
    brief = "`self.n += 1`, `obj.x = obj.x + y` on shared objects"
    message = "Attribute {name} is read, changed and written back without a lock"
    summary = (
        "`self.n += 1`, `obj.x = obj.x + y`, `self.x = f(self.x)` or a "
        "check-then-set of an attribute, on an object other threads can reach."
    )
    rationale = (
        "An attribute update is a load, a computation and a store. With the "
        "GIL a thread switch between them was rare. On the free-threaded build "
        "two threads calling `counter.increment()` on the same object both "
        "load 5 and both store 6: one increment is lost, silently."
    )
    confidence_doc = (
        "high when the method is reachable from a thread entry point, unless "
        "every write of the attribute runs on one dedicated thread (a `Thread` "
        "subclass's `run`, one `Thread(target=...)` started outside loops): then "
        "low, since that thread owns it. Writes a `Thread` subclass's own "
        "`start()` makes before `super().start()` count as set-up, as "
        "`__init__`'s do; a control method that code outside the thread also "
        "calls (a public `stop()` or `close()` another object calls on the "
        "thread object it keeps) is not the thread's own, nor what it calls. Medium for "
        "a public method, or state on a class or module object; low otherwise. "
        "A check-then-set that stores a constant (a literal, or a named one such "
        "as an enum member, `State.STOPPED`) and does nothing else in its "
        "block is low: whichever thread wins, the outcome is the same. A count "
        "that nothing in the module reads (`self.hits += 1`, a statistic kept "
        "for callers, shown only by `__repr__` or by a method that returns "
        "only text, such as a stats line) is at most medium, even on threads: "
        "a lost update skews the figure, and no decision of the code depends "
        "on it. A thread the class starts is a sign of sharing only for the "
        "attributes that thread writes: one it only reads or hands to a "
        "function (`consume(self.params)`) cannot lose an update of the "
        "owner's, so that write stays low. A classmethod's copy-on-write of a "
        "class registry (`cls.handlers = cls.handlers.copy()`, `cls.names += "
        "tuple(...)`), by which a class gets its own registry before adding "
        "to it, is low: it registers, and registration runs while the program "
        "sets its classes up (a number bumped there, `cls._next_id += 1`, "
        "stays)."
    )
    fix = "safe"
    fix_doc = (
        "Wrap the update in `with self._lock:`. A new lock is one class "
        "attribute, `_lock = threading.Lock()`: unlike a lock set in `__init__` "
        "it survives `pickle` and `copy.deepcopy` and works with `__slots__` "
        "and frozen dataclasses, at the price of one lock for all instances. "
        "Where the instance already holds something that cannot be pickled "
        "(a thread, a queue, a socket), `self._lock` goes first in `__init__`. "
        "An existing lock of the class is reused. Safe: single-threaded "
        "behaviour is unchanged; a region that calls out (a callback, I/O, "
        "another object's method) is declined, since holding a lock there "
        "could deadlock."
    )
    use_instead = '''
        import threading

        class Counter:
            _lock = threading.Lock()

            def __init__(self):
                self.value = 0

            def increment(self):
                with self._lock:
                    self.value += 1
    '''
    known_problems = (
        "Objects reached through parameters or locals are assumed unshared: "
        "only `self`, `cls`, classes and module-level objects are tracked."
    )
    supersedes = ("FT104", "FT106")
    VALID = (
        Example('''
            class Counter:
                def __init__(self):
                    self.value = 0
                    self.value += 1
        ''', "in __init__ the object is still under construction"),
        Example('''
            import threading

            class Counter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.value = 0

                def increment(self):
                    with self._lock:
                        self.value += 1
        ''', "guarded"),
        Example('''
            class Point:
                pass

            def build():
                p = Point()
                p.x = 1
                p.x += 1
                return p
        ''', "a local object that has not escaped"),
    )
    INVALID = (
        Example('''
            class Counter:
                def __init__(self):
                    self.value = 0

                def increment(self):
                    self.value += 1  # expect: FT201[medium]

            REQUESTS = Counter()  # one instance, shared by the whole module
        ''', "a counter on a module-level instance"),
        Example('''
            class Stats:
                def _observe(self, value):
                    if value > self.peak:
                        self.peak = value  # expect: FT201[low]
        ''', "check-then-set in a private method"),
    )

    FIX_EXAMPLES = (
        ('''
        class Counter:
            def __init__(self):
                self.value = 0

            def increment(self):
                self.value += 1

        REQUESTS = Counter()
    ''', '''
        import threading


        class Counter:
            _lock = threading.Lock()

            def __init__(self):
                self.value = 0

            def increment(self):
                with self._lock:
                    self.value += 1

        REQUESTS = Counter()
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for compound in model.compounds:
            write = compound.write
            if (compound.kind not in ("rmw", "check-then-set") or write is None
                    or compound.ref[0] not in _ATTRIBUTE_REFS
                    or write.op not in ("augattr", "setattr")
                    or not is_shared_write(model, write)
                    or model.guarded(compound.locks) or model.access_guarded(write)):
                continue
            # A lost update needs a second writer: a thread that only reads
            # the attribute (or hands it on) is no sign of one.
            confidence, reason = shared_object_confidence(model, write, writes=True)
            what = "read-modify-write" if compound.kind == "rmw" else "check-then-set"
            confidence, reason = constant_set_confidence(
                model, compound, confidence, f"a {what}: concurrent updates are lost; {reason}")
            if confidence > Confidence.LOW and _registry_copy(model, compound, write):
                confidence, reason = Confidence.LOW, (
                    f"{reason}; low: a classmethod that gives the class its own copy of a "
                    "class registry before extending it registers, and registration runs "
                    "while the program sets its classes up")
            statistic = unread_counter(model, compound.ref) if confidence > Confidence.LOW else None
            if statistic:
                confidence, reason = Confidence.MEDIUM, f"{reason}; medium: {statistic}"
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, reason)
            finding.build = defer(wrap_fix, compound.ref, unit_of_work(model, write), write)
            mark_benign(finding)
            if statistic:
                finding.facts["benign"] = True  # threads reaching it do not raise it
            yield finding


def _registry_copy(model: ModuleModel, compound, write) -> bool:
    """`cls.handlers = cls.handlers.copy()`, `cls.names = dict(cls.names)` or
    `cls.names += tuple(...)` in a classmethod: the copy-on-write by which a
    class (or a subclass) gets its own registry. Numbers are not registries:
    `cls._next_id += 1` stays."""
    function = write.function
    if function is None or function.kind != "classmethod" or compound.ref[0] != "class":
        return False
    node = write.node
    if isinstance(node, cst.AugAssign):
        value = node.value
        return (isinstance(node.operator, (cst.AddAssign, cst.BitOrAssign))
                and (isinstance(value, (cst.Tuple, cst.List, cst.Set, cst.Dict, cst.ListComp,
                                        cst.SetComp, cst.DictComp))
                     or (isinstance(value, cst.Call)
                         and model.module.code_for_node(value.func).strip() in SNAPSHOT_CALLS)))
    return copy_of_itself(model, node)
