"""Parsing an edited buffer again without parsing all of it, for the
language server.

An edit in an editor changes a few lines. libcst parses a module in one piece,
and for a large module the parse is most of a check. So the server keeps each
buffer's last tree and where each top-level statement starts, and after an
edit parses only the top-level statements the changed lines touch (with one
statement of margin on each side: a new line can join the statement before
it, an `else:` or a decorator the one after it), then splices them into the
tree. The statements outside are the same objects, whose text is unchanged.

The splice is taken only when it is certain: the new statements, generated
again, must be the new text of the segment, character for character, and the
segment must have the module's indentation and newline. Otherwise (an edit
at the very start or end of the module, a segment that does not parse on its
own, such as an unterminated string) the module is parsed whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from ftlint.engine import parse as _parse


@dataclass(frozen=True)
class Parsed:
    """A module's text, its tree, and the line (0-based) at which each
    top-level statement, with its leading comment and blank lines, starts;
    ``inner`` holds the same for the bodies of top-level classes, by the
    class node's id, once an edit needed them."""

    text: str
    tree: cst.Module
    starts: tuple[int, ...]
    inner: dict = field(default_factory=dict, compare=False)


def parse(text: str) -> Parsed:
    """The whole module (raises libcst's ParserSyntaxError)."""
    tree = _parse(text)
    line = len(tree.header)
    starts = []
    for statement in tree.body:
        starts.append(line)
        line += _lines(tree, statement)
    return Parsed(text, tree, tuple(starts))


def _lines(module: cst.Module, statement: cst.CSTNode) -> int:
    return module.code_for_node(statement).count("\n")


def reparse(previous: Optional[Parsed], text: str) -> Parsed:
    """``text`` parsed, reusing ``previous`` where the edit allows."""
    if previous is not None:
        try:
            spliced = _splice(previous, text)
        except Exception:  # noqa: BLE001 - whatever goes wrong, the full parse decides
            spliced = None
        if spliced is not None:
            return spliced
    return parse(text)


def _splice(old: Parsed, text: str) -> Optional[Parsed]:
    if old.text == text:
        return old
    body, starts = old.tree.body, old.starts
    if len(body) < 3:
        return None
    old_lines = old.text.splitlines(keepends=True)
    new_lines = text.splitlines(keepends=True)
    if not old_lines or not new_lines or not old_lines[-1].endswith(("\n", "\r")) \
            or not new_lines[-1].endswith(("\n", "\r")):
        return None  # a last line without a newline: the whole module decides
    shortest = min(len(old_lines), len(new_lines))
    prefix = 0
    while prefix < shortest and old_lines[prefix] == new_lines[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < shortest - prefix
           and old_lines[len(old_lines) - 1 - suffix] == new_lines[len(new_lines) - 1 - suffix]):
        suffix += 1
    changed_end = len(old_lines) - suffix  # old lines [prefix, changed_end) changed
    delta = len(new_lines) - len(old_lines)
    body_end = len(old_lines) - len(old.tree.footer)
    if prefix >= body_end:
        # Typed after the last statement: a new statement, unless the first
        # new line is indented (it may continue the last one) or the last
        # line ends with a continuation.
        spliced = _append(old, new_lines, body_end)
        if spliced is not None:
            return spliced
    inside = _statement_at(starts, prefix)
    if (inside == _statement_at(starts, max(prefix, changed_end - 1))
            and isinstance(body[inside], cst.ClassDef)):
        # One class: parse only the methods the edit touches, if it can be.
        spliced = _splice_class(old, inside, prefix, changed_end, new_lines, delta)
        if spliced is not None:
            return spliced
    # The statements the changed lines touch, one more on each side; never
    # the first (the module's header stays put). The last one takes the
    # module's footer along: an edit at the end of the module is common.
    first = _statement_at(starts, prefix) - 1
    last = min(len(body) - 1, _statement_at(starts, max(prefix, changed_end - 1)) + 1)
    if (first + 1 >= 1 and prefix == starts[first + 1] + len(body[first + 1].leading_lines)
            and prefix < len(new_lines)
            and new_lines[prefix][:1] not in ("", " ", "\t", "\r", "\n", "#")
            and not new_lines[prefix - 1].rstrip("\r\n").endswith("\\")):
        first += 1  # the edit starts a statement at column 0: the one before stays whole
    if first < 1:
        return None
    to_end = last == len(body) - 1
    start = starts[first]
    end = len(old_lines) if to_end else starts[last + 1]
    if end + delta <= start:
        return None
    segment = "".join(new_lines[start:end + delta])
    sub = _parse(segment)
    if (sub.default_indent != old.tree.default_indent
            or sub.default_newline != old.tree.default_newline or not sub.body
            or (sub.footer and not to_end) or sub.code != segment):
        return None
    statements = list(sub.body)
    if sub.header:  # comments before the first statement are its leading lines
        statements[0] = statements[0].with_changes(
            leading_lines=[*sub.header, *statements[0].leading_lines])
    new_starts = list(starts[:first])
    line = start
    for statement in statements:
        new_starts.append(line)
        line += _lines(sub, statement)
    if line + len(sub.footer) != end + delta:
        return None
    new_starts.extend(s + delta for s in starts[last + 1:])
    changes = {"body": [*body[:first], *statements, *body[last + 1:]]}
    if to_end:
        changes.update(footer=sub.footer, has_trailing_newline=sub.has_trailing_newline)
    return Parsed(text, old.tree.with_changes(**changes), tuple(new_starts))


