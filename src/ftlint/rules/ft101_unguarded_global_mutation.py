from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.fixes.locks import container_lock_fix
from ftlint.rules.base import (
    lone_atomic_advice, no_fix,
    defer,
    Example, Finding, Rule, container_write_confidence, describe,
    mutable_bindings, unguarded_runtime_writes,
)

_NAME_OPS = ("rebind", "augassign", "del")


class UnguardedGlobalMutation(Rule):
    code = "FT101"
    name = "unguarded-global-mutation"
    brief = ("a module-level list/dict/set/deque/defaultdict/Counter mutated in a function "
             "outside any lock")
    message = "Module-level {name} is mutated at run time without a lock"
    summary = (
        "A module-level list, dict, set, deque, defaultdict, Counter or "
        "OrderedDict that a function mutates outside any lock."
    )
    rationale = (
        "A module global is shared by every thread. With the GIL, many "
        "compound updates of a module-level cache or registry happened to run "
        "without a thread switch in the middle. On the free-threaded build "
        "threads run truly in parallel: `if key not in CACHE: CACHE[key] = "
        "build()` builds twice, `COUNTS[k] += 1` loses increments, and a loop "
        "over the container while another thread adds to it raises "
        "`RuntimeError: dictionary changed size during iteration`. Single "
        "operations such as `append` or `d[k] = v` stay atomic, so those are "
        "reported at low confidence."
    )
    confidence_doc = (
        "medium when the container is also iterated at run time without a lock "
        "and the write is not one atomic step (a lone atomic write against such "
        "a loop is low: the loop is what breaks, and FT206 reports it there; a "
        "list that only grows or shrinks at its end, `append`, `extend`, `+=`, "
        "`pop()`, is survived by a loop anyway), and for a compound update (read-modify-write, check-then-act, "
        "`extend`/`update` of a non-built-in iterable, a missing key of a "
        "defaultdict); low for a lone atomic operation (`extend` of a literal, "
        "or of the function's own `*args`, and `update` of its `**kwargs`, "
        "which are exactly a tuple and a dict). Code reachable from a "
        "thread entry point raises a non-atomic write to high."
    )
    fix = "sometimes"
    fix_doc = (
        "Guard the whole unit of work with a module-level lock named after the "
        "state (`_cache_lock`), adding `import threading` if needed; a "
        "check-then-act with a side-effect-free value can instead become one "
        "atomic call such as `setdefault`."
    )
    no_fix_doc = (
        "A lone atomic operation (`append`, `d[k] = v`, `add`) that a loop "
        "elsewhere iterates without a lock is not fixed where it is: a lock "
        "around the operation alone changes nothing. Its message says so and "
        "names the loop: loop over a copy there (`list(...)`, which FT206's fix "
        "writes for an exact `dict`, `list` or `set`, after which this finding "
        "drops to low), or guard the loop and every write with one lock. Other "
        "shapes the fixer declines (`--show-fixes` gives the reason: a comment "
        "in the span, code that calls out) are guarded by hand as under "
        "\"Use instead\". "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT101` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import threading

        _cache = {}
        _cache_lock = threading.Lock()

        def get(key):
            with _cache_lock:
                if key not in _cache:
                    _cache[key] = compute(key)
                return _cache[key]
    '''
    known_problems = (
        "Only mutations written directly on the global are seen: a container "
        "passed to another function and mutated there is not tracked. Writes "
        "made only while the module is imported are not reported."
    )
    VALID = (
        Example('''
            import threading
            _cache = {}
            _lock = threading.Lock()

            def get(key):
                with _lock:
                    if key not in _cache:
                        _cache[key] = compute(key)
                    return _cache[key]
        ''', "guarded by a lock"),
        Example('''
            REGISTRY = {}
            REGISTRY["json"] = "application/json"

            def lookup(kind):
                return REGISTRY[kind]
        ''', "written only at import time"),
        Example('''
            import threading
            _state = threading.local()

            def remember(value):
                _state.items = [value]
        ''', "per-thread state"),
        Example('''
            import contextvars
            import queue
            _request = contextvars.ContextVar("request")
            _jobs = queue.Queue()

            def handle(request):
                _request.set(request)
                _jobs.put(request)
        ''', "per-context state, and a queue.Queue, which locks internally"),
        Example('''
            _items = []

            def collect(value):
                _items = []
                _items.append(value)
                return _items
        ''', "a local object that shadows the global"),
        Example('''
            import threading
            _lock = threading.RLock()
            _seen = set()

            def mark(value):
                _lock.acquire()
                try:
                    _seen.add(value)
                finally:
                    _lock.release()
        ''', "acquire() with release() in finally"),
        Example('''
            _handlers = {}

            def _register(name):
                def decorator(func):
                    _handlers[name] = func
                    return func
                return decorator

            @_register("a")
            def handle_a():
                pass
        ''', "a private registration helper used only at import time"),
    )
    INVALID = (
        Example('''
            _cache = {}

            def get(key):
                if key not in _cache:
                    _cache[key] = compute(key)  # expect: FT101[medium]
                return _cache[key]
        ''', "check-then-act on a module cache"),
        Example('''
            from collections import defaultdict
            _hits = defaultdict(int)

            def hit(key):
                _hits[key] += 1  # expect: FT101[medium]
        ''', "read-modify-write"),
        Example('''
            _sessions = {}

            def open_session(key, session):
                _sessions[key] = session  # expect: FT101[low]

            def dump():
                for key in _sessions:
                    print(key)
        ''', "mutated while iterated elsewhere: the loop is what breaks, and FT206 "
            "reports it there; the atomic store itself is low"),
        Example('''
            _seen = set()

            def mark(value):
                _seen.add(value)  # expect: FT101[low]
        ''', "a lone atomic operation"),
    )

    FIX_EXAMPLES = (
        ('''
        import threading
        _cache = {}

        def get(key):
            if key not in _cache:
                _cache[key] = compute(key)
            return _cache[key]
    ''', '''
        import threading
        _cache = {}
        _cache_lock = threading.Lock()

        def get(key):
            with _cache_lock:
                if key not in _cache:
                    _cache[key] = compute(key)
            return _cache[key]
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        for binding in mutable_bindings(model, "global"):
            for access in unguarded_runtime_writes(model, binding.ref):
                if access.op in _NAME_OPS:
                    continue  # rebinding the name itself is FT102/FT103
                confidence, reason = container_write_confidence(model, access, binding)
                finding = Finding.at(access, self.message.format(name=describe(binding.ref)),
                                     confidence, reason)
                finding.build = defer(container_lock_fix, binding.ref, access)
                advice = lone_atomic_advice(model, access, self.code)
                if advice is not None:
                    no_fix(finding, advice)
                yield finding
