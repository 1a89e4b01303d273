from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import unit_of_work, wrap_fix
from ftlint.rules.context import (
    configures_module, constant_set_confidence, mark_benign, published_half_built,
)
from ftlint.rules.base import Example, Finding, Rule, describe, defer, no_fix


class GlobalReadModifyWrite(Rule):
    code = "FT102"
    name = "global-read-modify-write"
    brief = "`global x` then `x += 1`, `x = f(x)`, or check-then-set of a global"
    message = "Global {name} is read, changed and written back without a lock"
    summary = (
        "A function that declares `global x` and then updates it from its own "
        "value: `x += 1`, `x = f(x)`, or a check followed by a set, including a "
        "flag checked under one lock and set under another."
    )
    rationale = (
        "`x += 1` on a global is a load, an add and a store. Under the GIL a "
        "thread switch between them was rare; on the free-threaded build two "
        "threads routinely load the same value and one increment is lost. The "
        "same holds for `if x < n: x = n`, where another thread can change `x` "
        "between the test and the store."
    )
    confidence_doc = (
        "medium for an unguarded read-modify-write or check-then-set of a "
        "global at run time. Low for a check-then-set that stores a constant "
        "(a literal, or a named one such as an enum member) "
        "and does nothing else in its block (a warning or a log line aside): "
        "whichever thread wins, the outcome is the same. Low in a module-level "
        "function named for configuring the module (`setup_*()`, `set_*()`, "
        "`reset_*()`, `init_*()`, `configure_*()`, `enable_*()`, `teardown_*()`): "
        "programs call these while they set up, one call at a time. Reached "
        "from a thread entry point, it is raised again. High when the check "
        "stores a new object and the same block then sets it up in place "
        "(`_ctx = create_context()` then `_ctx.load_cert_chain(...)`): a "
        "thread that finds it stored meanwhile uses it half set up, which is "
        "a wrong result, not duplicate work."
    )
    fix = "safe"
    fix_doc = (
        "Wrap the update in `with _x_lock:`, a module lock added next to the "
        "global. This is safe: with one thread the code does the same thing."
    )
    use_instead = '''
        import threading

        _count = 0
        _count_lock = threading.Lock()

        def hit():
            global _count
            with _count_lock:
                _count += 1
    '''
    VALID = (
        Example('''
            import threading
            _count = 0
            _count_lock = threading.Lock()

            def hit():
                global _count
                with _count_lock:
                    _count += 1
        ''', "guarded"),
        Example('''
            _count = 0

            def bump():
                count = _count
                count += 1
                return count
        ''', "a local copy"),
        Example('''
            _count = 0
            _count += 1
        ''', "import time"),
    )
    INVALID = (
        Example('''
            _count = 0

            def hit():
                global _count
                _count += 1  # expect: FT102[medium]
        ''', "augmented assignment"),
        Example('''
            _peak = 0

            def observe(value):
                global _peak
                if value > _peak:
                    _peak = value  # expect: FT102[medium]
        ''', "check-then-set"),
        Example('''
            _total = 0

            def add(value):
                global _total
                _total = _total + value  # expect: FT102[medium]
        ''', "x = x + y"),
        Example('''
            import threading

            _check_lock = threading.Lock()
            _start_lock = threading.Lock()
            _started = False

            def start():
                global _started
                with _check_lock:
                    if _started:
                        return
                with _start_lock:
                    _started = True  # expect: FT102[medium]
                    launch()
        ''', "a flag checked under one lock and set under another"),
    )

    FIX_EXAMPLES = (
        ('''
        _total_requests = 0

        def handle(request):
            global _total_requests
            _total_requests += 1
    ''', '''
        import threading

        _total_requests = 0
        _total_requests_lock = threading.Lock()

        def handle(request):
            global _total_requests
            with _total_requests_lock:
                _total_requests += 1
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for compound in model.compounds:
            write = compound.write
            if (compound.kind not in ("rmw", "check-then-set") or compound.ref[0] != "global"
                    or write is None or write.op not in ("rebind", "augassign")
                    or write.import_time or model.unit_guarded(compound)
                    or (model.access_guarded(write) and not model.split_locks(compound))):
                continue
            what = "a read-modify-write" if compound.kind == "rmw" else "a check followed by a set"
            confidence, reason = constant_set_confidence(
                model, compound, Confidence.MEDIUM,
                f"{what} of a global: another thread can write between the read and the store")
            if model.split_locks(compound):
                read = ", ".join(f"`{k}`" for k in compound.locks if model.is_lock(k))
                wrote = ", ".join(f"`{k}`" for k in write.locks if model.is_lock(k))
                finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                     Confidence.MEDIUM,
                                     f"read under {read} and written under {wrote}: each step "
                                     "is locked, the pair is not, so two threads can both pass "
                                     "the check")
                yield no_fix(finding, "hold one lock over the check and the write")
                continue
            configures = configures_module(write.function)
            if configures and confidence > Confidence.LOW:
                confidence, reason = Confidence.LOW, f"{reason}; low: {configures}"
            confidence, reason = published_half_built(model, write, confidence, reason)
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, reason)
            finding.build = defer(wrap_fix, compound.ref, unit_of_work(model, write), write)
            mark_benign(finding)
            yield finding
