"""``ftlint server``: a language server, LSP over stdio, on pygls.

It checks the buffers an editor has open (unsaved text included) with the
same engine as the command line, and the settings the command line would use
for that file, and offers:

- diagnostics on open, change and save;
- code actions: each finding's safe fix, its unsafe fix (titled as such),
  "fix all" for the file (``source.fixAll.ftlint``), and "suppress with
  ``# noqa: FTxxx``";
- hover text on a finding: the rule's summary, the confidence and why, and a
  link to the rule's page.

Settings are read per folder and read again when a configuration file
(``pyproject.toml``, ``ftlint.toml``, ``.ftlint.toml``) is saved or changes
on disk.

Thread reachability is followed across modules, as on the command line:
once initialized, the server checks the workspace's folders in the
background (through the result cache, so a workspace ``ftlint`` has seen is
read, not analysed again) and keeps each module's summary; a buffer is then
judged with the summaries of the project's other modules (those of open
buffers as they are in the editor). Until that scan is done, each buffer is
judged on its own.
"""
from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from ftlint import __version__
from ftlint.api import fix_source, lint_source
from ftlint.config import CONFIG_FILES, ConfigError, Resolver, Settings
from ftlint.diagnostics import DOCS_URL, Confidence, Diagnostic
from ftlint.project import module_name
from ftlint.results import FileResult

SOURCE = "ftlint"
FIX_ALL = "source.fixAll.ftlint"
CONFIG_NAMES = frozenset(CONFIG_FILES)
_SEVERITY = {
    Confidence.HIGH: types.DiagnosticSeverity.Error,
    Confidence.MEDIUM: types.DiagnosticSeverity.Warning,
    Confidence.LOW: types.DiagnosticSeverity.Information,
}
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                   re.IGNORECASE)


@dataclass
class _Checked:
    """One buffer's last check: its version and ftlint's findings."""

    version: Optional[int]
    source: str
    path: str
    settings: Settings
    findings: list[Diagnostic] = field(default_factory=list)
    fixed: Optional[list[Diagnostic]] = None  # the findings with their fixes, built on demand
    module: Optional[str] = None
    others: list[FileResult] = field(default_factory=list, repr=False)

    def with_fixes(self) -> list[Diagnostic]:
        """The findings with their fixes: built only when a code action is
        asked for, so that a check on every keystroke stays cheap."""
        if self.fixed is None:
            self.fixed = list(lint_source(self.source, self.path, self.settings, fixes=True,
                                          module=self.module,
                                          others=self.others).diagnostics)
        return self.fixed


class FtlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ftlint", __version__)
        self.resolver = Resolver()
        self.checked: dict[str, _Checked] = {}
        self.parsed: dict = {}  # uri -> incremental.Parsed, the buffer's last tree
        # Absolute path -> a result holding the module's summary, for every
        # module of the workspace scanned and every buffer checked.
        self.project: dict[str, FileResult] = {}

    # -- settings ----------------------------------------------------------
    def settings_for(self, path: str) -> Settings:
        """The settings `ftlint PATH` would use: the nearest configuration
        file above it (looked up once per folder)."""
        return self.resolver.for_file(os.path.abspath(path))

    def forget_settings(self) -> None:
        self.resolver = Resolver()

    # -- checking ----------------------------------------------------------
    def check(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        if not _is_python(document):
            return
        source = document.source
        try:
            settings = self.settings_for(document.path)
        except ConfigError as exc:
            self.window_show_message(types.ShowMessageParams(
                types.MessageType.Error, f"ftlint: configuration error: {exc}"))
            return
        path = _display_path(document.path, settings)
        where = os.path.abspath(document.path)
        module = module_name(where)
        others = [r for p, r in self.project.items() if p != where]
        result = lint_source(source, path, settings, module=module, others=others,
                             tree=self.tree_of(uri, source, settings))
        self.project[where] = FileResult(where, summary=result.summary)
        self.checked[uri] = _Checked(document.version, source, path, settings,
                                     list(result.diagnostics), module=module, others=others)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=document.version,
            diagnostics=[_to_lsp(d, document) for d in result.diagnostics]))

    def tree_of(self, uri: str, source: str, settings: Settings):
        """The buffer parsed, reusing its last tree where the edit allows
        (:mod:`ftlint.incremental`); None leaves parsing (and reporting
        what stops it) to the check."""
        from ftlint import gate, incremental

        if gate.check(source, settings.max_file_size) is not None:
            self.parsed.pop(uri, None)
            return None
        try:
            parsed = incremental.reparse(self.parsed.get(uri), source)
        except Exception:  # noqa: BLE001 - a syntax error: the check reports it
            return None  # (the last tree that parsed stays, for the next edit)
        self.parsed[uri] = parsed
        return parsed.tree

    def recheck_all(self) -> None:
        for uri in list(self.checked):
            self.check(uri)

    async def scan_workspace(self) -> None:
        """Read (or analyse) the workspace's modules in a thread, keep their
        summaries, then judge the open buffers again with them."""
        folders = [f.uri for f in self.workspace.folders.values()] or (
            [self.workspace.root_uri] if self.workspace.root_uri else [])
        for uri in folders:
            path = to_fs_path(uri)
            if path is None or not os.path.isdir(path):
                continue
            try:
                results = await asyncio.to_thread(_scan, path, self.resolver)
            except Exception as exc:  # noqa: BLE001 - the buffers are still checked
                self.window_log_message(types.LogMessageParams(
                    types.MessageType.Warning,
                    f"ftlint: cannot scan {path} ({type(exc).__name__}: {exc}); each file is "
                    "judged on its own"))
                continue
            for r in results:
                # An open buffer's own summary is newer than the file's.
                self.project.setdefault(os.path.abspath(r.path),
                                        FileResult(r.path, summary=r.summary))
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Info,
                f"ftlint: workspace read: {len(results)} modules under {path}"))
        self.recheck_all()


