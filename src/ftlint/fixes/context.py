"""The fix context: what a fix builder works on.

A rule's check only finds; its fix is built when one is wanted (``--fix``,
``--diff``, JSON with fixes, an editor's code action), through
``Rule.build_fix(finding, context)``. The context is the module's model as the
builders read it, plus what belongs to one fix run and not to the analysis:
the facts the builders of one module share (parents, the lock-needing writes,
which calls call out), and the locks earlier passes of the run added. The
analysis model itself is left as the rules saw it.

One context serves every fix of one analysis, so facts are gathered once per
module and two findings fixed by the same edit get the same ``Fix`` object.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ftlint.analysis.model import ModuleModel

_MODEL_FIELDS = tuple(f.name for f in fields(ModuleModel))


@dataclass
class FixContext(ModuleModel):
    # Locks (keys as in `lock_bindings`) that earlier passes of the running
    # `--fix` added: no code of the user's depends on their kind yet.
    fresh_locks: frozenset[str] = frozenset()
    # Facts about the module that every fix of it would otherwise gather again.
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model: ModuleModel, fresh_locks: frozenset[str] = frozenset()) -> "FixContext":
        context = cls(**{name: getattr(model, name) for name in _MODEL_FIELDS},
                      fresh_locks=fresh_locks)
        # Indexes the rules already built (cached properties) are the same.
        for key, value in model.__dict__.items():
            if key not in _MODEL_FIELDS:
                context.__dict__.setdefault(key, value)
        return context
