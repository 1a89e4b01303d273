from __future__ import annotations

from typing import Iterator

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.iteration import next_lock_fix
from ftlint.rules.base import (
    defer, no_fix,
    Example, Finding, Rule, describe, shared_object_confidence,
)


class SharedIterator(Rule):
    code = "FT301"
    name = "shared-iterator"
    brief = "a generator or iterator consumed from several threads"
    message = "Iterator {name} is shared; consuming it from several threads is not safe"
    summary = (
        "A generator or iterator stored at module, class or instance level and "
        "consumed at run time with `next()` or a `for` loop, or one local "
        "iterator passed to several threads (`Thread(args=(rows,))` in a loop)."
    )
    rationale = (
        "Iterators and generators must not be shared between threads. A "
        "generator resumed by two threads at once raises `ValueError: "
        "generator already executing`; other iterators hand the same item to "
        "two threads or skip items. The GIL serialised most `next()` calls; "
        "without it they overlap."
    )
    confidence_doc = (
        "high when one iterator is handed to several threads, or when reachable "
        "from a thread entry point; medium for module- and "
        "class-level iterators, or instance iterators used in a public method; "
        "low otherwise. An `itertools.count()` is always low: its `next()` is one "
        "atomic step on the free-threaded build (CPython 3.13 and later), so "
        "threads sharing it still get distinct numbers; only their order varies."
    )
    fix = "sometimes"
    fix_doc = (
        "For `next()` on a shared iterator, the fix holds a lock named after "
        "the iterator (`_ids_lock` for a module-level one, `self._lock` for an "
        "instance's) around the statement that calls it, so one thread at a "
        "time advances it. Safe: with one thread the same items come out in "
        "the same order. A `for` loop over a shared iterator and one iterator "
        "handed to several threads are left alone: holding a lock for a whole "
        "loop would let one thread take every item, so there the right change "
        "(an iterator per thread, or a `queue.Queue`) is the author's to make."
    )
    no_fix_doc = (
        "An iterator handed to several threads has no fix: give each thread "
        "its own iterator, or hand the items out through a `queue.Queue` (the "
        "message says so). "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT301` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import threading

        def _rows():
            yield from range(10)

        _source = _rows()
        _source_lock = threading.Lock()

        def take():
            with _source_lock:
                return next(_source)
    '''
    VALID = (
        Example('''
            def numbers():
                yield 1
                yield 2

            def total():
                return sum(numbers())
        ''', "a fresh generator per call"),
        Example('''
            import itertools
            import threading
            _ids = itertools.count()
            _lock = threading.Lock()

            def next_id():
                with _lock:
                    return next(_ids)
        ''', "next() under a lock"),
    )
    INVALID = (
        Example('''
            import itertools
            _ids = itertools.count()

            def next_id():
                return next(_ids)  # expect: FT301[low]
        ''', "a module-level `itertools.count()`: low, its `next()` is atomic without the GIL"),
        Example('''
            def _rows():
                yield from range(10)

            _source = _rows()

            def take():
                return next(_source)  # expect: FT301[medium]
        ''', "a module-level generator"),
        Example('''
            import threading

            def process(rows, worker):
                source = iter(rows)
                for _ in range(4):
                    threading.Thread(target=worker, args=(source,)).start()  # expect: FT301[high]
        ''', "one iterator handed to four threads"),
    )

    FIX_EXAMPLES = (
        ('''
        def _rows():
            yield from range(10)

        _source = _rows()

        def take():
            return next(_source)
    ''', '''
        import threading


        def _rows():
            yield from range(10)

        _source = _rows()
        _source_lock = threading.Lock()

        def take():
            with _source_lock:
                return next(_source)
    '''),
    )

    def _handoffs(self, model: ModuleModel, generators: set[str]) -> Iterator[Finding]:
        """One local iterator passed to several threads (in a loop, or twice)."""
        groups: dict[tuple, list] = {}
        for handoff in model.iterator_handoffs:
            value = handoff.value
            is_iterator = not isinstance(value, cst.Call) or not isinstance(value.func, cst.Name) \
                or value.func.value in generators or value.func.value in ("iter", "count", "cycle")
            if isinstance(value, cst.GeneratorExp):
                is_iterator = True
            if is_iterator:
                key = (id(handoff.function), handoff.name)
                groups.setdefault(key, []).append(handoff)
        for handoffs in groups.values():
            if len(handoffs) < 2 and not handoffs[0].in_loop:
                continue
            first = handoffs[0]
            confidence, reason = Confidence.HIGH, "the same iterator object is handed to several threads"
            if _is_count(model, first.value):
                confidence, reason = Confidence.LOW, (
                    f"{reason}, but an `itertools.count()`, whose `next()` is one atomic step on "
                    "the free-threaded build (CPython 3.13 and later)")
            finding = Finding(first.node, self.message.format(name=f"`{first.name}`"),
                              confidence, reason, first.function)
            if confidence is Confidence.LOW:
                finding.facts["atomic"] = True
            yield no_fix(finding,
                         "give each thread its own iterator, or hand the items out through a "
                         "`queue.Queue`")

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        generators = {f.qualname for f in model.functions if f.is_generator}
        iterators = set()
        for ref, binding in model.bindings.items():
            value = binding.node
            if binding.kind == "iterator" or (
                    isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                    and value.func.value in generators):
                iterators.add(ref)
        yield from self._handoffs(model, generators)
        for access in model.accesses:
            if (access.ref not in iterators or access.op not in ("next", "iter")
                    or access.import_time or model.access_guarded(access)):
                continue
            counter = _is_count(model, model.bindings[access.ref].node)
            if counter:
                confidence, reason = Confidence.LOW, (
                    "an `itertools.count()`: its `next()` is one atomic step on the free-threaded "
                    "build (CPython 3.13 and later), so threads still get distinct numbers")
            else:
                confidence, reason = shared_object_confidence(model, access)
                reason = f"one iterator object consumed wherever this runs; {reason}"
            finding = Finding.at(access, self.message.format(name=describe(access.ref)),
                                 confidence, reason)
            if counter:
                finding.facts["atomic"] = True  # threads reaching it do not raise it
            finding.build = defer(next_lock_fix, access)
            yield finding


def _is_count(model: ModuleModel, value: cst.CSTNode) -> bool:
    """``itertools.count(...)`` (however it was imported)."""
    return isinstance(value, cst.Call) and model.qualify(value.func) == "itertools.count"
