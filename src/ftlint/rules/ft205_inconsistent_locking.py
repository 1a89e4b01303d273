from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from ftlint.analysis.model import Access, ModuleModel, Mutability, local_locks_only
from ftlint.analysis.names import MUTATORS
from ftlint.analysis.resolve import queue_hook
from ftlint.diagnostics import Confidence
from ftlint.fixes import Declined
from ftlint.fixes.locks import unit_of_work, wrap_fix, write_locks
from ftlint.fixes.tree import code, inside, parents, walk
from ftlint.rules.context import SHUTDOWN, constant_set_confidence, in_teardown, unread_counter
from ftlint.rules.base import (
    defer, no_fix,
    Example, Finding, Rule, describe_start, is_shared_write, where,
)


class InconsistentLocking(Rule):
    code = "FT205"
    name = "inconsistent-locking"
    brief = "state written under a lock in one place and without it in another"
    message = "{name} is written under a lock elsewhere but without one here"
    summary = (
        "State that one place writes while holding a lock and another place "
        "writes without it, or under a different lock that excludes nothing. "
        "The guarded write is never reported, only the other one. A method call "
        "on the state (`self.pools.clear()`) and a store into an object whose "
        "class locks inside are that object's business, not writes. A store "
        "into a synchronized `multiprocessing` value (`arr[i] = 0`) whose own "
        "`arr.get_lock()` guards it elsewhere takes that lock itself."
    )
    rationale = (
        "A lock protects state only if every access takes it. The author "
        "already decided this state needs a lock, so an unguarded write is "
        "almost certainly an oversight: it races with the guarded code, which "
        "then reads torn or lost updates. This is RacerD's strongest signal, "
        "and on the free-threaded build the race is real, not theoretical."
    )
    confidence_doc = (
        "high for a read-modify-write or check-then-act reached from a thread "
        "entry point, and for writes under two different locks; medium for one "
        "in a method anyone may call: the lock shows the state is shared, but "
        "not that this code runs while the locked code does. "
        "Medium when the unguarded write is one container call that can break "
        "a locked sequence: a removal (`del d[k]`, `pop`) against a locked "
        "check-then-read, or a check whose act needs the item (a removal that "
        "raises, or a read of the item later in that function: `KeyError`), or "
        "any write inside a locked read-modify-write (the locked store undoes "
        "it); low when no locked sequence can be broken (an `append` against a "
        "locked `while q: q.pop(0)`, a store the locked code would only "
        "overwrite, a `pop(k, None)` against a locked put-if-absent, which acts "
        "as if it ran before or after the block). "
        "Not reported in code only the object's owner thread runs: behind "
        "`if self._owner == get_ident():`, an owner predicate such as "
        "`self.is_writer()`, or after `if not owned: raise`. "
        "Medium, not high, for a count that nothing in the module reads "
        "(`self.hits += 1`, a statistic kept for callers): a lost update "
        "skews the figure, and no decision of the code depends on it. "
        "Medium, not high, when the locked writes only reset the state (to "
        "zero, `None` or `False`: `self.overflow = 0`, one item's "
        "`self.failures[node] = 0`, `self._sock = None` in "
        "a locked `close()`): the lock keeps no sequence of steps on it "
        "together, and the unlocked update races with a reset at worst. "
        "Low for a plain store (`self.running = False`), "
        "which at worst the locked code's own store overwrites; "
        "also medium in a private helper, whose callers may hold the lock, and in "
        "shutdown code (`close`, `stop`, `teardown`, ...), which usually runs once. "
        "Low when every locked write is in a helper that its callers call "
        "holding the lock (`clear()` takes `self._mutex` and calls `_clear()`): "
        "the class's convention is \"call with the lock held\", which this "
        "write's callers may follow by a path the module does not show (the "
        "hooks `queue.Queue` calls holding its `mutex` are not such helpers). "
        "At most medium, even where threads reach it, for several steps when "
        "the only locked writes are in clean-up code and this one is not; "
        "low for one step when the only locked writes are in clean-up code "
        "(`close()`, `_cleanup()`, `shutdown()`), which takes the lock to stop "
        "the object rather than to guard this state's steps. "
        "A check-then-set of a constant counts as one step. Not "
        "reported when every write, locked or not, is one atomic step that its "
        "lock holds alone (`with lock: items.pop()` against `items.append(x)`): "
        "no write can fall between the steps of another. Low "
        "in set-up code of a \"configure, then freeze\" class: a method that "
        "refuses to run once the object is started, a `@setupmethod`, a "
        "registration method that marks the object dirty for a locked rebuild, "
        "and private helpers that only these and constructors call."
    )
    fix = "safe"
    fix_doc = (
        "Take the same lock around the unguarded write (the fix reuses the "
        "existing lock rather than adding one). Safe: with one thread nothing "
        "changes. A write under a second lock has no automatic fix: which of "
        "the two locks is meant is the author's call."
    )
    no_fix_doc = (
        "A write under a second lock has no fix: which lock is meant is the "
        "author's call. Take the lock the other writes take, or make one lock "
        "guard both (the message names it). A write whose unit of work would "
        "wait on a lock that other code holds across I/O is declined: give the "
        "state a lock of its own by hand. "
        + 'Where the code is safe as it stands (the state is only touched before threads start, say), add `# noqa: FT205` on the reported line with the reason in a comment.'
    )
    use_instead = '''
        def tick(self):
            with self._lock:
                self.count += 1
    '''
    supersedes = ("FT101", "FT102", "FT103", "FT104", "FT105", "FT106", "FT201", "FT202",
                  "FT203", "FT204")
    VALID = (
        Example('''
            import threading

            class Queue:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._items = []

                def put(self, item):
                    with self._lock:
                        self._items.append(item)

                def reset(self):
                    with self._lock:
                        self._items.clear()
        ''', "every write takes the lock"),
        Example('''
            import threading

            class Queue:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._items = []

                def put(self, item):
                    with self._lock:
                        self._items.append(item)
        ''', "the write in __init__ happens before the object is shared"),
        Example('''
            import threading

            class Ids:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._list = []

                def append(self, value):
                    self._list.append(value)

                def pop(self):
                    with self._lock:
                        return self._list.pop()
        ''', "every write is one atomic step: the lock adds nothing to `pop`"),
        Example('''
            import threading

            class PoolManager:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.pools = RecentlyUsedContainer()

                def connection(self, key):
                    with self._lock:
                        self.pools.clear()

                def clear(self):
                    self.pools.clear()
        ''', "a method of another object is no write of ours: that object may lock inside"),
    )
    INVALID = (
        Example('''
            import threading

            class Meter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.count = 0

                def add(self, n):
                    with self._lock:
                        self.count += n

                def tick(self):
                    self.count += 1  # expect: FT205[medium]

                def over(self, limit):
                    return self.count >= limit
        ''', "a forgotten lock: medium until a thread is seen to run it"),
        Example('''
            import threading

            class Meter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.count = 0
                    threading.Thread(target=self.tick, daemon=True).start()

                def add(self, n):
                    with self._lock:
                        self.count += n

                def tick(self):
                    self.count += 1  # expect: FT205[high]

                def over(self, limit):
                    return self.count >= limit
        ''', "a forgotten lock in code a thread runs"),
        Example('''
            import threading
            _lock = threading.Lock()
            _state = {}

            def update(key, value):
                with _lock:
                    _state[key] = _state.get(key, 0) + value

            def drop(key):
                _state.pop(key, None)  # expect: FT205[medium]
        ''', "one step against a locked read-modify-write: medium"),
        Example('''
            import threading

            _check_lock = threading.Lock()
            _reset_lock = threading.Lock()
            _claimed = False

            def claim():
                global _claimed
                with _check_lock:
                    if not _claimed:
                        _claimed = True
                        return True
                return False

            def reset():
                global _claimed
                with _reset_lock:
                    _claimed = False  # expect: FT205[high]
        ''', "a flag checked under one lock and written under another"),
    )

    FIX_EXAMPLES = (
        ('''
        import threading

        class Meter:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def add(self, n):
                with self._lock:
                    self.count += n

            def tick(self):
                self.count += 1
    ''', '''
        import threading

        class Meter:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def add(self, n):
                with self._lock:
                    self.count += n

            def tick(self):
                with self._lock:
                    self.count += 1
    '''),
    )

    def check(self, model: ModuleModel) -> Iterator[Finding]:
        by_ref: dict = {}
        for access in model.accesses:
            # Interpreter-wide state (sys.modules) has no single lock to be
            # consistent about: whatever lock is held elsewhere is unrelated.
            if (access.write and access.op not in ("iter", "next") and access.ref[0] != "ext"
                    and is_shared_write(model, access)):
                by_ref.setdefault(access.ref, []).append(access)
        for ref, writes in by_ref.items():
            # A lock made in the function for the call (a local that syncs it
            # with its own callback) is no lock that other writes could take.
            guarded = [w for w in writes if model.access_guarded(w)
                       and not local_locks_only(model, w.locks, w.function)]
            if not guarded:
                continue
            yield from self._other_lock(model, ref, guarded)
            example = guarded[0]
            held = dict.fromkeys(k for k in example.locks if model.is_lock(k))
            locks = ", ".join(f"`{k}`" for k in held) or "a lock"
            alone = all(_one_step_alone(model, w) for w in guarded)
            breakable = _breakable(model, ref)
            teardown = all(in_teardown(w) for w in guarded)
            # No locked write takes the lock itself: each is in a helper that
            # its callers call holding it. The convention is "call with the
            # lock held", which this write's callers may follow by paths the
            # module does not show (another module, a dispatch table).
            # (Not the hooks `queue.Queue` calls holding its `mutex`: the
            # library's callers are known, and take it.)
            by_callers = not any(model.guarded(w.locks) or queue_hook(model, w.function)
                                 for w in guarded)
            resets = all(_resets(w) for w in guarded if is_write(model, w))
            for access in writes:
                # A locked call on the object shows the author locks it; only
                # our own stores are reported as the unlocked side.
                if model.access_guarded(access) or not is_write(model, access):
                    continue
                one_step = _one_step(model, access)
                can_break = breakable[access.op in _REMOVALS]
                if one_step and alone and not can_break:
                    # Every write is one atomic step, here and under the lock:
                    # no write can fall between the steps of another.
                    continue
                container = _container_class(model, access)
                if container in model.locks_internally:
                    continue
                if (access.op in ("setitem", "delitem") and held
                        and all(_own_lock(ref, k) for k in held)):
                    # `with arr.get_lock(): arr[i] += 1` elsewhere, `arr[i] = 0`
                    # here: a synchronized `multiprocessing` value takes that
                    # same lock for each store, so this write is locked too.
                    continue
                compound = model.compound_for(access)
                if compound is not None and model.guarded(compound.locks):
                    continue
                confidence, why = _confidence(model, access, one_step)
                if one_step and confidence is Confidence.MEDIUM and not can_break:
                    confidence, why = Confidence.LOW, (
                        " (one atomic step here, and no locked sequence elsewhere that it can "
                        "break: it neither removes what a locked check relies on nor falls "
                        "inside a locked read-modify-write)")
                if one_step and teardown and confidence > Confidence.LOW:
                    # `_cleanup()` takes every lock to stop the traffic and
                    # clears the caches; a lone store or pop elsewhere is
                    # atomic, and at worst lands after the clean-up.
                    confidence, why = Confidence.LOW, (
                        " (one atomic step here; the only locked writes are in clean-up code, "
                        "which takes the lock to stop the object, not to guard this state)")
                if by_callers and confidence > Confidence.LOW:
                    confidence, why = Confidence.LOW, (
                        "; low: the locked writes are in helpers whose callers hold the lock, "
                        "and this write's callers may hold it as well")
                capped = (teardown and not one_step and not in_teardown(access)
                          and confidence > Confidence.LOW)
                if capped:
                    # The lock is taken only to stop the object; whether this
                    # state needs one is not what that code says.
                    confidence = min(confidence, Confidence.MEDIUM)
                    why += ("; medium: the only locked writes are in clean-up code, which "
                            "takes the lock to stop the object")
                reset_only = resets and confidence is Confidence.HIGH
                if reset_only:
                    # `self.overflow += n` unlocked, `self.overflow = 0` locked
                    # (or `self._sock = None` in a locked `close()`): the lock
                    # keeps no sequence of steps on it together, and the
                    # unlocked update races with a reset at worst.
                    confidence = Confidence.MEDIUM
                    why += ("; medium: the locked writes only reset it (to zero, None or "
                            "False), so at worst a reset and an update cross")
                statistic = (unread_counter(model, ref) if confidence is Confidence.HIGH
                             else None)
                if statistic:
                    confidence = Confidence.MEDIUM
                    why += f"; medium: {statistic}"
                elif confidence is Confidence.HIGH:
                    # The lock shows that the state is shared; that this code
                    # runs on several threads at once is the project pass's
                    # to show (a thread entry point reaching it raises it).
                    confidence = Confidence.MEDIUM
                    why += ("; medium: the lock shows the state is shared, not that this code "
                            "runs while the locked code does (reached from a thread entry point, "
                            "it is high)")
                finding = Finding.at(access, self.message.format(name=describe_start(ref)),
                                     confidence,
                                     f"{where(example)} writes it holding {locks}; this write does "
                                     f"not{why}")
                finding.build = defer(_reusing, ref, unit_of_work(model, access), access,
                                      tuple(held))
                finding.facts["locks"] = tuple(held)  # the fixer checks its new locks by them
                if capped or reset_only or statistic:
                    finding.facts["benign"] = True  # threads reaching it do not raise it
                if container is not None and "." in container:
                    # The project pass drops it if that class locks inside.
                    finding.facts["container"] = container
                yield finding


    def _other_lock(self, model: ModuleModel, ref, guarded: list[Access]) -> Iterator[Finding]:
        """Writes under two different locks: neither excludes the other."""
        held = [(w, {k for k in w.locks if model.is_lock(k)}) for w in guarded
                if is_write(model, w)]
        if not held:
            return
        if any(not locks or any(_may_alias(model, k) for k in locks) for _, locks in held):
            return  # a helper called under some lock, or a lock that may wrap another
        if any(w.function is not None and (w.function.called_under_lock
                                           or w.function.locked_callers) for w, _ in held):
            return  # its callers hold a lock too, which may be the other one
        # The lock most writes hold; on a tie, the one met first.
        counts: dict[str, int] = {}
        for _, locks in held:
            for k in sorted(locks):
                counts[k] = counts.get(k, 0) + 1
        main = max(counts, key=counts.__getitem__)
        first = next(w for w, locks in held if main in locks)
        for access, locks in held:
            if main in locks:
                continue
            other = ", ".join(f"`{k}`" for k in sorted(locks))
            finding = Finding.at(
                access, f"{describe_start(ref)} is written under two different locks, which "
                        "do not exclude each other", Confidence.HIGH,
                f"{where(first)} writes it holding `{main}`; this write holds {other} instead, "
                "and the two locks do not exclude each other")
            no_fix(finding, f"take `{main}` here too, or use one lock for both (which lock "
                            "is meant is the author's call)")
            finding.facts["locks"] = (main, *sorted(locks))
            yield finding


