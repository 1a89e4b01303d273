from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.analysis.threads import PROCESS_GLOBAL_CALLS, PROCESS_GLOBAL_STATE
from ftlint.diagnostics import Confidence
from ftlint.fixes import Declined
from ftlint.fixes.process import cwd_fix
from ftlint.rules.base import Example, Finding, Rule


class ProcessGlobalMutation(Rule):
    code = "FT302"
    name = "process-global-mutation"
    message = "`{name}` changes process-wide state that every thread sees"
    summary = (
        "Writes to `os.environ`, `os.putenv`, `os.chdir`, `contextlib.chdir`, "
        "`sys.stdout`/`sys.stderr` swapping, `contextlib.redirect_stdout`, "
        "`locale.setlocale`, `socket.setdefaulttimeout`, "
        "`sys.setrecursionlimit` or the warnings filters, in code that runs "
        "after import."
    )
    rationale = (
        "This state belongs to the process, not the thread: no lock makes "
        "changing it safe while other threads run, because they read it "
        "without taking your lock (the C library reads the environment, every "
        "relative path depends on the working directory, every print goes to "
        "the current `sys.stdout`). Code that got away with a brief swap under "
        "the GIL now has other threads observing it. `warnings.catch_warnings` "
        "is safe only on 3.14t, where context-aware warnings are the default."
    )
    confidence_doc = (
        "high when reachable from a thread entry point; medium in a public "
        "function; low otherwise."
    )
    fix = "unsafe"
    fix_doc = (
        "Pass the state explicitly: `subprocess.run(..., env=..., cwd=...)`, "
        "absolute paths, `print(..., file=stream)`, an explicit timeout, a "
        "logger. The fix does this for the working directory where the change "
        "only serves subprocesses: `with contextlib.chdir(path):`, or `old = "
        "os.getcwd(); os.chdir(path); try: ... finally: os.chdir(old)`, around "
        "nothing but `subprocess` calls whose arguments are plain values, "
        "becomes the same calls with `cwd=path`. Unsafe: a missing directory "
        "now fails when the child starts rather than at `chdir`, and on "
        "Windows a relative program name is looked up from the current "
        "directory rather than from `cwd`. The `import` that only served the "
        "old code is left for your import linter. Everything else (the "
        "environment, stdout swaps, locale, a `chdir` that is never undone or "
        "that other code in the block relies on) is left alone: the explicit "
        "form differs at every call."
    )
    use_instead = '''
        import os
        import subprocess

        def build(path):
            env = {**os.environ, "LC_ALL": "C"}
            subprocess.run(["make"], cwd=path, env=env, check=True)
    '''
    VALID = (
        Example('''
            import os
            os.environ.setdefault("APP_MODE", "prod")
        ''', "at import time"),
        Example('''
            import subprocess

            def build(path, env):
                subprocess.run(["make"], cwd=path, env=env, check=True)
        ''', "state passed explicitly"),
    )
    INVALID = (
        Example('''
            import os

            def build(path):
                os.chdir(path)  # expect: FT302[medium]
                os.environ["LC_ALL"] = "C"  # expect: FT302[medium]
        ''', "changing directory and environment"),
        Example('''
            import contextlib
            import io

            def _capture(func):
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):  # expect: FT302[low]
                    func()
                return buffer.getvalue()
        ''', "redirecting stdout"),
    )

    FIX_EXAMPLES = (
        ('''
        import contextlib
        import subprocess

        def build(path):
            with contextlib.chdir(path):
                subprocess.run(["make"], check=True)
    ''', '''
        import subprocess

        def build(path):
            subprocess.run(["make"], check=True, cwd=path)
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for call in model.global_calls:
            if call.name not in PROCESS_GLOBAL_CALLS or call.function is None:
                continue
            if call.function.import_time_only:
                continue
            confidence = Confidence.MEDIUM if call.function.is_public else Confidence.LOW
            yield Finding(call.node, self.message.format(name=call.name), confidence,
                          "process-wide: other threads see the change, and no lock of yours stops them",
                          call.function, fix=cwd_fix(model, call))
        for access in model.accesses:
            if (access.ref[0] != "ext" or access.ref[1] not in PROCESS_GLOBAL_STATE
                    or not access.write or access.import_time):
                continue
            public = access.function is not None and access.function.is_public
            finding = Finding.at(access, self.message.format(name=access.ref[1]),
                                 Confidence.MEDIUM if public else Confidence.LOW,
                                 "process-wide: other threads see the change, and no lock of "
                                 "yours stops them")
            finding.fix = Declined("no automatic fix: pass the value explicitly (`env=`, "
                                   "`file=`) where it is used")
            yield finding
