"""Does a new lock cover every write of the state it guards? A lock that
one write takes while another run-time write of the same state does not
excludes nothing there: the race stays open. The fixer checks this on the
fixed code (:func:`writes_outside`); a check predicts it on the original
code, before offering a fix as fixable (:func:`left_open`)."""

from __future__ import annotations

from typing import Sequence

from ftlint.fixes import Fix


# One atomic step that only adds (never overwrites or removes what is there):
# it cannot undo what a locked unit of work does.
ONLY_ADDS = frozenset({"setdefault", "append", "appendleft", "add"})


def writes_outside(model, created: frozenset) -> dict[str, str]:
    """State (as findings name it) that a lock this run added guards in one
    place while another run-time write of it does not take that lock ->
    why, in words. Writes while the object is built, or in its set-up
    methods, and in helpers every caller runs under a lock, do not count."""
    from ftlint.rules.base import describe, where

    if model is None or not created:
        return {}
    guarded: dict = {}
    for access in model.accesses:
        # A write under the new lock, or a test and read it keeps together
        # (`with lock: if k in d: v = d[k]`): a write elsewhere without the
        # lock still falls between them.
        if access.write or model.compound_for(access) is not None:
            key = next((k for k in access.locks if k in created), None)
            if key is not None:
                guarded.setdefault(access.ref, key)
    found: dict[str, str] = {}
    for ref, key in guarded.items():
        for write in model.writes(ref):
            if key in write.locks or needs_no_lock(model, write):
                continue
            found.setdefault(describe(ref), (
                f"{where(write)} changes {describe(ref)} without `{key}`, the lock the fix "
                "would add: the race would stay open"))
    return found


def needs_no_lock(model, write) -> bool:
    """A write that a new lock of its state need not cover: at import, while
    the object is built, in set-up, in a helper every caller runs under a
    lock, or one atomic step that only adds."""
    function = write.function
    return (write.import_time or function is None
            or function.in_constructor or function.in_setup is not None
            or model.access_guarded(write) and function.called_under_lock
            or write.atomic and write.op.removeprefix("item.") in ONLY_ADDS)


def left_open(context, fixes: Sequence) -> set[int]:
    """Indices of ``fixes`` (pairs of a finding and its fix, built on one
    module) whose new lock another run-time write of the same state would
    not take: a write that none of these fixes covers, and that the
    follow-up passes of `--fix` could not guard with that lock either.
    `--fix` leaves such fixes out (the race would stay open), so a check
    must not offer them as fixable."""
    from ftlint.fixes.locks import unit_of_work, wrap_fix
    from ftlint.fixes.tree import walk
    from ftlint.rules.ft205_inconsistent_locking import is_write

    by_key: dict[str, list[int]] = {}
    for index, (finding, fix) in enumerate(fixes):
        if finding.access is None:
            continue
        for statement in (*fix.module_statements, *fix.class_statements, *fix.init_statements):
            by_key.setdefault(statement.key, []).append(index)
    dropped: set[int] = set()
    for key, indices in by_key.items():
        covered = {id(n) for i in indices for edit in fixes[i][1].edits for n in walk(edit.node)}
        refs = {fixes[i][0].access.ref for i in indices}
        for ref in refs:
            for write in context.writes(ref):
                if id(write.node) in covered or needs_no_lock(context, write):
                    continue
                # A follow-up pass guards a store that FT205 reports once the
                # lock is in, if that store can take the lock.
                try:
                    closed = is_write(context, write) and isinstance(
                        wrap_fix(context, ref, unit_of_work(context, write), write), Fix)
                except Exception:  # noqa: BLE001 - a fix that cannot be built closes nothing
                    closed = False
                if not closed:
                    dropped.update(indices)
                    break
            if dropped.issuperset(indices):
                break
    return dropped
