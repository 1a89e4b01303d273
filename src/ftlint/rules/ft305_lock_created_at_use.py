from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.rules.base import Example, Finding, Rule


class LockCreatedAtUse(Rule):
    code = "FT305"
    name = "lock-created-at-use"
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
    fix = "safe"
    fix_doc = (
        "Hoist the lock to module or instance level and use that one object "
        "everywhere. Safe: with one thread nothing changes."
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

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for use in model.lock_uses:
            yield Finding(use.node, self.message.format(name=use.constructor.rsplit(".", 1)[-1] + "()"),
                          Confidence.HIGH, "a lock that only one caller ever sees excludes no one",
                          use.function)
