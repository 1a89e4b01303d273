"""The ``ftlint deps`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, NoReturn, Optional, TypeVar

import click

# The audit machinery is imported when the command runs, so that loading the
# CLI for `ftlint check` does not pay for it.
EXIT_ERROR = 2
T = TypeVar("T")


@click.command("deps", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--python", "python", metavar="PATH", default=None,
              help="Interpreter to audit: a python executable, a virtual environment "
                   "directory or a command on PATH. Default: the one running ftlint.")
@click.option("--requirements", "-r", "requirements", metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Audit only what this requirements file declares, and what that "
                   "requires in turn (with --available: only what it declares).")
@click.option("--project", metavar="DIR", type=click.Path(path_type=Path), default=None,
              help="Find pyproject.toml at or above DIR instead of the current directory.")
@click.option("--all", "audit_all", is_flag=True,
              help="Audit every installed distribution, even in a project directory.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="Output format (markdown: with --available only).")
@click.option("--no-import", is_flag=True,
              help="Run nothing from the audited environment: its interpreter is "
                   "started only with -I -S (so no .pth file, sitecustomize or "
                   "usercustomize runs) to read metadata files, and verdicts rest on "
                   "wheel tags and classifiers. Without it, on a free-threaded "
                   "interpreter, the extension modules of every audited distribution "
                   "are imported, which runs their code.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, metavar="SECONDS",
              help="Time limit for importing one distribution's modules; one that "
                   "takes longer is reported as an error. With --available, and for the "
                   "next-step lookups: for one request to the index.")
@click.option("--no-index", is_flag=True,
              help="Do not ask the package index (pip's configuration, PIP_INDEX_URL) "
                   "whether a newer release of a GIL-re-enabling or unknown distribution "
                   "ships free-threaded wheels for the audited interpreter.")
@click.option("--strict", is_flag=True, help="Exit with 1 also when a verdict is unknown.")
@click.option("--available", is_flag=True,
              help="Install nothing, audit nothing installed: ask the package index what "
                   "the declared requirements would install on --target and whether it "
                   "has free-threaded wheels. Needs 'ftlint[index]'.")
@click.option("--target", metavar="VERSION", default=None,
              help="With --available: the free-threaded CPython to plan for, such as "
                   "3.14t or 3.13t. Default: 3.14t.")
@click.option("--platform", "platforms", metavar="TAG", multiple=True,
              help="With --available: the wheel platform tag of the target machine, such "
                   "as manylinux_2_28_x86_64, macosx_11_0_arm64 or win_amd64 (older "
                   "manylinux and macOS tags it runs are implied; repeatable). Default: "
                   "this machine's.")
@click.option("--index-url", metavar="URL", default=None,
              help="With --available: the Simple API index to ask instead of the ones in "
                   "pip's configuration (PIP_INDEX_URL, pip.conf). Default: pip's, else "
                   "PyPI.")
@click.option("--extra-index-url", "extra_index_urls", metavar="URL", multiple=True,
              help="With --available: one more index to ask, as in pip (repeatable).")
def deps(python: Optional[str], requirements: Optional[Path], project: Optional[Path],
         audit_all: bool, output_format: str, no_import: bool, timeout: float,
         no_index: bool, strict: bool, available: bool, target: Optional[str],
         platforms: tuple[str, ...], index_url: Optional[str], extra_index_urls: tuple[str, ...]) -> None:
    """Check whether the installed dependencies keep the GIL disabled.

    On a free-threaded CPython (3.13t, 3.14t), importing one extension module
    that does not declare the Py_mod_gil slot turns the GIL back on for the
    whole process. For each installed distribution this reports whether it
    ships extension modules, whether it was installed from a free-threaded
    wheel (cp313t, cp314t), its Free Threading classifier, and a verdict:
    ready, gil-re-enabling, unknown, pure-python or error.

    \b
    Which distributions are audited:
      --requirements FILE   what FILE declares, and their requirements
      (default)             the [project] dependencies of the nearest
                            pyproject.toml, and their requirements; every
                            installed distribution if there is none
      --all                 every installed distribution

    The metadata is read by the audited interpreter started with -I -S: no
    .pth file, sitecustomize or usercustomize of its environment runs. On a
    free-threaded interpreter, unless --no-import is given, the verdict then
    comes from importing each distribution's extension modules (and so their
    packages' __init__ code) in a separate child process, started normally
    (its .pth files and sitecustomize run) but without PYTHON_GIL, and
    checking whether the GIL came back on. IMPORTING RUNS THE PACKAGES' CODE:
    a line on stderr says so before it starts; use --no-import to judge from
    metadata only.

    For each distribution that re-enables the GIL, or is unknown with
    extension modules and no free-threaded wheel tag, the package index pip
    is configured with (PIP_INDEX_URL, pip.conf; needs 'ftlint[index]') is
    asked whether a newer release ships free-threaded wheels for the audited
    interpreter; if one does, a next step says which ("upgrade to
    NAME>=X: it ships cp313t wheels"). An index that cannot be read only
    means no advice. --no-index skips these lookups.

    A distribution that cannot be audited (unreadable metadata, a probe that
    crashes or times out) gets the verdict error; the others are still
    audited.

    Exit codes: 0 every audited distribution is ready, pure Python or unknown;
    1 one re-enables the GIL, one could not be audited (error) or a
    requirement is not satisfied (and, with --strict, one is unknown); 2 bad
    input, such as an interpreter that cannot be run or an unreadable
    requirements file.

    \b
    With --available nothing needs to be installed: for each requirement of
    -r FILE (default: the [project] dependencies of the nearest
    pyproject.toml, else the requirements*.txt files beside it) the index
    pip is configured with says which release pip would pick for --target
    on --platform (yanked releases, requires-python, markers and
    pre-releases as pip treats them) and whether that is a free-threaded
    wheel (ft-wheel), pure Python (pure-python), only abi3 or GIL wheels or
    an sdist (builds-from-source), or nothing the target can install
    (not-installable); and, when a newer or older release has free-threaded
    wheels, which specifier gets them. Only direct requirements are looked
    up, not what they require in turn. Exit codes: 0 every requirement gets
    a free-threaded or pure-Python wheel; 1 one would be built from source
    or cannot be installed; 2 bad input, or an index that could not be read.
    """
    if available and no_index:
        _fail("--no-index audits an installed environment; it does not go with --available")
    if available:
        _run_available(python, requirements, project, audit_all, output_format, no_import,
                       timeout, strict, target, platforms, index_url, extra_index_urls)
        return
    given = [name for name, value in (("--target", target), ("--platform", platforms),
                                      ("--index-url", index_url),
                                      ("--extra-index-url", extra_index_urls)) if value]
    if given:
        verb = "apply" if len(given) > 1 else "applies"
        _fail(f"{', '.join(given)} {verb} only with --available")
    if output_format == "markdown":
        _fail("--format markdown needs --available")
    from ftlint.deps.audit import Options, run_audit
    from ftlint.deps.report import exit_code, write_json, write_text

    if audit_all and requirements is not None:
        _fail("--all and --requirements cannot be used together")
    options = Options(python=python, requirements=requirements, project=project,
                      audit_all=audit_all, no_import=no_import, timeout=timeout,
                      index=not no_index)
    report = _guarded(lambda: run_audit(options,
                                        announce=lambda line: click.echo(line, err=True)))
    if output_format == "json":
        write_json(report, sys.stdout, strict)
    else:
        write_text(report, sys.stdout)
    sys.exit(exit_code(report, strict))


def _run_available(python: Optional[str], requirements: Optional[Path],
                   project: Optional[Path], audit_all: bool, output_format: str,
                   no_import: bool, timeout: float, strict: bool, target: Optional[str],
                   platforms: tuple[str, ...], index_url: Optional[str],
                   extra_index_urls: tuple[str, ...]) -> None:
    from ftlint.deps.available import AvailableOptions, run_available
    from ftlint.deps.available_report import exit_code, write_json, write_markdown, write_text

    for name, value in (("--python", python), ("--all", audit_all),
                        ("--no-import", no_import), ("--strict", strict)):
        if value:
            _fail(f"{name} audits an installed environment; it does not go with --available")
    options = AvailableOptions(requirements=requirements, project=project,
                               target=target or "3.14t", platforms=platforms,
                               index_url=index_url, extra_index_urls=extra_index_urls,
                               timeout=timeout)
    report = _guarded(lambda: run_available(options))
    writer = {"json": write_json, "markdown": write_markdown}.get(output_format, write_text)
    writer(report, sys.stdout)
    sys.exit(exit_code(report))


def _guarded(run: Callable[[], T]) -> T:
    """``run()``; bad input exits 2 with its message, and an internal error
    exits 2 too: it must not look like a clean audit."""
    from ftlint.deps.model import DepsError

    try:
        return run()
    except DepsError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - reported, never a clean answer
        click.echo(f"ftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Please report this, with the ftlint deps command line you ran.", err=True)
        sys.exit(EXIT_ERROR)


def _fail(message: str) -> NoReturn:
    click.echo(f"ftlint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)
