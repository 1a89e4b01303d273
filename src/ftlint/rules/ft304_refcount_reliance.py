from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.threads import REFCOUNT
from ftlint.diagnostics import Confidence
from ftlint.rules.base import Example, Finding, Rule


class RefcountReliance(Rule):
    code = "FT304"
    name = "refcount-reliance"
    brief = "logic on `sys.getrefcount`"
    message = "Logic based on `sys.getrefcount` breaks on the free-threaded build"
    summary = "Decisions made on the value of `sys.getrefcount(obj)`."
    rationale = (
        "The free-threaded build makes many objects immortal and defers or "
        "splits reference counts between the owning thread and others, so "
        "`sys.getrefcount` returns very different numbers, and they change as "
        "other threads run. Checks such as 'is this the only reference, so I "
        "may mutate in place' are wrong there."
    )
    confidence_doc = "medium when the count is compared or tested; low for other uses."
    fix = "none"
    fix_doc = "Make ownership explicit (copy before mutating, or track it yourself). No automatic fix."
    use_instead = '''
        def append_item(items, item):
            return [*items, item]  # copy instead of guessing ownership
    '''
    VALID = (
        Example('''
            import sys

            def size(obj):
                return sys.getsizeof(obj)
        ''', "other sys functions"),
    )
    INVALID = (
        Example('''
            import sys

            def append_item(items, item):
                if sys.getrefcount(items) <= 2:  # expect: FT304[medium]
                    items.append(item)
                    return items
                return [*items, item]
        ''', "guessing that a reference is unique"),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for call in model.global_calls:
            if call.name in REFCOUNT:
                yield Finding(call.node, self.message,
                              Confidence.MEDIUM if call.in_test else Confidence.LOW,
                              "the count is compared" if call.in_test else "the count is used",
                              call.function and call.function)
