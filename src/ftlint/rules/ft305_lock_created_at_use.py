from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.hoist import hoist_fix
from ftlint.rules.base import Example, Finding, Rule, defer


class LockCreatedAtUse(Rule):
    code = "FT305"
    name = "lock-created-at-use"
    brief = "`with threading.Lock():`, a fresh lock that guards nothing"
    message = "A new `{name}` is created right where it is used; it guards nothing"
    summary = (
        "`with threading.Lock():`, `threading.Lock().acquire()`, or a lock bound "
        "to a local that never leaves the function: a fresh lock per call."
    )
    rationale = (
        "Each call creates its own lock, so no two threads ever contend for "
        "the same one and the block runs unprotected. Under the GIL such code "
        "often seemed to work because the block was short; without it, the "
        "'locked' section races like any other code."
    )
    confidence_doc = "always high: such a lock cannot exclude anything."
    fix = "sometimes"
    fix_doc = (
        "The fix creates the lock once, at module level just before the "
        "function, named after it (`_update_lock`, `_Account_deposit_lock` "
        "for a method), with the constructor as written, and uses that object "
        "where the fresh one was made: in the `with`, before `.acquire()`, or "
        "as the local's value. A plain `Lock` whose region calls back into the "
        "module becomes an `RLock`, so a recursive call cannot deadlock. Safe: "
        "with one thread nothing changes. The lock is module-wide, so it also "
        "serialises calls on different instances: correct, if coarser than an "
        "instance lock. Left alone: a region that yields or awaits, that takes "
        "another lock (a shared lock would fix an order other code may "
        "reverse), or whose lock takes arguments that may be local."
    )
    use_instead = '''
        import threading

        _lock = threading.Lock()

        def update(state):
            with _lock:
                state.count += 1
    '''
    VALID = (
        Example('''
            import threading
            _lock = threading.Lock()

            def update(state):
                with _lock:
                    state.count += 1
        ''', "one shared lock"),
    )
    INVALID = (
        Example('''
            import threading

            def update(state):
                with threading.Lock():  # expect: FT305[high]
                    state.count += 1
        ''', "a lock per call"),
        Example('''
            from threading import RLock

            def update(state):
                lock = RLock().acquire()  # expect: FT305[high]
        ''', "acquire on a fresh lock"),
        Example('''
            import threading

            def update(state):
                lock = threading.Lock()  # expect: FT305[high]
                with lock:
                    state.count += 1
        ''', "a local lock that no other call can see"),
    )

    FIX_EXAMPLES = (
        ('''
        import threading

        def update(state):
            with threading.Lock():
                state.count += 1
    ''', '''
        import threading

        _update_lock = threading.Lock()

        def update(state):
            with _update_lock:
                state.count += 1
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for use in model.lock_uses:
            finding = Finding(use.node, self.message.format(name=use.constructor.rsplit(".", 1)[-1] + "()"),
                              Confidence.HIGH, "a lock that only one caller ever sees excludes no one",
                              use.function)
            finding.build = defer(hoist_fix, use)
            yield finding
