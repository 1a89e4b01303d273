from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import container_lock_fix
from ftlint.fixes.tree import walk
from ftlint.rules.base import (
    lone_atomic_advice, no_fix,
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
        "lone atomic operation, and for the default of a function defined inside "
        "another that only calls it (`def walk(): def seen(p, m={})`): every call "
        "of the outer function runs the `def` again, with a new default."
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
    no_fix_doc = (
        "A lone atomic operation on the default that a loop iterates without "
        "a lock is not fixed where it is; the message names the loop: copy "
        "the default there, or guard the loop and the writes with one lock. "
        "Better still, replace the shared default with `None` and build the "
        "container per call, or move the state to a module-level object with "
        "its own lock. "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT105` on the reported line with the reason in a comment.'
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
            per_call = _defined_per_call(model, binding.ref[1])
            for access in unguarded_runtime_writes(model, binding.ref):
                confidence, reason = container_write_confidence(model, access, binding)
                if per_call is not None:
                    # `def walk(): def seen(p, m={}): ...`: the `def` runs on
                    # every call of `walk`, so each call has its own default.
                    confidence = Confidence.LOW
                    reason += (f"; low: the function is defined anew by every call of "
                               f"`{per_call}()`, which only calls it, so each call has its "
                               "own default")
                finding = Finding.at(access, self.message.format(param=binding.ref[2]),
                                     confidence, reason)
                finding.build = defer(container_lock_fix, binding.ref, access)
                advice = lone_atomic_advice(model, access, self.code)
                if advice is not None:
                    no_fix(finding, advice)
                yield finding


def _defined_per_call(model: ModuleModel, qualname: str) -> Optional[str]:
    """The enclosing function, when the function ``qualname`` is nested in
    one that only calls it (never returns, stores or hands it on): each
    run of the enclosing function makes a new function object, with new
    defaults, that no other call sees."""
    function = next((f for f in model.functions if f.qualname == qualname), None)
    if function is None or function.parent is None or function.decorators:
        return None  # (a decorator may keep it: a registry, a cache)
    nodes = list(walk(function.parent.node))
    called = {id(n.func) for n in nodes if isinstance(n, cst.Call)}
    if any(isinstance(n, cst.Name) and n.value == function.name and id(n) not in called
           and n is not function.node.name for n in nodes):
        return None  # returned, stored or passed on: it may outlive the call
    return function.parent.qualname