def _own_lock(ref, key: str) -> bool:
    """Is ``key`` the state's own lock (`arr.get_lock()` of a synchronized
    `multiprocessing.Value` or `Array`), which each of its stores takes?"""
    if ref[0] == "global":
        return key == f"{ref[1]}.get_lock()"
    return ref[0] in ("instance", "class") and key in (
        f"self.{ref[2]}.get_lock()", f"cls.{ref[2]}.get_lock()", f"{ref[1]}.{ref[2]}.get_lock()")


def _may_alias(model: ModuleModel, key: str) -> bool:
    """A lock built from another (``Condition(self._mutex)``), or one ftlint
    cannot see being built: it may be the same lock under another name."""
    if key.startswith("@"):
        return True
    binding = model.lock_bindings.get(key)
    return binding is None or bool(getattr(binding.node, "args", ()))


_ITEM_OPS = ("setitem", "delitem", "augitem")


def _container_class(model: ModuleModel, access: Access) -> Optional[str]:
    """The class of the object an item store goes into, when the object was
    built by a call to a class (``self.pools = Container()``)."""
    if access.op not in _ITEM_OPS:
        return None
    binding = model.binding(access.ref)
    if binding is None or binding.mutability is not Mutability.UNKNOWN:
        return None
    return model.constructed.get(id(binding.node))


