from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.fixes.locks import unit_of_work, wrap_fix
from ftlint.rules.base import (
    defer,
    Example, Finding, Rule, describe, is_shared_write, shared_object_confidence,
)


class ContainerReadModifyWrite(Rule):
    code = "FT202"
    name = "container-read-modify-write"
    brief = "`d[k] += 1`, `d[k] = d.get(k, 0) + 1` on shared containers"
    message = "Item of shared {name} is read, changed and written back without a lock"
    summary = (
        "`d[k] += 1`, `d[k] = d.get(k, 0) + 1`, `lst[i] = lst[i] + 1` on a "
        "container reached through `self`, `cls`, a class or a module global."
    )
    rationale = (
        "`d[k] += 1` is `d.__getitem__`, an add and `d.__setitem__`: each step "
        "takes the dict's lock on the free-threaded build, but nothing holds it "
        "across the three. Two threads read the same old count and one update "
        "is lost. Under the GIL the three steps almost always ran together."
    )
    confidence_doc = (
        "high when reachable from a thread entry point; medium for containers on "
        "a class or module, or mutated in a public method; low otherwise."
    )
    fix = "safe"
    fix_doc = (
        "Wrap the statement in the lock that guards the container (a new "
        "module, class or instance lock named after it). Safe: single-threaded "
        "behaviour is unchanged. For counting, `collections.Counter.update` is "
        "not atomic either; keep the lock."
    )
    use_instead = '''
        import threading
        from collections import Counter

        _hits = Counter()
        _hits_lock = threading.Lock()

        def hit(path):
            with _hits_lock:
                _hits[path] += 1
    '''
    supersedes = ("FT101", "FT104", "FT105", "FT106")
    VALID = (
        Example('''
            import threading

            class Stats:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.counts = {}

                def hit(self, key):
                    with self._lock:
                        self.counts[key] = self.counts.get(key, 0) + 1
        ''', "guarded"),
        Example('''
            def tally(words):
                counts = {}
                for word in words:
                    counts[word] = counts.get(word, 0) + 1
                return counts
        ''', "a local dict"),
    )
    INVALID = (
        Example('''
            class Stats:
                def __init__(self):
                    self.counts = {}

                def hit(self, key):
                    self.counts[key] = self.counts.get(key, 0) + 1  # expect: FT202[low]
        ''', "counting on self (low until something shows the object is shared)"),
        Example('''
            _totals = {}

            def add(key, value):
                _totals[key] += value  # expect: FT202[medium]
        ''', "augmented item assignment on a global"),
    )

    FIX_EXAMPLES = (
        ('''
        from collections import Counter

        _hits = Counter()

        def hit(path):
            _hits[path] += 1
    ''', '''
        import threading
        from collections import Counter

        _hits = Counter()
        _hits_lock = threading.Lock()

        def hit(path):
            with _hits_lock:
                _hits[path] += 1
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for compound in model.compounds:
            write = compound.write
            if (compound.kind != "rmw" or write is None
                    or write.op not in ("augitem", "setitem")
                    or not is_shared_write(model, write)
                    or model.guarded(compound.locks) or model.access_guarded(write)):
                continue
            confidence, reason = shared_object_confidence(model, write)
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, f"a read-modify-write of one item: updates are lost; {reason}")
            finding.build = defer(wrap_fix, compound.ref, unit_of_work(model, write), write)
            yield finding
