from __future__ import annotations

from typing import Iterator

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.iteration import snapshot_dead_end, snapshot_fix
from ftlint.fixes.tree import code
from ftlint.rules.base import (
    defer, no_fix,
    Example, Finding, Rule, describe, grows_at_the_end, is_shared_write,
    shared_object_confidence, where,
)

_MUTATIONS = frozenset({
    "setitem", "delitem", "augitem", "append", "appendleft", "insert", "pop", "popleft",
    "popitem", "remove", "discard", "add", "clear", "setdefault", "extend", "extendleft",
    "update", "difference_update", "intersection_update", "symmetric_difference_update",
    "sort", "reverse", "rotate", "move_to_end",
})


# Weak containers iterate in Python (and the collector removes entries at
# any time): even `list(w)` is no atomic copy.
WEAK_KINDS = frozenset({"weakdict", "weakset"})


class UnguardedIteration(Rule):
    code = "FT206"
    name = "unguarded-iteration"
    brief = "iterating a shared container that other code mutates"
    message = "Iterating shared {name} without a lock while other code mutates it"
    summary = (
        "A `for` loop or comprehension over a shared container (through self, "
        "cls, a class or a global) that is mutated elsewhere at run time, with "
        "the iteration outside any lock. A class derived from `dict`, `list` or "
        "`set` that loops over itself (`for key in self`) while its methods "
        "add items counts too."
    )
    rationale = (
        "Iterating a dict or set while another thread adds or removes keys "
        "raises `RuntimeError: dictionary changed size during iteration`; a "
        "list being mutated is walked with skipped or repeated items. Under the "
        "GIL a short loop often finished before a switch; on the free-threaded "
        "build the mutation happens truly at the same time."
    )
    confidence_doc = (
        "high when reachable from a thread entry point; medium for containers on "
        "a class or module, or iterated in a public method; low otherwise. Low "
        "also for a `list` that only grows or shrinks at its end (`append`, "
        "`extend`, `+=`, `pop()`), wherever it runs: such a loop never fails and "
        "never skips an item that stays in the list. Low when only start-up "
        "code changes the container: a registry that `register_type()` fills, "
        "called from the module's top level or from `main()` and from nowhere "
        "else, is only read once threads run."
    )
    fix = "sometimes"
    fix_doc = (
        "For an exact built-in `dict`, `list` or `set` (and the `keys()`, "
        "`values()` and `items()` views of a dict, `defaultdict` or "
        "`Counter`), the fix iterates a snapshot: `for x in list(items):`, "
        "unless every change of the container already holds one lock of the "
        "program's and the loop calls nothing ftlint cannot see: then the loop "
        "takes that lock, as the code that changes the container does. "
        "On the free-threaded build `list()` copies such a container in one "
        "step while holding the container's own lock, so no mutation can land "
        "in the middle of the copy. Weak containers (`WeakSet`, "
        "`WeakKeyDictionary`, `WeakValueDictionary`) are different: their "
        "iterator runs in Python, so even `list(w.items())` is reported, with "
        "no automatic fix. Not every copy is one step: measured on 3.13t, "
        "`set(d.keys())`, `frozenset(d.keys())`, `dict(d.items())` and "
        "`tuple(d)` run the iterator and fail when the dict changes meanwhile, "
        "so they are reported too (copy with `list()` or `sorted()` instead). "
        "For any other container (a `deque`, an "
        "`OrderedDict`, an object of unknown type) copying is itself an "
        "iteration, so the fix instead puts the loop under the lock that "
        "already guards every mutation, when there is exactly one; otherwise "
        "the finding is left for a person. Safe: with one thread the loop "
        "sees the same items in the same order. A loop whose own body "
        "changes the container is left alone, because there a copy would "
        "change which items it visits; so is a statement that rebuilds the "
        "container from itself (`self.jobs[:] = (j for j in self.jobs if "
        "...)`), whose store would still drop a change made in between."
    )
    no_fix_doc = (
        "A loop that changes the container it iterates, a statement that "
        "rebuilds it from itself, a weak container, "
        "and a container that cannot be copied in one step with no single "
        "lock over its writes have no fix, and the message says what to do: "
        "collect the changes and make them after the loop (or loop over a copy "
        "when it must not see its own changes), or hold one lock over the loop "
        "and the writes (for a rebuild, one lock over it and the other writes). "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT206` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        def report(self):
            for name, value in list(self._stats.items()):
                print(name, value)
    '''
    VALID = (
        Example('''
            class Flusher:
                def __init__(self):
                    self.pending = []

                def add(self, item):
                    self.pending.append(item)

                def flush(self, send):
                    pending = self.pending
                    self.pending = []
                    for item in pending:
                        send(item)
        ''', "the loop runs over the old list, which the attribute no longer shares"),
        Example('''
            class Stats:
                def __init__(self):
                    self._stats = {}

                def add(self, name):
                    self._stats[name] = 1

                def report(self):
                    for name in list(self._stats):
                        print(name)
        ''', "iterating a snapshot"),
        Example('''
            class Stats:
                def __init__(self):
                    self._stats = {"a": 1}

                def report(self):
                    for name in self._stats:
                        print(name)
        ''', "never mutated after construction"),
    )
    INVALID = (
        Example('''
            class Stats:
                def __init__(self):
                    self._stats = {}

                def add(self, name):
                    self._stats[name] = 1

                def report(self):
                    for name in self._stats.items():  # expect: FT206[low]
                        print(name)
        ''', "a loop over a dict that add() mutates"),
    )

    FIX_EXAMPLES = (
        ('''
        class Stats:
            def __init__(self):
                self._stats = {}

            def add(self, name):
                self._stats[name] = 1

            def report(self):
                for name, value in self._stats.items():
                    print(name, value)
    ''', '''
        class Stats:
            def __init__(self):
                self._stats = {}

            def add(self, name):
                self._stats[name] = 1

            def report(self):
                for name, value in list(self._stats.items()):
                    print(name, value)
    '''),
        ('''
        import threading
        from collections import deque

        _pending = deque()
        _pending_lock = threading.Lock()

        def submit(job):
            with _pending_lock:
                _pending.append(job)

        def names():
            found = []
            for job in _pending:
                found.append(job.name)
            return found
    ''', '''
        import threading
        from collections import deque

        _pending = deque()
        _pending_lock = threading.Lock()

        def submit(job):
            with _pending_lock:
                _pending.append(job)

        def names():
            found = []
            with _pending_lock:
                for job in _pending:
                    found.append(job.name)
            return found
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for access in model.accesses:
            if (access.op not in ("iter", "snapshot")
                    or access.ref[0] not in ("instance", "class", "global", "attr")
                    or not is_shared_write(model, access) or model.access_guarded(access)):
                continue
            binding = model.binding(access.ref)
            weak = binding is not None and binding.kind in WEAK_KINDS
            copies = access.op == "snapshot" and not weak and _copy_iterates(access, binding)
            if access.op == "snapshot" and not weak and not copies:
                continue  # `list(d)` of a built-in container copies it in one step
            # A missing key of a defaultdict inserts one: `d[k].append(x)` grows d.
            inserts = binding is not None and binding.kind == "defaultdict"
            mutations = [w for w in model.writes(access.ref)
                         if (w.op in _MUTATIONS or (inserts and w.op.startswith("item.")))
                         and is_shared_write(model, w) and w.statement is not access.statement
                         and not _in_setup(w)]
            if not mutations:
                continue
            confidence, reason = shared_object_confidence(model, access)
            grows = binding is not None and grows_at_the_end(model, binding)
            if grows:
                # No error, and no item that stays in the list is skipped.
                confidence = Confidence.LOW
                reason = ("lowered: the list only grows or shrinks at its end (`append`, "
                          "`extend`, `pop()`), so a loop never fails and never skips an item "
                          f"that stays; at worst it sees one added meanwhile or misses one "
                          f"removed; {reason}")
            if copies:
                reason = (f"`{code(model, access.node)}` copies through an iterator, not in one "
                          "step (only `list()` and `sorted()` copy a dict view, and `tuple()` "
                          "only a list), so it fails when the container changes meanwhile; "
                          f"{reason}")
            elif access.op == "snapshot":
                reason = ("copying a weak container still runs its Python iterator, which "
                          f"fails when the container changes meanwhile; {reason}")
            finding = Finding.at(access, self.message.format(name=describe(access.ref)),
                                 confidence, f"{where(mutations[0])} mutates it; {reason}")
            if grows:
                finding.facts["benign"] = True  # threads reaching it do not make it worse
            if all(w.function is not None for w in mutations):
                # The project pass lowers it when only start-up code changes it.
                finding.facts["mutators"] = sorted({w.function.outermost.qualname
                                                    for w in mutations})
            if copies:
                no_fix(finding, "copy it with `list(...)`, which takes the container's lock "
                                "for the whole copy, or hold the lock that guards its writes")
            elif access.op == "snapshot":
                no_fix(finding, "copying a weak container is no snapshot: hold the lock that "
                                "guards its writes over the loop")
            elif snapshot_dead_end(model, access, mutations):
                no_fix(finding, snapshot_dead_end(model, access, mutations))
            else:
                finding.build = defer(snapshot_fix, access, mutations)
            yield finding


def _copy_iterates(access, binding) -> bool:
    """A copy that runs an iterator rather than copying under the
    container's lock: `set(d.keys())`, `dict(d.items())`, and `tuple(x)` of
    anything but a list."""
    if access.atomic:
        return False
    call = access.node
    if (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
            and call.func.value == "tuple" and call.args
            and call.args[0].value is not None and not isinstance(call.args[0].value, cst.Call)):
        return binding is not None and binding.kind not in ("list", "tuple")
    return True


def _in_setup(write) -> bool:
    """A change of an object's own state in its set-up code happens before
    threads use the object (see analysis.setup)."""
    return write.ref[0] == "instance" and write.function is not None and (
        write.function.in_setup is not None)
