#!/usr/bin/env python3
"""Editor latency: how long after an edit does the editor see ftlint's
findings?

1. ``ftlint server``: a real LSP client (pygls) opens a large module of the
   running interpreter's standard library (``subprocess.py``, about 2,300
   lines, unless ``--file`` names another), then edits it ``--edits`` times;
   each edit is timed from ``didChange`` to the ``publishDiagnostics`` of
   that version. Target: at most 150 ms. With ``--workspace DIR``, a copy
   of DIR is the workspace: the server reads it first (its modules'
   summaries, for reachability across modules) and the edits are timed
   after that, with every buffer judged against the whole workspace.
2. flake8 on the same file, alone (``--select E,F,W``) and with ftlint's
   plugin added (``--select E,F,W,FT``). Target: the plugin at most doubles
   flake8's own time.

Prints the figures and the ratios. Needs pygls (``pip install
'ftlint[server]'``) and flake8.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path


def _ftlint() -> list[str]:
    exe = shutil.which("ftlint")
    return [exe] if exe else [sys.executable, "-m", "ftlint"]


def _edit_point(text: str) -> tuple[int, str]:
    """A line in the middle of the module, inside a function, after which a
    statement with its indentation can be typed: (line index, indentation)."""
    import ast

    lines = text.splitlines(keepends=True)
    for index in range(len(lines) // 2, len(lines)):
        line = lines[index]
        indent = line[:len(line) - len(line.lstrip())]
        if len(indent) < 8 or not line.strip() or line.rstrip().endswith((":", ",", "(", "\\")):
            continue
        candidate = lines[:index + 1] + [f"{indent}_edit = 0\n"] + lines[index + 1:]
        try:
            ast.parse("".join(candidate))
        except SyntaxError:
            continue
        return index, indent
    raise SystemExit("no place to edit in the middle of the file")


async def _server(path: Path, edits: int, root: Path, where: str) -> list[float]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("latency", "1")
    published: dict[int, float] = {}
    event = asyncio.Event()
    scanned = asyncio.Event()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        if "workspace read" in params.message:
            print(params.message.replace(str(root), "the workspace"))
            scanned.set()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published[params.version] = time.perf_counter()
        event.set()

    await client.start_io(*_ftlint(), "server")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri()))
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(scanned.wait(), timeout=600)
    text = path.read_text()
    uri = path.as_uri()

    async def wait(version: int) -> float:
        while version not in published:
            event.clear()
            await asyncio.wait_for(event.wait(), timeout=60)
        return published[version]

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=0, text=text)))
    await wait(0)
    times = []
    lines = text.splitlines(keepends=True)
    index, indent = _edit_point(text) if where == "middle" else (len(lines), "")
    for version in range(1, edits + 1):
        # A keystroke's worth of change: a line typed inside a function in the
        # middle of the module, or appended at its end.
        typed = f"{indent}_edit_{version} = {version}\n"
        text = "".join(lines[:index + 1] + [typed] + lines[index + 1:])
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        times.append(await wait(version) - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def _flake8(path: Path, select: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flake8", "--isolated", f"--select={select}",
                        str(path)], capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", type=Path, default=Path(sysconfig.get_paths()["stdlib"]) / "subprocess.py")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--workspace", type=Path, default=None,
                    help="a project to copy in as the workspace (default: the file alone)")
    ap.add_argument("--repeat", type=int, default=3, help="flake8 runs (the best counts)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workspace"
        if args.workspace is not None:
            shutil.copytree(args.workspace, root, ignore=shutil.ignore_patterns(
                "__pycache__", ".ftlint_cache", ".git"))
        else:
            root.mkdir()
        path = root / args.file.name  # a copy: no project config applies
        shutil.copyfile(args.file, path)
        lines = len(path.read_text().splitlines())
        print(f"file: {args.file.name}, {lines} lines")
        for where, label in (("middle", "a line typed in a function in the middle"),
                             ("end", "a line appended at the end")):
            times = asyncio.run(_server(path, args.edits, root, where))
            median, worst = statistics.median(times) * 1000, max(times) * 1000
            print(f"ftlint server, edit -> diagnostics, {label}: median {median:.0f} ms, "
                  f"worst {worst:.0f} ms over {len(times)} edits "
                  f"(target <= 150 ms: {'met' if median <= 150 else 'missed'})")
        alone = _flake8(path, "E,F,W", args.repeat)
        plugin = _flake8(path, "E,F,W,FT", args.repeat)
        ratio = plugin / alone
        print(f"flake8 alone {alone:.2f} s, with ftlint's plugin {plugin:.2f} s: {ratio:.2f}x "
              f"(target <= 2x: {'met' if ratio <= 2 else 'missed'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