def _append(old: Parsed, new_lines: list[str], body_end: int) -> Optional[Parsed]:
    code = [line for line in new_lines[body_end:] if line.strip() and not
            line.lstrip().startswith("#")]
    if (not code or code[0][:1] in (" ", "\t") or body_end == 0
            or new_lines[body_end - 1].rstrip("\r\n").endswith("\\")):
        return None
    segment = "".join(new_lines[body_end:])
    sub = _parse(segment)
    indented = any(line[:1] in (" ", "\t") for line in code)
    if (sub.default_newline != old.tree.default_newline or not sub.body
            or sub.code != segment
            or (indented and sub.default_indent != old.tree.default_indent)):
        return None
    statements = list(sub.body)
    if sub.header:  # the old footer's comments and blank lines lead the new statement
        statements[0] = statements[0].with_changes(
            leading_lines=[*sub.header, *statements[0].leading_lines])
    starts = list(old.starts)
    line = body_end
    for statement in statements:
        starts.append(line)
        line += _lines(sub, statement)
    if line + len(sub.footer) != len(new_lines):
        return None
    tree = old.tree.with_changes(body=[*old.tree.body, *statements], footer=sub.footer,
                                 has_trailing_newline=sub.has_trailing_newline)
    return Parsed("".join(new_lines), tree, tuple(starts))


def _statement_at(starts: tuple[int, ...], line: int) -> int:
    """The index of the top-level statement whose lines hold ``line``."""
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= line:
            low = middle
        else:
            high = middle - 1
    return low


def _class_starts(old: Parsed, index: int) -> Optional[tuple[int, ...]]:
    """The line at which each statement of the body of the top-level class
    ``old.tree.body[index]`` starts, then the line after the body (computed
    once per class node)."""
    node = old.tree.body[index]
    known = old.inner.get(id(node))
    if known is not None:
        return known
    block = node.body
    if not isinstance(block, cst.IndentedBlock) or not block.body:
        return None
    if index + 1 < len(old.starts):
        end = old.starts[index + 1]
    elif old.text.endswith("\n"):  # the last statement: the module's footer follows
        end = old.text.count("\n") - len(old.tree.footer)
    else:
        return None
    sizes = [_lines(old.tree, s) for s in block.body]
    line = end - len(block.footer) - sum(sizes)
    found = []
    for size in sizes:
        found.append(line)
        line += size
    found.append(line)
    old.inner[id(node)] = found = tuple(found)
    return found


def _splice_class(old: Parsed, index: int, prefix: int, changed_end: int,
                  new_lines: list[str], delta: int) -> Optional[Parsed]:
    """:func:`_splice` one level down: the statements of a class body."""
    node = old.tree.body[index]
    starts = _class_starts(old, index)
    if starts is None or prefix < starts[0]:
        return None  # the class line or its decorators changed
    body = node.body.body
    heads = starts[:-1]  # the last entry is the line after the body
    if changed_end > starts[-1]:
        return None  # past the body: the class's footer, or the next statement
    first = max(0, _statement_at(heads, prefix) - 1)
    last = min(len(body) - 1, _statement_at(heads, max(prefix, changed_end - 1)) + 1)
    start, end = starts[first], starts[last + 1]
    if end + delta <= start:
        return None
    segment = "".join(new_lines[start:end + delta])
    wrapper = "class _:\n" + segment
    sub = _parse(wrapper)
    if (len(sub.body) != 1 or not isinstance(sub.body[0], cst.ClassDef) or sub.footer
            or sub.default_indent != old.tree.default_indent
            or sub.default_newline != old.tree.default_newline):
        return None
    block = sub.body[0].body
    if (not isinstance(block, cst.IndentedBlock) or block.footer or block.indent != node.body.indent
            or not block.body or sub.code_for_node(sub.body[0]) != wrapper):
        return None
    statements = list(block.body)
    new_starts = list(starts[:first])
    line = start
    for statement in statements:
        new_starts.append(line)
        line += _lines(sub, statement)
    if line != end + delta:
        return None
    new_starts.extend(s + delta for s in starts[last + 1:])
    new_class = node.with_changes(body=node.body.with_changes(
        body=[*body[:first], *statements, *body[last + 1:]]))
    tree = old.tree.with_changes(body=[*old.tree.body[:index], new_class,
                                       *old.tree.body[index + 1:]])
    top = old.starts[:index + 1] + tuple(s + delta for s in old.starts[index + 1:])
    parsed = Parsed("".join(new_lines), tree, top)
    parsed.inner[id(new_class)] = tuple(new_starts)
    return parsed