_BUILTIN_CONTAINERS = frozenset({"list", "dict", "set", "deque", "defaultdict", "OrderedDict",
                                 "Counter", "bytearray"})


def _one_step(model: ModuleModel, access: Access) -> bool:
    """A plain store, or one call on a built-in container (atomic on the
    free-threaded build), not part of a read-modify-write or check-then-act."""
    compound = model.compound_for(access)
    if compound is not None:
        # `if self.running: self.running = False`: every thread stores the
        # same constant, so the check adds no step that matters.
        return constant_set_confidence(model, compound, Confidence.HIGH, "")[0] is Confidence.LOW
    if not access.atomic:
        return False
    if access.op in ("setattr", "rebind"):
        return True
    binding = model.binding(access.ref)
    return binding is not None and binding.kind in _BUILTIN_CONTAINERS


def _one_step_alone(model: ModuleModel, access: Access) -> bool:
    """A locked write that is the only use of the state in its locked block:
    one atomic step the lock adds nothing to (`with lock: lst.pop()`)."""
    if not _one_step(model, access):
        return False
    text = code(model, _target(access.node))
    if not text:
        return False
    block = _locked_block(model, access)
    uses = sum(1 for node in walk(block) if isinstance(node, (cst.Name, cst.Attribute))
               and code(model, node) == text)
    if uses > 1:
        return False
    # Other state written in the same locked block: the lock keeps the
    # writes together, and an unlocked write can break that.
    return not any(other is not access and other.write and other.function is access.function
                   and other.ref != access.ref and inside(other.node, block)
                   for other in model.accesses)


