from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import unit_of_work, wrap_fix
from ftlint.rules.base import Example, Finding, Rule, describe, defer, no_fix


class FunctionAttributeState(Rule):
    code = "FT106"
    name = "function-attribute-state"
    brief = "`func.calls += 1`, state stored on function objects"
    message = "State stored on function {name} is changed at run time without a lock"
    summary = (
        "State kept as an attribute of a function object (`func.calls += 1`, "
        "`func.cache[key] = value`) and changed when the function runs."
    )
    rationale = (
        "A function object is a module global. Counters and caches hung on it "
        "are shared by every thread, and `func.calls += 1` is a read, an add "
        "and a store: on the free-threaded build concurrent calls lose counts "
        "and caches are built twice."
    )
    confidence_doc = (
        "medium for a read-modify-write or a compound container update; low for "
        "a plain assignment or a lone atomic operation."
    )
    fix = "sometimes"
    fix_doc = (
        "The fix adds a module-level lock named after the function and the "
        "attribute (`_handler_calls_lock`), placed just before the function, "
        "and wraps the whole read-modify-write or check-then-act in it. Safe: "
        "single-threaded behaviour is unchanged. A plain store "
        "(`lookup.last = key`) is left alone: it is atomic, and a lock around "
        "it alone changes nothing."
    )
    no_fix_doc = (
        "A single store on the function object is atomic: a lock around it "
        "alone changes nothing, so it has no fix and its message says so. "
        "Guard the code that reads the attribute and acts on it, or add "
        "`# noqa: FT106` where a stale value does no harm. "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT106` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import threading

        _calls_lock = threading.Lock()

        def handler():
            with _calls_lock:
                handler.calls += 1

        handler.calls = 0
    '''
    VALID = (
        Example('''
            def handler():
                return 1

            handler.calls = 0
            handler.__doc__ = "Handle it."
        ''', "attributes set at import time"),
        Example('''
            import threading
            _lock = threading.Lock()

            def handler():
                with _lock:
                    handler.calls += 1

            handler.calls = 0
        ''', "guarded"),
    )
    INVALID = (
        Example('''
            def handler():
                handler.calls += 1  # expect: FT106[medium]

            handler.calls = 0
        ''', "a counter on the function"),
        Example('''
            def lookup(key):
                lookup.last = key  # expect: FT106[low]
        ''', "remembering the last call"),
    )

    FIX_EXAMPLES = (
        ('''
        import threading

        def handler():
            handler.calls += 1

        handler.calls = 0
    ''', '''
        import threading

        _handler_calls_lock = threading.Lock()

        def handler():
            with _handler_calls_lock:
                handler.calls += 1

        handler.calls = 0
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for access in model.accesses:
            if (access.ref[0] != "funcattr" or not access.write or access.import_time
                    or model.access_guarded(access)):
                continue
            compound = model.compound_for(access)
            if compound is not None and model.guarded(compound.locks):
                continue
            if compound is not None or not access.atomic:
                confidence = Confidence.MEDIUM
                reason = "a compound update: concurrent calls lose updates"
            else:
                confidence = Confidence.LOW
                reason = "a single store; it races with other calls' stores and reads"
            finding = Finding.at(access, self.message.format(name=describe(access.ref)),
                                 confidence, reason)
            if confidence is Confidence.MEDIUM:
                finding.build = defer(wrap_fix, access.ref, unit_of_work(model, access), access)
            else:
                no_fix(finding, "a single store is atomic and a lock around it alone changes "
                                "nothing: guard the code that reads it and acts on it, or add "
                                f"`# noqa: {self.code}` if a stale value does no harm")
            yield finding
