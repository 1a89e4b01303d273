"""The sample outputs in README.md and docs/*.md are what the tool prints.

Every ```console block in those files is a transcript: lines that start with
``$ `` are commands, the lines after each command are what it prints (standard
output and standard error, as a terminal shows them). The test runs each
command for real, with the installed ``ftlint`` and ``flake8`` first on PATH,
and compares. HTML comments, invisible on the rendered page, tie a page's
blocks together:

``<!-- sample-file: PATH -->``
    before any fenced block: the block's text is the file PATH.
``<!-- sample-copy: PATH ... -->``
    copy these paths of this repository (files or folders).
``<!-- sample-exit: 1 -->``
    before a console block: the exit code of each of its commands, in order.
``<!-- sample-result: PATH -->``
    before any other fenced block: the block is what the commands before it
    wrote to PATH (``ftlint --format junit src/ > report.xml``).
``<!-- not-a-sample: REASON -->``
    before a console block that cannot run here (another interpreter, your
    own code, a network); it is not run.

The commands of a page run in one fresh directory, in the order of the page,
after the files and copies that precede them; what a command changes (a fix,
a baseline) is there for the next one. A console block that is not a
transcript is an error: commands to type go in a ```shell block.

Only what must be is normalised: trailing whitespace and trailing blank
lines (Markdown does not keep them) and the sample directory's absolute path,
which is printed as ``/path/to/project``.

To refresh the outputs after the tool's output changed::

    FTLINT_UPDATE_SAMPLES=1 python -m pytest tests/test_doc_samples.py

rewrites each transcript's output and exit codes in place; review the diff.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UPDATE = bool(os.environ.get("FTLINT_UPDATE_SAMPLES"))
PROJECT_PATH = "/path/to/project"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
COMMENT = re.compile(r"^\s*<!--\s*(?P<key>[\w-]+)\s*:?\s*(?P<value>.*?)\s*-->\s*$")
MARKERS = {"sample-file", "sample-copy", "sample-exit", "sample-result", "not-a-sample"}


@dataclass
class Block:
    doc: Path
    line: int  # 0-based index of the opening fence
    end: int  # index of the closing fence
    indent: str
    lang: str
    body: list[str]  # without the indentation
    markers: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (line, value)

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line + 1}"


@dataclass
class Step:
    """A sample-copy comment (``copy``) or a fenced block, in page order."""
    copy: tuple[str, ...] = ()
    block: Block | None = None


def parse(doc: Path) -> tuple[list[str], list[Step], list[str]]:
    """The page's lines, its steps in order, and problems with its markers."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    steps: list[Step] = []
    problems: list[str] = []
    pending: dict[str, tuple[int, str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        comment = COMMENT.match(line)
        if comment and (comment["key"] in MARKERS or comment["key"].startswith("sample")):
            key, value = comment["key"], comment["value"]
            where = f"{doc.relative_to(ROOT)}:{i + 1}"
            if key not in MARKERS:
                problems.append(f"{where}: unknown marker {key!r} (one of {sorted(MARKERS)})")
            elif key in {"sample-file", "sample-copy", "sample-result"} and any(
                    Path(p).is_absolute() or ".." in Path(p).parts for p in value.split()):
                problems.append(f"{where}: {key} takes paths relative to the sample directory")
            elif key == "sample-copy":
                paths = tuple(value.split())
                missing = [p for p in paths if not (ROOT / p).exists()]
                if not paths or missing:
                    problems.append(f"{where}: sample-copy of missing paths {missing or value!r}")
                steps.append(Step(copy=paths))
            else:
                pending[key] = (i, value)
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            indent, marks = fence["indent"], fence["fence"]
            j = i + 1
            while j < len(lines) and not (lines[j].startswith(indent)
                                          and lines[j][len(indent):].rstrip() == marks):
                j += 1
            body = [text[len(indent):] if text.startswith(indent) else text.lstrip()
                    for text in lines[i + 1:j]]
            lang = fence["info"].strip().split(" ")[0] if fence["info"].strip() else ""
            steps.append(Step(block=Block(doc, i, j, indent, lang, body, pending)))
            pending = {}
            i = j + 1
            continue
        if line.strip() and pending:
            where = f"{doc.relative_to(ROOT)}:{pending[next(iter(pending))][0] + 1}"
            problems.append(f"{where}: marker {sorted(pending)} is not followed by a fenced block")
            pending = {}
        i += 1
    for step in steps:
        block = step.block
        if block is None:
            continue
        keys = set(block.markers)
        transcript = bool(block.body) and block.body[0].startswith("$ ")
        if block.lang == "console":
            if keys & {"sample-file", "sample-result"}:
                problems.append(f"{block.where}: a console block is not a file")
            if "not-a-sample" in keys:
                if not block.markers["not-a-sample"][1]:
                    problems.append(f"{block.where}: not-a-sample needs a reason")
                if "sample-exit" in keys:
                    problems.append(f"{block.where}: not-a-sample and sample-exit")
            elif not transcript:
                problems.append(
                    f"{block.where}: a console block is a transcript (first line `$ command`, "
                    "then its output); put commands to type in a ```shell block, or mark it "
                    "<!-- not-a-sample: why -->")
        else:
            if len(keys & {"sample-file", "sample-result"}) > 1:
                problems.append(f"{block.where}: a block is either a file or a result")
            extra = keys - {"sample-file", "sample-result"}
            if extra:
                problems.append(f"{block.where}: {sorted(extra)} only applies to a console block")
            if transcript and not keys:
                problems.append(f"{block.where}: a transcript (`$ ...`) in a ```{block.lang} "
                                "block escapes the test: make it a ```console block")
    return lines, steps, problems


def samples(steps: list[Step]) -> list[Block]:
    return [s.block for s in steps if s.block is not None and s.block.lang == "console"
            and "not-a-sample" not in s.block.markers]


def split_transcript(body: list[str]) -> list[tuple[list[str], list[str]]]:
    """[(command lines as written, expected output lines)] of a transcript."""
    commands: list[tuple[list[str], list[str]]] = []
    i = 0
    while i < len(body):
        line = body[i]
        if line.startswith("$ "):
            command = [line]
            while command[-1].endswith("\\") and i + 1 < len(body):
                i += 1
                command.append(body[i])
            commands.append((command, []))
        else:
            commands[-1][1].append(line)
        i += 1
    return [(command, _trim(output)) for command, output in commands]


def _trim(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def command_text(command: list[str]) -> str:
    return "\n".join(command)[2:]


def normalise(text: str, project: Path) -> list[str]:
    for path in {str(project.resolve()), str(project)}:
        text = text.replace(path, PROJECT_PATH)
    return _trim(text.split("\n"))


def run_command(command: str, cwd: Path) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FTLINT_", "FLAKE8", "PYTHON", "VIRTUAL_ENV"))
           and k not in {"FORCE_COLOR", "NO_COLOR", "CLICOLOR_FORCE", "COLUMNS"}}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", os.defpath)])
    # Standard output and standard error in the order they are written, as on
    # a terminal (where both are line-buffered).
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, timeout=300)
    return proc.returncode, normalise(proc.stdout, cwd)


def exit_codes(block: Block) -> list[int] | None:
    if "sample-exit" not in block.markers:
        return None
    value = block.markers["sample-exit"][1]
    try:
        return [int(v) for v in value.replace(",", " ").split()]
    except ValueError:
        pytest.fail(f"{block.where}: sample-exit {value!r} is not a list of exit codes")


def _docs_with_samples() -> list[Path]:
    return [doc for doc in documents() if samples(parse(doc)[1])]


def test_every_console_block_is_a_sample_or_marked():
    problems = [p for doc in documents() for p in parse(doc)[2]]
    assert not problems, "\n".join(problems)


def test_the_tools_come_from_this_environment():
    for tool in ("ftlint", "flake8"):
        found = shutil.which(tool, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
        assert found and Path(found).parent == BIN, (tool, found)


@pytest.mark.parametrize("doc", _docs_with_samples(), ids=lambda p: str(p.relative_to(ROOT)))
def test_samples_match_the_tool(doc: Path, tmp_path: Path):
    lines, steps, problems = parse(doc)
    assert not problems, "\n".join(problems)
    project = tmp_path / "project"
    project.mkdir()
    failures: list[str] = []
    edits: list[tuple[int, int, list[str]]] = []  # (start, end) replaced by lines
    for step in steps:
        for rel in step.copy:
            source, target = ROOT / rel, project / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
        block = step.block
        if block is None:
            continue
        if "sample-file" in block.markers:
            target = project / block.markers["sample-file"][1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(block.body) + "\n", encoding="utf-8")
            continue
        if "sample-result" in block.markers:
            rel = block.markers["sample-result"][1]
            result = project / rel
            actual = normalise(result.read_text(encoding="utf-8"), project) \
                if result.is_file() else [f"(no file {rel})"]
            if actual != _trim(block.body):
                failures.append(f"{block.where}: {rel} holds\n" + "\n".join(
                    difflib.unified_diff(_trim(block.body), actual, "in the docs", "written",
                                         lineterm="")))
            edits.append((block.line + 1, block.end,
                          [block.indent + text if text else text for text in actual]))
            continue
        if block.lang != "console" or "not-a-sample" in block.markers:
            continue
        expected_codes = exit_codes(block)
        codes: list[int] = []
        body: list[str] = []
        for command, expected in split_transcript(block.body):
            code, actual = run_command(command_text(command), project)
            codes.append(code)
            body += command + actual
            if actual != expected:
                failures.append(f"{block.where}: `{command_text(command)}` prints\n" + "\n".join(
                    difflib.unified_diff(expected, actual, "in the docs", "printed", lineterm="")))
        if expected_codes != codes:
            said = "nothing (no sample-exit marker)" if expected_codes is None else expected_codes
            failures.append(f"{block.where}: exit codes {codes}, the docs say {said}")
        exit_line = f"{block.indent}<!-- sample-exit: {', '.join(map(str, codes))} -->"
        if "sample-exit" in block.markers:
            at = block.markers["sample-exit"][0]
            edits.append((at, at + 1, [exit_line]))
        else:
            edits.append((block.line, block.line, [exit_line]))
        edits.append((block.line + 1, block.end,
                      [block.indent + text if text else text for text in body]))
    if UPDATE:
        new = list(lines)
        for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            new[start:end] = replacement
        if new != lines:
            doc.write_text("\n".join(new), encoding="utf-8")
        return
    assert not failures, ("\n\n".join(failures) + "\n\nIf the tool is right, refresh the docs: "
                          "FTLINT_UPDATE_SAMPLES=1 python -m pytest tests/test_doc_samples.py")