def _resets(write: Access) -> bool:
    """A plain store of zero, None or False (`self.count = 0`, or one
    item's, `self.failures[node] = 0`): a reset."""
    if write.op not in ("setattr", "rebind", "setitem"):
        return False
    node = write.node
    value = getattr(node, "value", None) if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
    if isinstance(value, cst.Integer):
        return value.evaluated_value == 0
    return isinstance(value, cst.Name) and value.value in ("None", "False")


_REMOVALS = frozenset({"delitem", "pop", "popitem", "popleft", "remove", "discard", "clear",
                       "delattr"})


def _breakable(model: ModuleModel, ref) -> tuple[bool, bool]:
    """Whether one atomic write of ``ref`` can spoil a locked sequence of
    several steps on it, for a store and for a removal: a removal between a
    locked check and the read or removal that relies on it (`KeyError`), or
    any write inside a locked read-modify-write (the locked store undoes it).
    A store between a locked check and its store is only overwritten, as a
    plain store is."""
    locked = [c for c in model.compounds if c.ref == ref and model.guarded(c.locks)]
    kinds = {c.kind for c in locked}
    rmw = "rmw" in kinds
    # A removal between a locked test and an insertion that relies on it
    # (`if k in d: return False` then `d[k] = v`) is as if it came after
    # the block: the test saw the key, or there was nothing to remove. Only
    # an act that needs the item (a removal that raises, or a later read of
    # an item in the same function) breaks.
    return rmw, rmw or "check-then-read" in kinds or any(
        c.kind == "check-then-act" and (
            c.write is None or c.write.op.removeprefix("item.") in _RAISING_REMOVALS
            or _reads_items(model, c))
        for c in locked)


