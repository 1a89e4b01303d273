"""``ftlint server`` end to end: pytest-lsp starts the installed console
script and talks LSP to it over stdio, as an editor does."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import ftlint_executable

# Entries are objects of the module's own class, so the fix is a lock over
# the test and the store (an import, an edit at the top, and one around it).
SOURCE = (
    "_cache = {}\n"
    "\n"
    "\n"
    "def get(key):\n"
    "    if key not in _cache:\n"
    "        _cache[key] = Entry(key)\n"
    "    return _cache[key]\n"
    "\n"
    "\n"
    "class Entry:\n"
    "    def __init__(self, key):\n"
    "        self.key = key\n"
)
FIXED_MARK = "with _cache_lock:"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[ftlint_executable(), "server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    lsp_client.root = root
    registered = lsp_client.registered = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registered.extend(params.registrations)

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")]))
    yield
    await lsp_client.shutdown_session()


async def _published(client: LanguageClient) -> None:
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                           timeout=30)


async def _diagnostics(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    """Wait for the diagnostics of ``version`` of the document."""
    for _ in range(100):
        await _published(client)
        if uri in client.diagnostics and client.diagnostics_versions.get(uri, version) == version:
            return list(client.diagnostics[uri])
    raise AssertionError("no diagnostics")


def _open(client: LanguageClient, path: Path, text: str) -> str:
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text) the way an editor does: last first."""
    lines = text.splitlines(keepends=True)

    def offset(pos: types.Position) -> int:
        return sum(len(line) for line in lines[:pos.line]) + pos.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def _actions(client: LanguageClient, uri: str, line: int, only=None):
    return client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(line, 0), types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=[], only=only)))


@pytest.mark.asyncio
async def test_open_change_fix_and_recheck(client: LanguageClient):
    client.diagnostics_versions = {}
    original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams):
        client.diagnostics_versions[params.uri] = params.version
        return original(params)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    uri = _open(client, client.root / "cache.py", SOURCE)
    [found] = await _diagnostics(client, uri, 1)
    assert found.code == "FT203" and found.source == "ftlint"
    assert found.range.start == types.Position(4, 4)
    assert found.severity == types.DiagnosticSeverity.Warning

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(4, 6)))
    assert "FT203" in hover.contents.value and "rules/FT203" in hover.contents.value

    actions = await _actions(client, uri, 4)
    titles = [a.title for a in actions]
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title)
    noqa = next(a for a in actions if "noqa" in a.title)
    assert any(a.kind == "source.fixAll.ftlint" for a in actions), titles

    fixed = _apply(SOURCE, fix.edit.changes[uri])
    assert FIXED_MARK in fixed and fixed.startswith("import threading\n")
    compile(fixed, "cache.py", "exec")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    assert await _diagnostics(client, uri, 2) == []

    silenced = _apply(SOURCE, noqa.edit.changes[uri])
    assert "if key not in _cache:  # noqa: FT203\n" in silenced
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=silenced)]))
    assert await _diagnostics(client, uri, 3) == []


@pytest.mark.asyncio
async def test_fix_all_and_configuration_reload(client: LanguageClient):
    client.diagnostics_versions = {}
    uri = _open(client, client.root / "many.py", SOURCE + SOURCE.replace("_cache", "_other")
                .replace("def get", "def get2").replace("Entry", "Other"))
    await _published(client)
    assert len(client.diagnostics[uri]) == 2
    [fix_all] = await _actions(client, uri, 0, only=["source.fixAll.ftlint"])
    fixed = _apply((client.root / "many.py").read_text(), fix_all.edit.changes[uri])
    assert fixed.count("with _") == 2

    (client.root / "pyproject.toml").write_text('[tool.ftlint]\nselect = ["FT3"]\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(client.root / "pyproject.toml").as_uri(),
                        type=types.FileChangeType.Created)]))
    for _ in range(20):
        await _published(client)
        if not client.diagnostics[uri]:
            break
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_an_unparsable_buffer_is_one_diagnostic(client: LanguageClient):
    uri = _open(client, client.root / "broken.py", "def f(:\n")
    await _published(client)
    [error] = client.diagnostics[uri]
    assert error.code == "FT002" and error.severity == types.DiagnosticSeverity.Error
    assert not await _actions(client, uri, 0)


WORKER = "counter = 0\n\n\ndef bump():\n    global counter\n    counter += 1\n"
STARTER = ("import threading\n\nfrom worker import bump\n\nfor _ in range(4):\n"
           "    threading.Thread(target=bump).start()\n")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[ftlint_executable(), "server"]))
async def project_client(lsp_client: LanguageClient, tmp_path_factory):
    """A client whose workspace already holds a module that starts threads
    on another module's function."""
    root = tmp_path_factory.mktemp("project")
    (root / "starter.py").write_text(STARTER)
    lsp_client.root = root

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        pass

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")]))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_reachability_across_the_workspace(project_client: LanguageClient):
    """`bump` runs on threads started in another module of the workspace: the
    server follows that from the workspace's summaries, as `ftlint .` does,
    and reports the lost update as an error (high), not a warning."""
    client = project_client
    uri = _open(client, client.root / "worker.py", WORKER)
    severities = []
    for _ in range(20):  # alone first, then judged with the scanned workspace
        await _published(client)
        severities = [d.severity for d in client.diagnostics.get(uri, [])]
        if severities == [types.DiagnosticSeverity.Error]:
            break
    assert severities == [types.DiagnosticSeverity.Error]
    [found] = client.diagnostics[uri]
    assert found.code == "FT102"
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(5, 6)))
    assert "runs on other threads" in hover.contents.value
