from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.fixes.locks import container_lock_fix
from ftlint.rules.base import (
    defer,
    Example, Finding, Rule, container_write_confidence, mutable_bindings,
    unguarded_runtime_writes,
)


class MutableDefaultState(Rule):
    code = "FT105"
    name = "mutable-default-state"
    brief = "a mutable default argument used as a cache or accumulator"
    message = "Mutable default of `{param}` is mutated; it is shared by every call and thread"
    summary = (
        "A mutable default argument that the function mutates: the classic "
        "`def f(x, cache={})` memo or accumulator."
    )
    rationale = (
        "A default value is created once, when the `def` runs, and every call "
        "that omits the argument gets the same object. Used as a cache it is "
        "process-wide state in disguise: on the free-threaded build concurrent "
        "calls race on it exactly like on a module global, and nothing in the "
        "code says it is shared."
    )
    confidence_doc = (
        "medium for a compound update (such as a check-then-act memo); low for a "
        "lone atomic operation."
    )
    fix = "sometimes"
    fix_doc = (
        "The fix adds a module-level lock named after the function and the "
        "parameter (`_fib_memo_lock`, an `RLock` when the guarded code calls "
        "back into the module, as a recursive memo does), placed just before "
        "the function, and wraps the whole compound update in it. Safe: with "
        "one thread nothing changes, and the signature and the default object "
        "stay as they are, so callers that pass their own container still "
        "work. The default is deliberately not moved to a module global: "
        "that would change `f.__defaults__` for introspecting code, and "
        "ftlint could no longer see the shared state behind the parameter. A "
        "lone atomic operation such as `history.append(x)` is left alone: a "
        "lock around it alone changes nothing. By hand, "
        "`functools.lru_cache` is often the better memo: it locks internally."
    )
    use_instead = '''
        import functools

        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
    '''
    VALID = (
        Example('''
            def append_to(item, target=None):
                if target is None:
                    target = []
                target.append(item)
                return target
        ''', "the None idiom"),
        Example('''
            def total(values=[]):
                return sum(values)
        ''', "never mutated"),
        Example('''
            def extend(item, target=[]):
                target = list(target)
                target.append(item)
                return target
        ''', "rebound to a copy before mutation"),
    )
    INVALID = (
        Example('''
            def fib(n, memo={}):
                if n not in memo:
                    memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)  # expect: FT105[medium]
                return memo[n]
        ''', "memoisation through a default"),
        Example('''
            def log(message, history=[]):
                history.append(message)  # expect: FT105[low]
                return history
        ''', "accumulator"),
    )

    FIX_EXAMPLES = (
        ('''
        def fib(n, memo={}):
            if n not in memo:
                memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)
            return memo[n]
    ''', '''
        import threading


        _fib_memo_lock = threading.RLock()


        def fib(n, memo={}):
            with _fib_memo_lock:
                if n not in memo:
                    memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)
            return memo[n]
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for binding in mutable_bindings(model, "default"):
            for access in unguarded_runtime_writes(model, binding.ref):
                confidence, reason = container_write_confidence(model, access, binding)
                finding = Finding.at(access, self.message.format(param=binding.ref[2]),
                                     confidence, reason)
                finding.build = defer(container_lock_fix, binding.ref, access)
                yield finding