# Removals that raise when the item is gone (`discard` and `clear` do not).
_RAISING_REMOVALS = frozenset({"delitem", "pop", "popitem", "popleft", "remove"})


def _reads_items(model: ModuleModel, compound) -> bool:
    """Does the function of ``compound`` read an item of its container
    anywhere (`return d[k]` after the fill), a store's target aside?"""
    function = compound.function
    text = code(model, _target(compound.write.node))
    if function is None or not text:
        return True
    stores = {id(t.target) for n in walk(function.node) if isinstance(n, cst.Assign)
              for t in n.targets}
    stores |= {id(n.target) for n in walk(function.node) if isinstance(n, cst.AugAssign)}
    return any(isinstance(n, cst.Subscript) and id(n) not in stores
               and code(model, n.value) == text for n in walk(function.node))


def _reusing(context, ref, node, access, held):
    """A lock around the write, reusing a lock the locked code holds."""
    if not held:
        # The locked writes are in helpers whose callers hold the lock
        # (`clear()` takes `self._mutex` and calls `_clear()`): that lock, the
        # one every such call holds, or none. A new lock would exclude nothing.
        held = _callers_lock(context, ref, access)
        if not held:
            return Declined("the other writes hold a lock that their callers take; the fix "
                            "cannot tell which one, and another lock would not exclude them")
    return wrap_fix(context, ref, node, access, reuse=held)