def _scan(folder: str, resolver: Resolver) -> list[FileResult]:
    """Each module's result before the project pass, as ``ftlint FOLDER``
    finds them (each file with its nearest configuration), through the
    result cache."""
    from ftlint.api import enabled_rules, lint_paths
    from ftlint.cache import Cache, cache_dir

    settings = resolver.for_paths((folder,))
    cache = Cache(cache_dir(settings), settings, enabled_rules(settings), False)
    # One job, in this thread: forking a pool from a threaded server is not
    # safe, and the cache makes a workspace seen before cheap to read.
    return [r for r in lint_paths((folder,), resolver, cache=cache, jobs=1).raw
            if r.summary is not None]


def _is_python(document: TextDocument) -> bool:
    return (document.language_id in (None, "", "python")
            and document.path.endswith((".py", ".pyi")) or document.language_id == "python")


def _display_path(path: str, settings: Settings) -> str:
    """The path as the command line names it, relative to the project root,
    so that per-file settings (tests, per-file ignores) apply."""
    try:
        return os.path.relpath(path, settings.root) if settings.root else path
    except ValueError:  # another drive on Windows
        return path


def _position(document: TextDocument, row: int, column: int) -> types.Position:
    """ftlint's 1-based row and character column -> the client's units."""
    lines = document.lines
    line = max(row - 1, 0)
    if line >= len(lines):
        return types.Position(line=len(lines), character=0)
    return document.position_codec.position_to_client_units(
        lines, types.Position(line=line, character=max(column - 1, 0)))


def _to_lsp(d: Diagnostic, document: TextDocument) -> types.Diagnostic:
    message = d.message if d.is_error else f"{d.message} [{d.confidence.name.lower()}]"
    return types.Diagnostic(
        range=types.Range(_position(document, d.start.row, d.start.column),
                          _position(document, d.end.row, d.end.column)),
        message=message,
        severity=types.DiagnosticSeverity.Error if d.is_error else _SEVERITY[d.confidence],
        code=d.code,
        code_description=types.CodeDescription(href=d.url) if d.url else None,
        source=SOURCE,
        data={"row": d.start.row, "column": d.start.column, "code": d.code},
    )


def _text_edits(document: TextDocument, fix: dict) -> list[types.TextEdit]:
    """A fix's line-range edits (ruff's JSON shape) as LSP text edits."""
    return [types.TextEdit(
        range=types.Range(_position(document, e["location"]["row"], e["location"]["column"]),
                          _position(document, e["end_location"]["row"],
                                    e["end_location"]["column"])),
        new_text=e["content"]) for e in fix.get("edits", ())]


def _whole(document: TextDocument, new_text: str) -> types.TextEdit:
    lines = document.lines
    return types.TextEdit(range=types.Range(types.Position(0, 0),
                                            types.Position(len(lines), 0)), new_text=new_text)


