from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import Access, ModuleModel, Mutability
from ftlint.analysis.names import MUTATORS
from ftlint.rules.base import (
    Example, Finding, Rule, describe_start, is_shared_write, no_fix, shared_object_confidence,
)
from ftlint.rules.context import copy_of_itself

_FILLS = frozenset(MUTATORS) | {"setitem", "augitem"}


class PublishBeforePopulate(Rule):
    code = "FT207"
    name = "publish-before-populate"
    brief = "an empty container assigned to shared state, then filled in place"
    message = "{name} is published empty and then filled in place; other threads can see it half built"
    summary = (
        "A function assigns a new, empty (or partly built) container to shared "
        "state and only then fills it: `self.table = {}` followed by "
        "`self.table[k] = v` in a loop."
    )
    rationale = (
        "The assignment makes the container visible to every thread at once. "
        "Until the loop ends, readers find it empty or half filled: a lookup "
        "misses a key that is about to arrive, an iteration sees part of the "
        "rules. With the GIL a rebuild often ran without a thread switch; on "
        "the free-threaded build readers run right through it."
    )
    confidence_doc = (
        "high when the function is reachable from a thread entry point; medium "
        "for module and class state, and for objects with evidence that "
        "several threads use them (a lock of their own, a module-level "
        "instance); low otherwise, in constructors' helpers and in set-up code. "
        "A copy of the state's own items (`cls.settings = dict(cls.settings)`, "
        "`self.items = self.items.copy()`) is not reported: readers never see "
        "it empty, and adding to it next is an update of the state, not a "
        "half-built container."
    )
    fix = "none"
    fix_doc = (
        "No automatic fix: moving every use of the attribute in between to a "
        "local is a rewrite a reviewer should see. Build the container in a "
        "local variable and publish it with one assignment when it is "
        "complete; a single store is atomic, so readers see the old value or "
        "the new one, never a half-built one."
    )
    no_fix_doc = (
        "No fix: build the container in a local variable and assign it once, "
        "when it is complete (the message says so). "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT207` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        class Index:
            def rebuild(self, items):
                table = {}
                for item in items:
                    table[item.key] = item
                self.table = table  # one atomic publish
    '''
    known_problems = (
        "Only a fill in the same function as the assignment is seen. A "
        "container that readers never use before the function returns (the "
        "object is not published yet) is reported all the same; the "
        "confidence then rests on the evidence of sharing."
    )
    VALID = (
        Example('''
            class Index:
                def __init__(self, items):
                    self.table = {}
                    for item in items:
                        self.table[item.key] = item
        ''', "in a constructor the object is not shared yet"),
        Example('''
            class Index:
                def rebuild(self, items):
                    table = {}
                    for item in items:
                        table[item.key] = item
                    self.table = table
        ''', "built in a local, published once"),
        Example('''
            import threading

            class Index:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.table = {}

                def rebuild(self, items):
                    with self._lock:
                        self.table = {}
                        for item in items:
                            self.table[item.key] = item
        ''', "readers that take the same lock wait for the rebuild"),
    )
    INVALID = (
        Example('''
            import threading

            class Index:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.table = {}

                def rebuild(self, items):
                    self.table = {}  # expect: FT207[medium]
                    for item in items:
                        self.table[item.key] = item

                def get(self, key):
                    with self._lock:
                        return self.table.get(key)
        ''', "a rebuild readers can watch"),
        Example('''
            _routes = []

            def reload(config):
                global _routes
                _routes = []  # expect: FT207[medium]
                for rule in config:
                    _routes.append(rule)
        ''', "module state refilled in place"),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        published: dict = {}  # (ref, function) -> the unguarded assignment of a new container
        reported = set()
        for access in model.accesses:
            ref = access.ref
            if ref[0] not in ("instance", "class", "global") or access.function is None:
                continue
            key = (ref, id(access.function))
            if access.op in ("rebind", "setattr"):
                if (_new_container(access) and not copy_of_itself(model, access.node)
                        and not model.access_guarded(access)
                        and is_shared_write(model, access)):
                    published[key] = access
                else:
                    published.pop(key, None)
            elif access.write and access.op in _FILLS and key in published and key not in reported:
                reported.add(key)
                publish = published[key]
                confidence, reason = shared_object_confidence(model, publish)
                filled = model.module.code_for_node(access.node).strip()[:50]
                finding = Finding.at(publish, self.message.format(name=describe_start(ref)),
                                     confidence, f"the new container is visible to other "
                                                 f"threads before `{filled}` fills it; {reason}")
                no_fix(finding, "build the container in a local variable and assign it "
                                "once, when it is complete")
                yield finding


def _new_container(access: Access) -> bool:
    return access.assigned is not None and access.assigned[0] is Mutability.MUTABLE