def _callers_lock(model: ModuleModel, ref, access: Access) -> tuple[str, ...]:
    """The lock that every call of every locked writer of ``ref`` holds,
    where those writers are helpers called under a lock: the keys, or ()."""
    common: Optional[set[str]] = None
    for write in model.writes(ref):
        if write is access or write.import_time or not model.access_guarded(write):
            continue
        locks = write_locks(model, write)
        if not locks or model.guarded(write.locks):
            return ()  # a writer that takes a lock itself: `held` named it
        common = set(locks) if common is None else common & locks
    return tuple(sorted(common)) if common else ()


def _target(node: cst.CSTNode) -> cst.CSTNode:
    """The state's own expression in a write: `self._list` of
    `self._list.append(v)`, `self.x` of `self.x = v`."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.value
    if isinstance(node, (cst.Assign,)) and len(node.targets) == 1:
        return _target(node.targets[0].target)
    if isinstance(node, cst.Subscript):
        return node.value
    return node


def _locked_block(model: ModuleModel, access: Access) -> cst.CSTNode:
    """The `with` block that holds the lock over ``access``, else its function."""
    scope = access.function.node if access.function is not None else model.module
    parent_of = parents(model, scope)
    current = parent_of.get(id(access.node))
    while current is not None and current is not scope:
        if isinstance(current, cst.With):
            return current
        current = parent_of.get(id(current))
    return scope


def _confidence(model: ModuleModel, access: Access, one_step: bool) -> tuple[Confidence, str]:
    """High for a multi-step update in code anyone may call; medium for one
    step, which only spoils the locked code's several steps, or for a
    private helper."""
    function = access.function
    if (function is not None and function.is_private and function.parent is None
            and not model.name_uses.get(function.name)):
        return Confidence.LOW, ("; low: a private helper that nothing in this module calls "
                                "or names")
    if one_step and access.op in ("setattr", "rebind"):
        # Mostly flags and resets (`self._running = False`, `self.x = None`):
        # at worst the locked code's own store wins over this one.
        return Confidence.LOW, (" (a plain store: at worst the locked code's read-modify-write "
                                "overwrites it)")
    if one_step:
        return Confidence.MEDIUM, (" (one step here; the locked code elsewhere uses it in "
                                   "several steps, and this write can fall between them)")
    if function is not None and function.is_private:
        return Confidence.MEDIUM, "; medium: a private helper, whose callers may hold the lock"
    if function is not None and _SHUTDOWN.match(function.name):
        return Confidence.MEDIUM, "; medium: shutdown code, which usually runs once, after the work"
    return Confidence.HIGH, ""


# Methods that end an object's life: they usually run once, from one thread.
_SHUTDOWN = SHUTDOWN


def is_write(model: ModuleModel, access: Access) -> bool:
    """A store (`x = ...`, `x.a += 1`, `d[k] = v`, `del`), or a mutating
    call on a container known to be a plain list, dict, set or deque. A method
    call on any other object (`self.pools.clear()`, `self._matcher.add(r)`)
    is that object's business: it may lock inside."""
    op = access.op
    if op.startswith("item."):
        return False  # d[k].append(x): the element's own method
    if op == "setattr" and tuple(access.ref[1:]) in model.property_setters:
        return False  # `self.state = s` calls the property's setter, which may lock
    if op not in MUTATORS:
        return True
    binding = model.binding(access.ref)
    return binding is not None and binding.mutability is Mutability.MUTABLE
