from __future__ import annotations

from typing import Iterator

from ftlint.analysis.model import ModuleModel
from ftlint.diagnostics import Confidence
from ftlint.fixes.locks import double_checked_fix
from ftlint.rules.context import lazy_init_confidence, mark_benign, published_half_built
from ftlint.rules.base import Example, Finding, Rule, describe, defer


class LazyGlobalInit(Rule):
    code = "FT103"
    name = "lazy-global-init"
    brief = "`global _x; if _x is None: _x = build()`"
    message = "Global {name} is initialised lazily without a lock; threads can build it twice"
    summary = (
        "`global _x; if _x is None: _x = build()`: a module-level value built "
        "on first use, with the check and the assignment unguarded."
    )
    rationale = (
        "Two threads that call the function at the same time both see `None` "
        "and both build the value. One of the two objects is thrown away, but "
        "callers may already hold it: a singleton stops being single, a "
        "connection pool is created twice, expensive start-up runs twice. The "
        "GIL made the window small; on the free-threaded build it is the "
        "normal case under load."
    )
    confidence_doc = (
        "medium when the guarded block does more than build and store the "
        "value: it calls something (registers a handler, starts a thread), "
        "changes other shared state, or fills the value after storing it, so "
        "that other threads can see it half built. Low when the block only "
        "builds and stores the value (a version string, an imported function, "
        "a compiled pattern): two threads build it twice at worst, duplicate "
        "work only. Filling a list or dict the function itself made "
        "(`parts.append(x)`, `append = parts.append`) is building the value. "
        "Warnings and log calls in the block count as harmless "
        "(a warn-once flag may warn twice). A new instance of a class of the "
        "module is medium (callers can end up holding different objects) "
        "unless the class keeps no state: two such instances are interchangeable. "
        "High when the new object is stored first and set up after "
        "(`_logger = getLogger(); _logger.addHandler(h)`): a thread that finds "
        "it stored meanwhile uses it half set up."
    )
    fix = "safe"
    fix_doc = (
        "Double-checked locking: keep the fast unlocked check, then take a "
        "module lock and check again before building. Safe: with one thread "
        "the behaviour is unchanged. The lock is the value's own, so holding it "
        "while the value is built (even across I/O) makes only the threads that "
        "need the value wait, and the value is built once. Where the builder "
        "calls code ftlint cannot see (a callback, a callable passed in), which "
        "could come back and take the same lock, the value is built first with "
        "no lock held and stored under the lock if no other thread stored one "
        "meanwhile: `value = factory()`, then `with _x_lock: if _x is None: _x "
        "= value`. Safe: the original could build twice as well; now every "
        "caller gets the one stored. Building the value at import time instead "
        "is offered only when the builder is clearly cheap and side-effect free."
    )
    no_fix_doc = (
        "Where the builder calls code ftlint cannot see (a callback, a callable "
        "passed in) the lock is not held across it: the value is built first, "
        "then stored under the lock if no other thread stored one meanwhile "
        "(see \"Fix safety\"). Where the body builds the value in steps, the "
        "whole `if` goes under the lock. Other declined shapes are locked by "
        "hand as under \"Use instead\". "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT103` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        import threading

        _client = None
        _client_lock = threading.Lock()

        def client():
            global _client
            if _client is None:
                with _client_lock:
                    if _client is None:
                        _client = make_client()
            return _client
    '''
    VALID = (
        Example('''
            import threading
            _client = None
            _client_lock = threading.Lock()

            def client():
                global _client
                if _client is None:
                    with _client_lock:
                        if _client is None:
                            _client = make_client()
                return _client
        ''', "double-checked locking"),
        Example('''
            import functools

            @functools.cache
            def client():
                return make_client()
        ''', "functools.cache builds once per argument set (it locks internally)"),
    )
    INVALID = (
        Example('''
            import atexit
            _client = None

            def client():
                global _client
                if _client is None:
                    _client = make_client()  # expect: FT103[medium]
                    atexit.register(_client.close)
                return _client
        ''', "a lazy global with a side effect: two clients, one never closed"),
        Example('''
            import threading
            _handler = None
            _handler_lock = threading.Lock()

            def handler(logger):
                global _handler
                if not _handler:
                    with _handler_lock:
                        _handler = make_handler()  # expect: FT103[medium]
                        logger.addHandler(_handler)
                return _handler
        ''', "the lock is taken, but the check is not repeated under it"),
        Example('''
            _version = None

            def version():
                global _version
                if _version is None:
                    _version = read_version()  # expect: FT103[low]
                return _version
        ''', "the same value every time: duplicate work only"),
    )

    FIX_EXAMPLES = (
        ('''
        _client = None

        def client():
            global _client
            if _client is None:
                _client = make_client()
            return _client
    ''', '''
        import threading

        _client = None
        _client_lock = threading.Lock()

        def client():
            global _client
            if _client is None:
                with _client_lock:
                    if _client is None:
                        _client = make_client()
            return _client
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        reported = set()
        for compound in model.compounds:
            write = compound.write
            if (compound.kind != "lazy-init" or compound.ref[0] != "global" or write is None
                    or write.import_time or model.guarded(compound.locks)):
                continue
            if write.function is not None and write.function.called_under_lock:
                continue
            if (id(compound.node), compound.ref) in reported:
                continue  # one finding per check, however many stores follow
            reported.add((id(compound.node), compound.ref))
            confidence, reason = lazy_init_confidence(
                model, compound, Confidence.MEDIUM,
                "the None check and the assignment are separate steps: two threads "
                "can both see it unset and both build it")
            confidence, reason = published_half_built(model, write, confidence, reason)
            finding = Finding.at(write, self.message.format(name=describe(compound.ref)),
                                 confidence, reason)
            finding.build = defer(double_checked_fix, compound.ref, compound.node, write)
            mark_benign(finding)
            yield finding
