"""Fixes are data: which nodes to replace or wrap, which imports and statements
to add, and whether the change is safe. A rule's ``build_fix`` makes them on
a :class:`~ftlint.fixes.context.FixContext` when a fix is wanted;
:mod:`ftlint.fixes.apply` applies them and :mod:`ftlint.fixes.fixer` proves
the result (it parses and compiles, the fixed findings are gone, fixing again
changes nothing) before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace ``node`` by ``new`` (``cst.RemovalSentinel.REMOVE`` deletes a
    statement, a ``cst.FlattenSentinel`` puts several in its place), or put
    it under ``with <wrap>:``. A ``shared`` edit is one that several fixes
    may carry unchanged (making a lock of this run reentrant); it does not
    clash with itself."""

    node: cst.CSTNode
    new: Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel, None] = None
    wrap: Optional[str] = None  # the lock expression, e.g. "_cache_lock"
    shared: bool = False


@dataclass(frozen=True)
class Statement:
    """A statement to add once: after ``anchor`` (a top-level statement; before
    it when ``before`` is set), or first in the body of ``anchor`` (a class or
    ``__init__``). Statements that share a ``key`` (the lock's name) are added
    once; the reentrant one wins. New statements never go above the imports."""

    anchor: cst.CSTNode
    code: str
    key: str
    reentrant: bool = False
    before: bool = False


@dataclass(frozen=True)
class Fix:
    applicability: str  # SAFE or UNSAFE
    message: str
    edits: tuple[Edit, ...]
    imports: tuple[str, ...] = ()  # modules to import: "threading"
    module_statements: tuple[Statement, ...] = ()
    class_statements: tuple[Statement, ...] = ()
    init_statements: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class Declined:
    """Why a finding has no fix: an unusual shape is skipped, not guessed at."""

    reason: str


@dataclass
class FixOutcome:
    """What one finding's fix did, for reports."""

    code: str
    message: str
    row: int
    column: int
    fix_message: str = ""
    reason: str = ""  # set when the finding stays unfixed


__all__ = ["Declined", "Edit", "Fix", "FixOutcome", "SAFE", "Statement", "UNSAFE"]
