from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.threads import SWITCH_INTERVAL
from ftlint.diagnostics import Confidence
from ftlint.fixes.switch import switch_fix
from ftlint.rules.base import Example, Finding, Rule, defer


class SwitchIntervalReliance(Rule):
    code = "FT303"
    name = "switch-interval-reliance"
    brief = "`sys.setswitchinterval` tricks"
    message = "`{name}` tunes GIL switching, which does not serialise threads on the free-threaded build"
    summary = (
        "Calls to `sys.setswitchinterval`, `sys.getswitchinterval`, "
        "`sys.setcheckinterval` or `sys.getcheckinterval`, usually made to "
        "make a section of code effectively atomic."
    )
    rationale = (
        "A large switch interval made the GIL holder keep running, so code "
        "between two calls behaved as if atomic. Without the GIL threads run in "
        "parallel regardless of the interval: whatever the trick protected is "
        "now unprotected."
    )
    confidence_doc = "medium for setting the interval; low for only reading it."
    fix = "unsafe"
    fix_doc = (
        "Where the trick has its usual shape (optionally `old = "
        "sys.getswitchinterval()`, then `sys.setswitchinterval(...)` and a "
        "`try:` whose `finally:` only restores the interval), the fix "
        "replaces it with `with _atomic_section_lock:` around the `try` body, "
        "one module lock for every such section of the module (an `RLock` "
        "when a section calls back into the module). Unsafe: under the GIL "
        "the trick held off every other thread, while the lock holds off "
        "only code that takes it, so any other code that touches the same "
        "state must take `_atomic_section_lock` too; review it before "
        "accepting. Any other use of the interval (tuning it, reading it) is "
        "left alone."
    )
    use_instead = '''
        import threading

        _lock = threading.Lock()

        def critical():
            with _lock:
                do_work()
    '''
    VALID = (
        Example('''
            import sys

            def interval():
                return sys.getrecursionlimit()
        ''', "unrelated sys calls"),
    )
    INVALID = (
        Example('''
            import sys

            def atomically(func):
                old = sys.getswitchinterval()  # expect: FT303[low]
                sys.setswitchinterval(1000)  # expect: FT303[medium]
                try:
                    return func()
                finally:
                    sys.setswitchinterval(old)  # expect: FT303[medium]
        ''', "making a call 'atomic'"),
    )

    FIX_EXAMPLES = (
        ('''
        import sys

        def atomically(func):
            old = sys.getswitchinterval()
            sys.setswitchinterval(1000)
            try:
                return func()
            finally:
                sys.setswitchinterval(old)
    ''', '''
        import threading

        _atomic_section_lock = threading.Lock()

        def atomically(func):
            with _atomic_section_lock:
                return func()
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for call in model.global_calls:
            if call.name not in SWITCH_INTERVAL:
                continue
            setter = ".set" in call.name
            yield Finding(call.node, self.message.format(name=call.name),
                          Confidence.MEDIUM if setter else Confidence.LOW,
                          "changes thread switching" if setter else "reads the switch interval",
                          call.function, build=defer(switch_fix, call))