def _noqa_edit(document: TextDocument, d: Diagnostic) -> Optional[types.TextEdit]:
    """Add ``# noqa: CODE`` to the finding's line, merged with one there."""
    row = d.start.row  # where `# noqa` silences a finding
    lines = document.lines
    if not 0 < row <= len(lines):
        return None
    line = lines[row - 1]
    body = line.rstrip("\r\n")
    match = _NOQA.search(body)
    if match is None:
        new = f"{body.rstrip()}  # noqa: {d.code}"
    elif match.group("codes") is None:
        return None  # a bare "# noqa" already silences it
    else:
        codes = [c for c in re.split(r"[,\s]+", match.group("codes")) if c]
        if d.code in (c.upper() for c in codes):
            return None
        new = f"{body[:match.start()]}# noqa: {', '.join(codes + [d.code])}{body[match.end():]}"
    return types.TextEdit(range=types.Range(types.Position(row - 1, 0),
                                            types.Position(row - 1, len(body))), new_text=new)


server = FtlintServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: FtlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: FtlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: FtlintServer, params: types.DidSaveTextDocumentParams) -> None:
    if os.path.basename(params.text_document.uri) in CONFIG_NAMES:
        ls.forget_settings()
        ls.recheck_all()
    else:
        ls.check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: FtlintServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.checked.pop(params.text_document.uri, None)
    ls.parsed.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=params.text_document.uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched(ls: FtlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(os.path.basename(c.uri) in CONFIG_NAMES for c in params.changes):
        ls.forget_settings()
        ls.recheck_all()


@server.feature(types.INITIALIZED)
async def initialized(ls: FtlintServer, params: types.InitializedParams) -> None:
    """Ask to hear of configuration changes on disk, where the client can;
    then read the workspace's modules for cross-module reachability."""
    capabilities = ls.client_capabilities.workspace
    watched = capabilities.did_change_watched_files if capabilities else None
    if watched is not None and watched.dynamic_registration:
        ls.client_register_capability(types.RegistrationParams(registrations=[
            types.Registration(
                id="ftlint-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[
                    types.FileSystemWatcher(glob_pattern=f"**/{name}")
                    for name in sorted(CONFIG_NAMES)]))]))
    await ls.scan_workspace()


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False))
def code_actions(ls: FtlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    checked = ls.checked.get(uri)
    document = ls.workspace.get_text_document(uri)
    if checked is None or checked.source != document.source:
        ls.check(uri)
        checked = ls.checked.get(uri)
    if checked is None:
        return []
    wanted = params.context.only
    actions: list[types.CodeAction] = []
    first, last = params.range.start.line + 1, params.range.end.line + 1
    if not wanted or types.CodeActionKind.QuickFix in wanted:
        for d in checked.with_fixes():
            if d.is_error or d.end.row < first or d.start.row > last:
                continue
            lsp = _to_lsp(d, document)
            if d.fix and d.fix.get("edits"):
                unsafe = d.fix.get("applicability") == "unsafe"
                actions.append(types.CodeAction(
                    title=f"ftlint: {d.fix.get('message') or 'fix'} ({d.code}"
                          f"{', unsafe: check it' if unsafe else ''})",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[lsp],
                    is_preferred=not unsafe,
                    edit=types.WorkspaceEdit(changes={uri: _text_edits(document, d.fix)})))
            noqa = _noqa_edit(document, d)
            if noqa is not None:
                actions.append(types.CodeAction(
                    title=f"ftlint: suppress {d.code} with `# noqa: {d.code}`",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[lsp],
                    edit=types.WorkspaceEdit(changes={uri: [noqa]})))
    if any(d.fix for d in checked.with_fixes()) and (
            not wanted or any(FIX_ALL.startswith(k) for k in wanted)):
        result = fix_source(checked.source, checked.path, checked.settings)
        if result.changed:
            new = result.new_source
            new = new.decode("utf-8") if isinstance(new, bytes) else new
            actions.append(types.CodeAction(
                title=f"ftlint: fix all in this file ({len(result.applied)} safe "
                      f"fix{'es' if len(result.applied) != 1 else ''})",
                kind=FIX_ALL, edit=types.WorkspaceEdit(changes={uri: [_whole(document, new)]})))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: FtlintServer, params: types.HoverParams) -> Optional[types.Hover]:
    checked = ls.checked.get(params.text_document.uri)
    if checked is None:
        return None
    row = params.position.line + 1
    here = [d for d in checked.findings if not d.is_error and d.start.row <= row <= d.end.row]
    if not here:
        return None
    from ftlint.rules import get_rule

    parts = []
    for d in here:
        rule = get_rule(d.code)
        summary = getattr(rule, "summary", "") if rule is not None else ""
        parts.append(f"**{d.code} {d.name}** ({d.confidence.name.lower()}): {d.message}\n\n"
                     f"{summary}\n\n*Why this confidence:* {d.reason}\n\n"
                     f"[{d.code} documentation]({DOCS_URL.format(code=d.code)})")
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                    value="\n\n---\n\n".join(parts)))


def run() -> None:
    server.start_io()
