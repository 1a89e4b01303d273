"""A cheap check that runs before libcst sees a file.

libcst's native parser recurses without a bound: a tuple nested 1,500 deep or
a dict nested 5,000 deep crashes the process (a segfault, which kills a pool
worker and with it the whole run), and its time and memory grow with the
square of an operator chain (`a + b + ...`, `not not ... x`, `lambda: lambda:
...`). CPython itself refuses some of these shapes, so ftlint can refuse them
too, with a finding instead of a crash:

- more than 200 nested brackets (CPython: "too many nested parentheses");
- 100 levels of indentation (CPython: "too many levels of indentation");
- more than ``MAX_CHAIN`` operators chained in one expression (CPython 3.12
  and older refuse about 3,000, libcst needs minutes for a few thousand);
- more than ``MAX_STRINGS`` string literals concatenated side by side (each
  one nests the tree one level deeper in libcst);
- more than ``MAX_ELIF`` `elif` branches of one `if` (each nests the tree one
  level deeper; libcst crashes at about 6,000, where CPython 3.13 stops);
- a file larger than ``max-file-size`` (libcst holds 400 to 900 bytes of
  memory per byte of source).

The scan is a tolerant hand tokenizer: it does not depend on the running
interpreter's ``tokenize`` (which may be older than the code: f-strings with
nested quotes of 3.12, t-strings of 3.14), it skips strings and comments, and
when in doubt it lets the file through, since the parser reports real syntax
errors itself. An f-string's replacement field is measured on its own, so a
bracket inside one never counts more than it does for any CPython.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

MAX_BRACKETS = 200  # CPython's MAXLEVEL: 201 nested brackets are a SyntaxError
MAX_INDENT = 99  # CPython's MAXINDENT is 100: 100 levels are a SyntaxError
MAX_CHAIN = 1_000  # operators chained in one expression, brackets included
MAX_STRINGS = 10_000  # string literals concatenated side by side
MAX_ELIF = 2_000  # `elif` branches of one `if`: CPython 3.12 and older refuse 3,000
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024  # about 850 MB of libcst tree; a 4 MB file needs 1.7 GB


@dataclass(frozen=True)
class Refusal:
    """Why a file is not checked, and where."""

    message: str
    row: int = 1
    column: int = 1


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"


_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f]+)
  | (?P<nl>\r\n|\r|\n)
  | (?P<comment>\#[^\r\n]*)
  | (?P<cont>\\(?:\r\n|\r|\n))
  | (?P<name>[^\W\d]\w*)
  | (?P<number>\.?[0-9](?:[0-9_.]|[eE][+-]|[\w])*)
  | (?P<quote>'''|\"\"\"|'|")
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<sep>,|;|->|:=|\*\*=|//=|>>=|<<=|[-+*/%@&|^]=|=(?!=)|!(?!=))
  | (?P<colon>:)
  | (?P<op>\*\*|//|<<|>>|<=|>=|==|!=|\.\.\.|[-+*/%@&|^~<>.])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

# A whole plain (not f- or t-) string, from just after its opening quote.
_PLAIN_BODY = {
    "'''": re.compile(r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)", re.DOTALL),
    '"""': re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)', re.DOTALL),
    "'": re.compile(r"[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*(?:'|(?=[\r\n])|\Z)", re.DOTALL),
    '"': re.compile(r'[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*(?:"|(?=[\r\n])|\Z)', re.DOTALL),
}
# Literal text of an f-string up to the next character that matters.
_FSTRING_TEXT = re.compile(r"""[^{}\\'"\r\n]+""")
_NAMED_ESCAPE = re.compile(r"\\N\{[^}\r\n]*\}")

_PREFIXES = frozenset({"r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"})
_KEYWORD_OPS = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in", "is"})


class _Field:
    """An f-string replacement field: measured from zero, as CPython 3.11 does."""

    __slots__ = ("saved", "quote", "raw", "in_spec")

    def __init__(self, saved: tuple, quote: str, raw: bool, in_spec: bool) -> None:
        self.saved = saved  # the enclosing expression's measures
        self.quote = quote  # of the f-string the field belongs to
        self.raw = raw
        self.in_spec = in_spec  # the field sits in another field's format spec


