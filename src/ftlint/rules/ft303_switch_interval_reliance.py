from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.threads import SWITCH_INTERVAL
from ftlint.diagnostics import Confidence
from ftlint.rules.base import Example, Finding, Rule


class SwitchIntervalReliance(Rule):
    code = "FT303"
    name = "switch-interval-reliance"
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
    fix = "none"
    fix_doc = "Protect the section with a lock. No automatic fix: the section's extent is not known."
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

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for call in model.global_calls:
            if call.name not in SWITCH_INTERVAL:
                continue
            setter = ".set" in call.name
            yield Finding(call.node, self.message.format(name=call.name),
                          Confidence.MEDIUM if setter else Confidence.LOW,
                          "changes thread switching" if setter else "reads the switch interval",
                          call.function and call.function)
