"""The ``ftlint report`` command."""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Optional

import click

# The check's machinery (and ftlint.cli's helpers, which import this module at
# their end) is imported when the command runs.
EXIT_WRITTEN, EXIT_ERROR = 0, 2
FORMATS = ("html", "markdown", "json")
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown",
             ".json": "json"}


def _codes(name: str, help_text: str):
    return click.option(name, metavar="CODES", default=None, help=help_text)


@click.command("report", context_settings={"help_option_names": ["-h", "--help"]},
               short_help="Write an HTML (or Markdown, JSON) report for a team lead.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
@click.option("-o", "--output-file", metavar="FILE", default=None,
              type=click.Path(dir_okay=False, path_type=str),
              help="Write the report to FILE (atomically) instead of stdout; its suffix "
                   "(.html, .md, .json) chooses the format unless --format is given.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="html (one static page), markdown (a pull-request comment) or json. "
                   "Default: from -o's suffix, else html.")
@click.option("--baseline", metavar="FILE", default=None,
              help="The project's baseline (ftlint --baseline): findings it holds are shown "
                   "as baselined, and those it holds that are gone as fixed. Read only.")
@click.option("--since", metavar="FILE", default=None,
              help="An earlier report's JSON (ftlint report --format json): show what was "
                   "fixed and what is new since.")
@click.option("--deps-json", metavar="FILE", default=None,
              help="Show this saved `ftlint deps --format json` (or `deps --available "
                   "--format json`) as the dependency readiness, instead of auditing.")
@click.option("--no-deps", is_flag=True, help="Leave dependency readiness out.")
@click.option("--python", metavar="PATH", default=None,
              help="Audit the dependencies installed for this interpreter (default: the one "
                   "running ftlint). The audit reads metadata only: it never imports them.")
@click.option("--title", metavar="TEXT", default=None,
              help="The report's title (default: 'ftlint report: ' and the project's name).")
@_codes("--select", "Comma-separated rule codes or prefixes to enable (replaces the "
                    "configured selection).")
@_codes("--extend-select", "Rule codes or prefixes to enable in addition.")
@_codes("--ignore", "Rule codes or prefixes to disable.")
@_codes("--extend-ignore", "Rule codes or prefixes to disable in addition.")
@click.option("--exclude", metavar="PATTERNS", default=None,
              help="Comma-separated gitignore-style patterns to skip (replaces the defaults).")
@click.option("--extend-exclude", metavar="PATTERNS", default=None,
              help="Patterns to skip in addition to the defaults.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default=None,
              help="What counts as reported; findings below it are counted as hidden.")
@click.option("--config", "config_options", metavar="CONFIG_OPTION", multiple=True,
              help="A configuration file for every file, or a TOML 'key = value' override, "
                   "as for `ftlint check`. Repeatable.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--cache-dir", metavar="DIR", default=None, help="Keep the result cache in DIR.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers (default: the number of CPUs).")
@click.option("-v", "--verbose", is_flag=True,
              help="Print the traceback of an internal error (FT000) as it happens.")
def report(paths: tuple[str, ...], output_file: Optional[str], output_format: Optional[str],
           baseline: Optional[str], since: Optional[str], deps_json: Optional[str],
           no_deps: bool, python: Optional[str], title: Optional[str], select: Optional[str],
           extend_select: Optional[str], ignore: Optional[str], extend_ignore: Optional[str],
           exclude: Optional[str], extend_exclude: Optional[str],
           min_confidence: Optional[str], config_options: tuple[str, ...], no_cache: bool,
           cache_dir: Optional[str], jobs: Optional[int], verbose: bool) -> None:
    """Check PATHS (default: the current directory) and write a report: the
    hotspots per directory and per rule by confidence, what was fixed, what
    is left and what is baselined, and whether the dependencies keep the GIL
    off.

    \b
        ftlint report -o report.html src/
        ftlint report --baseline .ftlint-baseline.json -o report.html src/
        ftlint report --format markdown --since last-report.json src/ > comment.md

    The findings come from the same check as `ftlint PATHS`, with the same
    configuration; less certain findings below min-confidence are counted as
    hidden. Nothing is changed: a missing baseline is an error, not recorded.
    Dependency readiness comes from `ftlint deps --no-import` on the
    project's [project] dependencies (it reads metadata and runs nothing),
    or from --deps-json.

    Exit codes: 0 the report was written (findings or not); 2 a usage,
    configuration or input error, or an internal error (nothing is written).
    """
    from ftlint.cli import _Output, _open_cache, _resolver
    from ftlint.config import ConfigError
    from ftlint.deps.model import DepsError
    from ftlint.report import collect, readiness

    if no_deps and (deps_json is not None or python is not None):
        raise click.UsageError(f"--no-deps cannot be used with "
                               f"{'--deps-json' if deps_json is not None else '--python'}")
    if deps_json is not None and python is not None:
        raise click.UsageError("--deps-json shows a saved audit; --python cannot be used with it")
    fmt = output_format or _SUFFIXES.get(os.path.splitext(output_file or "")[1].lower(), "html")
    paths = paths or (".",)
    overrides = dict(select=select, extend_select=extend_select, ignore=ignore,
                     extend_ignore=extend_ignore, exclude=exclude,
                     extend_exclude=extend_exclude, min_confidence=min_confidence)
    try:
        # Read every input before the check: a typo fails at once.
        baseline_entries = None if baseline is None else collect.read_record(baseline, "--baseline")
        since_entries = None if since is None else collect.read_record(since, "--since")
        deps = None if no_deps or deps_json is None else readiness.load(deps_json)
        if python is not None:
            from ftlint.deps.audit import resolve_python

            resolve_python(python)
        # What each file reports: its configuration, with the options above.
        shown = _resolver(config_options, overrides)
        # The check itself runs at low, to count what min-confidence hides.
        everything = _resolver(config_options, {**overrides, "min_confidence": "low"})
        settings = shown.for_paths(paths)
        cache = None if no_cache else _open_cache(everything.for_paths(paths), cache_dir,
                                                  False, True)
        data = _collect(paths, shown, everything, settings.root, cache=cache, jobs=jobs,
                        title=title, min_confidence=str(settings.min_confidence),
                        verbose=verbose,
                        baseline=(baseline, baseline_entries), since=(since, since_entries))
        if not no_deps and deps is None:
            try:
                deps = readiness.audit(settings.root, python)
            except DepsError as exc:
                if python is not None:  # asked for by name: its failure is the user's to see
                    raise
                click.echo(f"ftlint report: dependencies not audited: {exc}", err=True)
                deps = readiness.not_audited(f"Not audited: {exc}")
        data.readiness = deps
    except (ConfigError, collect.ReportError, DepsError) as exc:
        click.echo(f"ftlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except _NoFiles as exc:
        click.echo(f"ftlint: error: no Python files found in {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # an internal error must not look like a report
        click.echo(f"ftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    _write(data, fmt, output_file, _Output)


class _NoFiles(Exception):
    pass


def _collect(paths: tuple[str, ...], shown, everything, root: str, *, cache,
             jobs: Optional[int], title: Optional[str], min_confidence: str,
             verbose: bool, baseline: tuple, since: tuple):
    """Check ``paths`` with ``everything`` (the resolver at min-confidence
    low) and sort the findings by what ``shown`` (the real settings) makes of
    them. ``baseline`` and ``since`` are (file, its findings or None)."""
    from ftlint import __version__
    from ftlint.api import lint_paths
    from ftlint.cli import _Progress, _report_internal_errors
    from ftlint.report import collect
    from ftlint.report.model import ReportData

    with _Progress.on_terminal(False) as progress:
        checked = lint_paths(paths, everything, jobs=jobs, marks=True, cache=cache,
                             progress=progress,
                             on_result=lambda r: _report_internal_errors(r, verbose))
    if not checked.checked:
        raise _NoFiles(", ".join(paths))
    findings, not_checked = collect.findings_of(
        checked, root, lambda path: shown.for_file(path).min_confidence, baseline[1])
    files = collect.checked_paths(checked, root)
    project = os.path.basename(os.path.normpath(root)) or root
    data = ReportData(title=title or f"ftlint report: {project}", project=project,
                      paths=tuple(paths), generated=_now(), version=__version__,
                      min_confidence=min_confidence,
                      files_checked=checked.checked, findings=findings,
                      not_checked=not_checked)
    if baseline[1] is not None:
        data.baseline = collect.compare("baseline", *baseline, findings, files, root)
    if since[1] is not None:
        data.since = collect.compare("since", *since, findings, files, root)
    return data


def _now() -> str:
    """UTC now, or SOURCE_DATE_EPOCH's time, for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    stamp = int(epoch) if epoch.isdigit() else time.time()
    moment = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(data, fmt: str, output_file: Optional[str], output_class) -> None:
    from ftlint.report.render_html import write_html
    from ftlint.report.render_json import write_json
    from ftlint.report.render_markdown import summary_line, write_markdown

    writer = {"html": write_html, "markdown": write_markdown, "json": write_json}[fmt]
    out = output_class(output_file)
    try:
        writer(data, out.stream)
        out.close()  # the whole file at once, or nothing
    except OSError as exc:
        click.echo(f"ftlint: error: cannot write {output_file}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        click.echo(f"ftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    where = f"Wrote {output_file}" if output_file else "Report written"
    click.echo(f"{where}: {summary_line(data)}.", err=True)
    sys.exit(EXIT_WRITTEN)