def _indent_width(text: str) -> int:
    col = 0
    for ch in text:
        if ch == "\t":
            col = (col // 8 + 1) * 8
        elif ch == "\f":
            col = 0
        else:
            col += 1
    return col


def _row_col(text: str, offset: int) -> tuple[int, int]:
    newline = "\n" if "\n" in text or "\r" not in text else "\r"
    line_start = text.rfind(newline, 0, offset) + 1
    return text.count(newline, 0, offset) + 1, offset - line_start + 1


def check(source: Union[bytes, str], max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> Optional[Refusal]:
    """None when libcst may parse ``source``, else why it may not.

    ``max_file_size`` is in bytes (of UTF-8 for a ``str``); 0 means no limit."""
    size = len(source) if isinstance(source, bytes) else len(source.encode("utf-8", "surrogatepass"))
    if max_file_size and size > max_file_size:
        return Refusal(f"not checked: {size_text(size)} is over the max-file-size of "
                       f"{size_text(max_file_size)}")
    text = source.decode("latin-1") if isinstance(source, bytes) else source
    try:
        found = _scan(text)
    except Exception:  # noqa: BLE001 - the gate only ever lets a file through on doubt
        return None
    if found is None:
        return None
    message, offset = found
    row, column = _row_col(text, offset)
    return Refusal(message.format(row=row), row, column)


def _scan(text: str) -> Optional[tuple[str, int]]:
    """(message, offset) of the first shape over a bound, or None."""
    match = _TOKEN.match
    pos, end = 0, len(text)
    # Per open bracket (and the statement itself): operators chained since the
    # last separator, and whether a lambda's parameters are open there.
    runs = [0]
    lambdas = [False]
    chain = 0  # sum(runs) + brackets open: how deep the expression can nest
    strings = 0  # string literals side by side
    indents = [0]
    elifs = [0]  # per indentation level: `elif` branches of the current `if`
    line_start = 0  # offset of the current logical line
    at_line_start = True
    fields: list[_Field] = []  # open f-string replacement fields, innermost last
    fstring: Optional[tuple[str, bool]] = None  # (quote, raw) while in literal text
    spec = False  # in a format spec: literal text that a `}` ends
    prefix, prefix_end = "", -1  # a string prefix just read, and where it ends
    while pos < end:
        if fstring is not None:
            quote, raw = fstring
            m = _FSTRING_TEXT.match(text, pos)
            if m:
                pos = m.end()
                continue
            ch = text[pos]
            if ch == "\\":
                named = None if raw else _NAMED_ESCAPE.match(text, pos)
                pos = named.end() if named else pos + 2
            elif ch in "\r\n":
                pos += 1
                if len(quote) == 1:  # unterminated: let the parser say so
                    fstring, spec = None, False
                    while fields:
                        runs, lambdas, chain = fields.pop().saved
            elif text.startswith(quote, pos):
                pos += len(quote)
                while spec and fields:  # tolerant: a quote ends the spec and the string
                    field = fields.pop()
                    runs, lambdas, chain = field.saved
                    spec = field.in_spec
                fstring, spec = None, False
                strings += 1
                if strings > MAX_STRINGS:
                    return (f"not checked: more than {MAX_STRINGS:,} string literals "
                            "concatenated at line {row}", pos)
            elif ch in "'\"":
                pos += 1
            elif ch == "{":
                if not spec and text.startswith("{{", pos):
                    pos += 2
                    continue
                pos += 1
                fields.append(_Field((runs, lambdas, chain), quote, raw, spec))
                runs, lambdas, chain = [0], [False], 0
                fstring, spec = None, False
            else:  # "}"
                if spec:
                    field = fields.pop()
                    runs, lambdas, chain = field.saved
                    spec = field.in_spec
                    pos += 1
                elif text.startswith("}}", pos):
                    pos += 2
                else:
                    pos += 1
            continue
        m = match(text, pos)
        kind = m.lastgroup
        start, pos = pos, m.end()
        if kind == "ws" or kind == "cont":
            continue
        if kind == "nl" or kind == "comment":
            if kind == "nl" and len(runs) == 1 and not fields:
                runs[0] = 0
                lambdas[0] = False
                chain = 0
                strings = 0
                at_line_start = True
                line_start = pos
            continue
        if at_line_start and not fields:
            at_line_start = False
            width = _indent_width(text[line_start:start])
            if width > indents[-1]:
                indents.append(width)
                elifs.append(0)
                if len(indents) - 1 > MAX_INDENT:
                    return (f"not checked: {MAX_INDENT + 1} levels of indentation at line "
                            "{row} (CPython rejects it too)", start)
            else:
                while width < indents[-1]:
                    indents.pop()
                    elifs.pop()
                if width > indents[-1]:  # inconsistent dedent: the parser reports it
                    indents.append(width)
                    elifs.append(0)
            word = m.group() if kind == "name" else ""
            if word == "elif":
                elifs[-1] += 1
                if elifs[-1] > MAX_ELIF:
                    return (f"not checked: more than {MAX_ELIF:,} `elif` branches at line "
                            "{row}", start)
            elif word != "else":
                elifs[-1] = 0
        if kind != "quote":
            strings = 0
        if kind == "name":
            if pos < end and text[pos] in "'\"" and m.group().lower() in _PREFIXES:
                prefix, prefix_end = m.group().lower(), pos
                continue  # a string prefix; the quote comes next
            if m.group() in _KEYWORD_OPS:
                if m.group() == "lambda":
                    lambdas[-1] = True
                runs[-1] += 1
                chain += 1
        elif kind == "quote":
            quote = m.group()
            if prefix_end != start:
                prefix = ""
            if "f" in prefix or "t" in prefix:
                fstring = (quote, "r" in prefix)
                continue
            body = _PLAIN_BODY[quote].match(text, pos)
            pos = body.end()
            strings += 1
            if strings > MAX_STRINGS:
                return (f"not checked: more than {MAX_STRINGS:,} string literals concatenated "
                        "at line {row}", start)
        elif kind == "open":
            runs[-1] += 1
            runs.append(0)
            lambdas.append(False)
            chain += 2
            if len(runs) - 1 > MAX_BRACKETS:
                return (f"not checked: nesting deeper than {MAX_BRACKETS} brackets at line "
                        "{row} (CPython rejects it too)", start)
        elif kind == "close":
            if len(runs) > 1:
                chain -= runs.pop() + 1
                lambdas.pop()
            elif fields and m.group() == "}":
                field = fields.pop()
                runs, lambdas, chain = field.saved
                fstring, spec = (field.quote, field.raw), field.in_spec
                continue
        elif kind == "sep":
            if not lambdas[-1]:
                chain -= runs[-1]
                runs[-1] = 0
        elif kind == "colon":
            if fields and len(runs) == 1:  # a format spec
                fstring = (fields[-1].quote, fields[-1].raw)
                spec = True
                continue
            lambdas[-1] = False
        elif kind == "op":
            runs[-1] += 1
            chain += 1
        if chain > MAX_CHAIN:
            return (f"not checked: an expression chains more than {MAX_CHAIN:,} operators at "
                    "line {row} (too slow for the parser)", start)
    return None
