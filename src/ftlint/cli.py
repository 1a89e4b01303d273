"""The ``ftlint`` command line: a thin front-end over :mod:`ftlint.api`."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import click

from ftlint import __version__
from ftlint.config import ConfigError, Resolver, Settings, parse_config_options, show_settings
from ftlint.diagnostics import INTERNAL_ERROR
from ftlint.output import FORMATS
from ftlint.rules import get_rule
from ftlint.verify import VerifyError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class DefaultCommandGroup(click.Group):
    """``ftlint PATHS`` means ``ftlint check PATHS``, like ruff before 0.1."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands
                        and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("ftlint", "[OPTIONS] [PATHS]...\n       ftlint COMMAND [ARGS]...")


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ftlint")
def main() -> None:
    """Find code that races on free-threaded (no-GIL) CPython.

    Run ``ftlint [OPTIONS] [PATHS]...`` to check files and directories (the
    ``check`` command); ``ftlint check --help`` lists its options.

    Exit codes: 0 no findings, 1 findings, 2 usage, configuration or internal
    error.
    """


def _codes_option(name: str, help_text: str):
    return click.option(name, metavar="CODES", default=None, help=help_text)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
@_codes_option("--select", "Comma-separated rule codes or prefixes to enable (replaces the configured selection).")
@_codes_option("--extend-select", "Rule codes or prefixes to enable in addition.")
@_codes_option("--ignore", "Rule codes or prefixes to disable.")
@_codes_option("--extend-ignore", "Rule codes or prefixes to disable in addition.")
@click.option("--exclude", metavar="PATTERNS", default=None,
              help="Comma-separated gitignore-style patterns to skip (replaces the defaults).")
@click.option("--extend-exclude", metavar="PATTERNS", default=None,
              help="Patterns to skip in addition to the defaults.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default=None,
              help="Report only findings at or above this confidence.")
@click.option("--format", "output_format", type=click.Choice(list(FORMATS)), default="text",
              show_default=True, help="Output format.")
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, without the summary.")
@click.option("--show-source", is_flag=True,
              help="Show the reported lines, underlined, under each finding (text format).")
@click.option("--color/--no-color", default=None,
              help="Colour text output (default: on a terminal, unless NO_COLOR is set; "
                   "FORCE_COLOR turns it on).")
@click.option("--config", "config_options", metavar="CONFIG_OPTION", multiple=True,
              help="Either the path of a configuration file (pyproject.toml, ftlint.toml) to "
                   "use for every file instead of each file's nearest one, or a TOML "
                   "'key = value' pair that overrides a setting of every configuration, "
                   "e.g. --config \"min-confidence = 'high'\". Repeatable.")
@click.option("--show-settings", is_flag=True,
              help="Print the settings of PATH (a file, or the files of a directory) and "
                   "the configuration file they come from, then exit.")
@click.option("--show-files", is_flag=True,
              help="Print the files that would be checked, one per line, then exit.")
@click.option("--fix", is_flag=True,
              help="Apply safe fixes, then report what is left (exit 1 only if findings are "
                   "left, as in ruff).")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix, --fix-only or --diff, apply unsafe fixes too; in the text "
                   "report, mark them [*] as fixable.")
@click.option("--diff", is_flag=True,
              help="Print the fixes as a unified diff and change no file (exit 1 if any).")
@click.option("--show-fixes", is_flag=True,
              help="With --fix, --fix-only or --diff, list what was fixed in each file.")
@click.option("--fix-only", is_flag=True,
              help="Apply the safe fixes like --fix, but do not report the findings left; "
                   "exit 0 unless --exit-non-zero-on-fix.")
@click.option("--exit-non-zero-on-fix", is_flag=True,
              help="With --fix or --fix-only, exit 1 when a file was fixed, even if no "
                   "finding is left.")
@click.option("-o", "--output-file", metavar="FILE", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write the report (in any --format) to FILE instead of stdout; messages "
                   "stay on stderr.")
@click.option("--force-exclude", is_flag=True,
              help="Skip excluded and git-ignored paths even when they are named on the "
                   "command line (as pre-commit names every file).")
@click.option("-w", "--watch", is_flag=True,
              help="Check again whenever a Python file or the configuration under PATHS "
                   "changes (needs ftlint[watch]; Ctrl-C stops). Not `ftlint watch`, "
                   "which runs a program.")
@click.option("--verify", "verify_command", metavar="CMD", default=None,
              help="With --fix, run CMD (your tests, e.g. 'pytest -q') before and after fixing, "
                   "and revert the fixes of the files that make it fail. Runs your code. No "
                   "shell: use sh -c '...' for pipes and the like.")
@click.option("--verify-timeout", metavar="SECONDS", default=None,
              type=click.FloatRange(min=0, min_open=True),
              help="Stop each --verify run after SECONDS (default 600); a stopped run fails.")
@click.option("--add-noqa", is_flag=True,
              help="Add '# noqa: CODE' comments to the reported lines (merged with existing ones).")
@click.option("--baseline", metavar="FILE", default=None,
              help="Report only findings not recorded in FILE; record them there if FILE "
                   "does not exist.")
@click.option("--no-cache", is_flag=True,
              help="Analyse every file again, and neither read nor write the result cache.")
@click.option("--cache-dir", metavar="DIR", default=None,
              help="Keep the result cache in DIR (default: FTLINT_CACHE_DIR, then "
                   "cache-dir in the configuration, then .ftlint_cache in the project root).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers (default: the number of CPUs).")
@click.option("-v", "--verbose", is_flag=True,
              help="Print the traceback of an internal error (FT000) as it happens.")
@click.option("--stdin-filename", metavar="PATH", default=None,
              help="Read the source from stdin (PATH '-' or no PATH) and report it as PATH, "
                   "with PATH's settings. With --fix, print the fixed source on stdout and the "
                   "findings left on stderr.")
@click.version_option(__version__, "--version", prog_name="ftlint")
def check(paths: tuple[str, ...], select: Optional[str], extend_select: Optional[str],
          ignore: Optional[str], extend_ignore: Optional[str], exclude: Optional[str],
          extend_exclude: Optional[str], min_confidence: Optional[str], output_format: str,
          exit_zero: bool, statistics: bool, quiet: bool, config_options: tuple[str, ...],
          show_source: bool, color: Optional[bool],
          no_cache: bool, cache_dir: Optional[str], jobs: Optional[int], fix: bool = False, unsafe_fixes: bool = False,
          diff: bool = False, show_fixes: bool = False, add_noqa: bool = False,
          baseline: Optional[str] = None, verbose: bool = False,
          verify_command: Optional[str] = None, verify_timeout: Optional[float] = None,
          stdin_filename: Optional[str] = None, show_settings: bool = False,
          show_files: bool = False, fix_only: bool = False,
          exit_non_zero_on_fix: bool = False, output_file: Optional[str] = None,
          force_exclude: bool = False, watch: bool = False) -> None:
    """Check PATHS (default: the current directory) for free-threading races.
    PATH '-' reads one module from stdin.

    Each file takes its settings from the nearest configuration file above
    it (.ftlint.toml, ftlint.toml, or a pyproject.toml with [tool.ftlint]),
    unless --config names one file for all."""
    from ftlint.api import lint_paths, relint
    from ftlint.discovery import force_excluded

    _check_combinations(output_format, fix, fix_only, diff, unsafe_fixes, show_fixes, statistics,
                        exit_non_zero_on_fix)
    fix = fix or fix_only  # --fix-only fixes as --fix does, and only reports less
    _check_verify_options(fix, diff, verify_command, verify_timeout)
    overrides = dict(select=select, extend_select=extend_select, ignore=ignore,
                     extend_ignore=extend_ignore, exclude=exclude,
                     extend_exclude=extend_exclude, min_confidence=min_confidence)
    if show_settings or show_files:
        _check_show_options(paths, show_settings, show_files, fix, diff, add_noqa, baseline,
                            stdin_filename)
        _show(paths or (".",), config_options, overrides, show_settings)
    stdin = "-" in paths or (stdin_filename is not None and not paths)
    if watch:
        _check_watch_options(stdin, fix, diff, add_noqa, baseline)
        ctx = click.get_current_context()
        _watch(paths or (".",), config_options,
               lambda: ctx.invoke(check, **{**ctx.params, "watch": False}))
    if stdin:
        if paths not in ((), ("-",)):
            raise click.UsageError("'-' (stdin) cannot be checked together with other paths")
        for flag, used in (("--add-noqa", add_noqa), ("--baseline", baseline is not None),
                           ("--verify", verify_command is not None)):
            if used:
                raise click.UsageError(f"{flag} cannot be used with stdin: it needs files")
        if output_file is not None and fix and not diff:
            raise click.UsageError("--output-file cannot be used with stdin and --fix: the "
                                   "fixed source goes to stdout, the findings to stderr")
        _check_stdin(stdin_filename, config_options, overrides, output_format, fix, unsafe_fixes,
                     diff, show_fixes, quiet, statistics, show_source, color, exit_zero,
                     fix_only, exit_non_zero_on_fix, output_file)
    if stdin_filename is not None:
        raise click.UsageError("--stdin-filename needs PATH '-' (or no PATH): it names stdin")
    paths = paths or (".",)
    verified = True
    out = _Output(output_file)
    # The text report marks the findings --fix would fix; the report after a
    # fix has only what --fix left.
    marks = output_format == "text" and not statistics and not fix and not diff
    try:
        resolver = _resolver(config_options, overrides)
        # The project root's settings: where the cache and a baseline live.
        settings = resolver.for_paths(paths)
        named = paths
        if force_exclude:  # each named path by its own settings
            paths = tuple(p for p in paths
                          if not force_excluded(p, resolver.for_file(os.path.abspath(p))))
        cache = None if no_cache else _open_cache(settings, cache_dir, output_format == "json",
                                                  marks)
        with _Progress.on_terminal(quiet) as progress:
            report = lint_paths(paths, resolver, jobs=jobs, fixes=output_format == "json",
                                on_result=lambda r: _report_internal_errors(r, verbose),
                                cache=cache, progress=progress, marks=marks)
        if paths and not report.checked:  # (every named path excluded: nothing to do)
            click.echo(f"ftlint: error: no Python files found in {', '.join(named)}", err=True)
            sys.exit(EXIT_ERROR)
        if fix or diff:
            if verify_command is not None:
                fixed, verified = _fix_and_verify(report, resolver, unsafe_fixes, show_fixes,
                                                  paths, verify_command, verify_timeout, quiet,
                                                  out.stream)
            else:
                fixed = _apply_fixes(report, resolver, unsafe_fixes, diff, show_fixes, paths,
                                     verbose, jobs, out.stream)
            if diff:
                out.close()
                sys.exit(EXIT_FINDINGS if fixed and not exit_zero else EXIT_CLEAN)
            if fixed:  # report what is left, at its new place
                report = relint(report, resolver, {f.path: f.checked for f in fixed},
                                fixes=output_format == "json")
        if add_noqa or baseline is not None:
            from ftlint.adoption import adopt
            report = adopt(report, settings.root, add_noqa, baseline,
                           lambda line: click.echo(line, err=True), roots=paths)
    except (ConfigError, VerifyError) as exc:
        click.echo(f"ftlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # an internal error must not look like a clean run
        click.echo(f"ftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Please report this, with the file that triggered it.", err=True)
        sys.exit(EXIT_ERROR)
    if fix_only:  # no report; a file that could not be checked is still said
        for d in report.diagnostics:
            if d.is_error and d.code != INTERNAL_ERROR[0]:  # (FT000 was said already)
                click.echo(f"ftlint: {d.path}:{d.start.row}:{d.start.column}: {d.code} "
                           f"{d.message}", err=True)
    else:
        FORMATS[output_format](report, out.stream, quiet=quiet, statistics=statistics,
                               show_source=show_source, color=color, unsafe_fixes=unsafe_fixes)
    if fix and fixed:
        count = sum(len(f.result.applied) for f in fixed)
        click.echo(f"Fixed {count} finding{'s' if count != 1 else ''} in {len(fixed)} "
                   f"file{'s' if len(fixed) != 1 else ''}.",
                   err=output_format != "text" or output_file is not None)
    out.close()
    if not verified:  # the command failed with every fix reverted: say so in the exit code
        sys.exit(EXIT_ERROR)
    sys.exit(_exit_code(report.diagnostics, bool(fix and fixed), fix_only, exit_zero,
                        exit_non_zero_on_fix))


def _exit_code(diagnostics, fixed: bool, fix_only: bool, exit_zero: bool,
               non_zero_on_fix: bool) -> int:
    """ruff's rules: 1 for findings left (with --fix-only, only for files that
    could not be checked), or with --exit-non-zero-on-fix for a fix made;
    --exit-zero makes it 0."""
    if exit_zero:
        return EXIT_CLEAN
    if fixed and non_zero_on_fix:
        return EXIT_FINDINGS
    left = [d for d in diagnostics if d.is_error] if fix_only else diagnostics
    return EXIT_FINDINGS if left else EXIT_CLEAN


def _check_combinations(output_format: str, fix: bool, fix_only: bool, diff: bool,
                        unsafe_fixes: bool, show_fixes: bool, statistics: bool,
                        exit_non_zero_on_fix: bool) -> None:
    """Options that would be ignored in this combination are refused, not
    silently dropped."""
    if show_fixes and not (fix or fix_only or diff):
        raise click.UsageError("--show-fixes needs --fix, --fix-only or --diff: it lists "
                               "what they fixed")
    if unsafe_fixes and not (fix or fix_only or diff) and (output_format != "text" or statistics):
        # (in the text report alone, it marks the findings with an unsafe fix)
        raise click.UsageError("--unsafe-fixes needs --fix, --fix-only or --diff (or the "
                               "text report, where it marks unsafe fixes [*])")
    if exit_non_zero_on_fix and not (fix or fix_only):
        raise click.UsageError("--exit-non-zero-on-fix needs --fix or --fix-only")
    if diff and output_format != "text":
        raise click.UsageError(f"--diff prints a unified diff; it cannot be used with "
                               f"--format {output_format}")
    if statistics and output_format != "text":
        raise click.UsageError(f"--statistics prints a text table; it cannot be used with "
                               f"--format {output_format}")
    if statistics and (diff or fix_only):
        raise click.UsageError(f"--statistics counts the findings reported; "
                               f"{'--diff' if diff else '--fix-only'} reports none")


def _check_watch_options(stdin: bool, fix: bool, diff: bool, add_noqa: bool,
                         baseline: Optional[str]) -> None:
    if stdin:
        raise click.UsageError("--watch cannot be used with stdin: it watches files")
    for flag, used in (("--fix/--fix-only", fix), ("--diff", diff), ("--add-noqa", add_noqa),
                       ("--baseline", baseline is not None)):
        if used:
            raise click.UsageError(f"--watch cannot be used with {flag}: it only checks")


class _Output:
    """Where the report goes: stdout, or with ``--output-file`` a file written
    at the end, atomically (a reader never sees half a report)."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.stream = sys.stdout if path is None else io.StringIO()

    def close(self) -> None:
        if self.path is None:
            sys.stdout.flush()
            return
        target = Path(self.path)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(self.stream.getvalue())
            os.chmod(temp, _new_file_mode(target))
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


def _new_file_mode(target: Path) -> int:
    """The mode the file keeps, or the one a new file would get."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


# Files whose change makes --watch check again.
_WATCHED_SUFFIXES = (".py", ".pyi")
_WATCHED_NAMES = ("pyproject.toml", "ftlint.toml", ".ftlint.toml", ".gitignore")


def _watch(paths: tuple[str, ...], config_options: tuple[str, ...], run) -> None:
    """``--watch``: run the check, then again after each change of a Python
    file or a configuration file under ``paths``; Ctrl-C exits 0."""
    try:
        import watchfiles
    except ImportError as exc:
        click.echo(f"ftlint: error: --watch needs watchfiles ({exc}); install it with "
                   "`pip install 'ftlint[watch]'`", err=True)
        sys.exit(EXIT_ERROR)

    class Relevant(watchfiles.DefaultFilter):
        def __call__(self, change, path: str) -> bool:
            name = os.path.basename(path)
            return (super().__call__(change, path)
                    and (name.endswith(_WATCHED_SUFFIXES) or name in _WATCHED_NAMES))

    def once() -> None:
        try:
            run()
        except SystemExit:  # each run ends with its exit code; watching goes on
            pass
        sys.stdout.flush()
        click.echo(f"[{time.strftime('%H:%M:%S')}] Watching for file changes "
                   "(Ctrl-C stops).", err=True)

    targets = [p for p in paths if os.path.exists(p)]
    # A --config file outside the paths is watched too (inline overrides are not files).
    targets += [c for c in config_options if os.path.isfile(c)]
    try:
        once()
        for changes in watchfiles.watch(*targets, watch_filter=Relevant(),
                                        raise_interrupt=False):
            names = sorted({os.path.relpath(path) for _, path in changes})
            if sys.stdout.isatty():
                click.clear()
            click.echo(f"[{time.strftime('%H:%M:%S')}] Change detected in "
                       f"{', '.join(names[:3])}{' ...' if len(names) > 3 else ''}; "
                       "checking again.", err=True)
            once()
    except KeyboardInterrupt:
        pass
    sys.exit(EXIT_CLEAN)


def _resolver(config_options: tuple[str, ...], overrides: dict) -> Resolver:
    """Each file's settings: ``--config`` (a file for all, or inline
    overrides), then the other options of the command line."""
    config_file, inline = parse_config_options(config_options)
    return Resolver(config_file, inline, overrides)


def _check_show_options(paths: tuple[str, ...], show_settings: bool, show_files: bool,
                        fix: bool, diff: bool, add_noqa: bool, baseline: Optional[str],
                        stdin_filename: Optional[str]) -> None:
    flag = "--show-settings" if show_settings else "--show-files"
    if show_settings and show_files:
        raise click.UsageError("--show-settings and --show-files cannot be used together")
    if "-" in paths or stdin_filename is not None:
        raise click.UsageError(f"{flag} cannot be used with stdin: it needs files")
    for other, used in (("--fix", fix), ("--diff", diff), ("--add-noqa", add_noqa),
                        ("--baseline", baseline is not None)):
        if used:
            raise click.UsageError(f"{flag} cannot be used with {other}: it checks nothing")
    if show_settings and len(paths) > 1:
        raise click.UsageError("--show-settings takes one PATH: the file whose settings "
                               "to show")


def _show(paths: tuple[str, ...], config_options: tuple[str, ...], overrides: dict,
          settings_of_path: bool) -> None:
    """``--show-settings`` or ``--show-files``: print, then exit 0."""
    from ftlint.discovery import discover

    try:
        resolver = _resolver(config_options, overrides)
        if settings_of_path:
            path = paths[0]
            settings = (resolver.for_directory(path) if os.path.isdir(path)
                        else resolver.for_file(path))
            click.echo(f"Resolved settings for: {path}")
            click.echo(f"Settings path: {settings.config_path or '(none: the defaults)'}")
            for line in show_settings(settings):
                click.echo(line)
        else:
            for file in sorted(str(p) for p in discover(paths, resolver)):
                click.echo(file)
    except ConfigError as exc:
        click.echo(f"ftlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CLEAN)


def _check_stdin(name: Optional[str], config_options: tuple[str, ...], overrides: dict,
                 output_format: str, fix: bool, unsafe: bool, diff: bool, show_fixes: bool,
                 quiet: bool, statistics: bool, show_source: bool, color: Optional[bool],
                 exit_zero: bool, fix_only: bool = False, non_zero_on_fix: bool = False,
                 output_file: Optional[str] = None) -> None:
    """Check the module on stdin, as ruff and flake8 do for editors: report it
    as ``name`` with the settings ``name`` would get. ``--fix`` prints the
    fixed source on stdout and what is left on stderr; ``--diff`` prints the
    diff. ``--fix-only`` prints only the fixed source. Never returns: it
    exits with the run's code."""
    from ftlint.api import fix_source, lint_source
    from ftlint.fixes.run import unified_diff
    from ftlint.results import Report

    path = name or "<stdin>"
    data = sys.stdin.buffer.read()
    out = _Output(output_file)
    marks = output_format == "text" and not statistics and not fix and not diff
    try:
        resolver = _resolver(config_options, overrides)
        settings = resolver.for_file(name) if name else resolver.for_directory(".")
        json_fixes = output_format == "json"
        result = lint_source(data, path, settings, fixes=json_fixes, marks=marks)
        fixed = None
        if fix or diff:
            fixed = fix_source(data, path, settings, unsafe, result.diagnostics)
            if fixed.error:
                click.echo(f"ftlint: {path}: left unchanged: {fixed.error}", err=True)
            elif fixed.changed:
                result = lint_source(fixed.new_source, path, settings, fixes=json_fixes)
    except ConfigError as exc:
        click.echo(f"ftlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # an internal error must not look like a clean run
        click.echo(f"ftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    new = fixed.new_source if fixed is not None and fixed.changed else data
    new = new.encode("utf-8") if isinstance(new, str) else new
    if show_fixes and fixed is not None:
        for o in fixed.applied if fixed.changed else ():
            click.echo(f"  fixed {o.code} at {o.row}:{o.column}: {o.fix_message}", err=True)
        for o in fixed.unfixed:
            click.echo(f"  not fixed {o.code} at {o.row}:{o.column}: {o.reason}", err=True)
    if diff:
        text = unified_diff(path, data, new, "utf-8")
        out.stream.write(text)
        out.close()
        sys.exit(EXIT_FINDINGS if text and not exit_zero else EXIT_CLEAN)
    if fix:  # the editor reads the fixed module back from stdout
        sys.stdout.flush()
        sys.stdout.buffer.write(new)
        sys.stdout.buffer.flush()
    if not fix_only:
        FORMATS[output_format](Report([result], [result]), sys.stderr if fix else out.stream,
                               quiet=quiet, statistics=statistics, show_source=show_source,
                               color=color, unsafe_fixes=unsafe)
    out.close()
    # As for files: findings left, or with --exit-non-zero-on-fix a fix made.
    sys.exit(_exit_code(result.diagnostics, fixed is not None and fixed.changed, fix_only,
                        exit_zero, non_zero_on_fix))


class _Progress:
    """click's progress bar on stderr, for a run that has taken more than
    ``FTLINT_PROGRESS_DELAY`` seconds (default 2) on a terminal; nothing when
    stderr is piped or with ``--quiet``."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.started = time.monotonic()
        self.bar = None

    @classmethod
    @contextlib.contextmanager
    def on_terminal(cls, quiet: bool):
        if quiet or not sys.stderr.isatty():
            yield None
            return
        try:
            delay = float(os.environ.get("FTLINT_PROGRESS_DELAY", "2"))
        except ValueError:
            delay = 2.0
        progress = cls(delay)
        try:
            yield progress
        finally:
            if progress.bar is not None:
                progress.bar.render_finish()

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.delay or done >= total:
                return
            self.bar = click.progressbar(length=total, label="Checking", file=sys.stderr,
                                         show_pos=True)
        self.bar.update(done - self.bar.pos)


def _open_cache(settings: Settings, directory: Optional[str], fixes: bool, marks: bool = False):
    from ftlint.api import enabled_rules
    from ftlint.cache import Cache, cache_dir

    return Cache(cache_dir(settings, directory), settings, enabled_rules(settings), fixes, marks)


def _report_internal_errors(result, verbose: bool) -> None:
    """Say at once, on stderr, which file ftlint failed on; it is also an
    FT000 finding in the report, and the run goes on."""
    for d in result.diagnostics:
        if d.code == INTERNAL_ERROR[0]:
            click.echo(f"ftlint: {d.path}: {d.message}", err=True)
            if verbose:
                click.echo(d.extra.get("traceback", "").rstrip(), err=True)
            else:
                click.echo("  (run with --verbose for the traceback; please report it "
                           "with the file)", err=True)


def _apply_fixes(report, settings: Resolver, unsafe: bool, diff: bool, show: bool,
                 roots=None, verbose: bool = False, jobs: Optional[int] = None,
                 out=None) -> list:
    """Fix (or, with ``diff``, only print, on ``out``) and return the files
    that change."""
    from ftlint.fixes.run import fix_files

    out = sys.stdout if out is None else out
    listing = sys.stderr if diff else out

    note = (lambda line: click.echo(f"ftlint: {line}", err=True)) if verbose else None
    results = fix_files(report, settings, unsafe=unsafe, write=not diff, roots=roots, note=note,
                        jobs=jobs)
    for file in results:
        if file.error:
            click.echo(f"ftlint: {file.path}: {file.error}", err=True)
        elif file.result.error:
            click.echo(f"ftlint: {file.path}: left unchanged: {file.result.error}", err=True)
        if diff and file.changed:
            click.echo(file.diff, nl=False, file=out)
        if show and (file.changed or file.result.unfixed):
            # Positions are those of the file as it was read: the report
            # that follows a --fix gives the new ones.
            where = " (lines as before the fix)" if file.changed else ""
            click.echo(f"{file.path}{where}:", file=listing)
            for o in file.result.applied if file.changed else ():
                click.echo(f"  fixed {o.code} at {o.row}:{o.column}: {o.fix_message}",
                           file=listing)
            for o in file.result.unfixed:
                click.echo(f"  not fixed {o.code} at {o.row}:{o.column}: {o.reason}",
                           file=listing)
    changed = [f for f in results if f.changed]
    if diff:
        count = sum(len(f.result.applied) for f in changed)
        click.echo(f"Would fix {count} finding{'s' if count != 1 else ''} in {len(changed)} "
                   f"file{'s' if len(changed) != 1 else ''}.", err=True)
    return changed


def _check_verify_options(fix: bool, diff: bool, command: Optional[str],
                          timeout: Optional[float]) -> None:
    from ftlint.verify import parse_command

    if command is None:
        if timeout is not None:
            raise click.UsageError("--verify-timeout needs --verify CMD")
        return
    if not fix:
        raise click.UsageError("--verify needs --fix: it checks the fixes with your command")
    if diff:
        raise click.UsageError("--verify cannot be used with --diff, which writes nothing")
    try:
        parse_command(command)
    except ValueError as exc:
        raise click.UsageError(f"--verify: {exc}") from None


def _fix_and_verify(report, settings: Resolver, unsafe: bool, show: bool, paths,
                    command: str, timeout: Optional[float], quiet: bool,
                    out=None) -> tuple[list, bool]:
    """``--fix --verify``: run the command, fix, run it again and revert the
    files whose fixes break it (:mod:`ftlint.verify`). Returns the files that
    keep their fixes, and whether the command passes on the tree as left."""
    from ftlint import verify

    run = verify.command_runner(command, verify.DEFAULT_TIMEOUT if timeout is None else timeout)
    if not verify.has_fixable(report):
        return [], True
    if not quiet:
        click.echo(f"ftlint: --verify: running `{command}` before fixing", err=True)
    before = run()
    if not before.passed:
        raise VerifyError(verify.baseline_failure(command, before))
    originals = verify.read_originals(report)
    changed = _apply_fixes(report, settings, unsafe, False, show, paths, out=out)
    changes = [verify.Change(f.path, originals[f.path], f.result.new_source)
               for f in changed if f.path in originals]
    if not changes:
        return changed, True

    def progress(applied: int, total: int) -> None:
        if not quiet:
            click.echo(f"ftlint: --verify: running `{command}` with the fixes of {applied} of "
                       f"{total} file{'s' if total != 1 else ''}", err=True)

    outcome = verify.verify_fixes(changes, run, verify.atomic_writer(paths), on_run=progress)
    for line in verify.describe(outcome, command):
        click.echo(line, err=True)
    kept = {c.path for c in outcome.kept}
    return [f for f in changed if f.path in kept or f.path not in originals], outcome.passed


@main.command("server")
def server_command() -> None:
    """Run the language server (LSP over stdio) for editors: diagnostics,
    quick fixes, noqa and fix-all actions, and hover help."""
    try:
        from ftlint.server import run
    except ImportError as exc:
        click.echo(f"ftlint: error: the language server needs pygls ({exc}); install it with "
                   "`pip install 'ftlint[server]'`", err=True)
        sys.exit(EXIT_ERROR)
    run()


@main.command("clean")
@click.option("--config", "config_options", metavar="CONFIG_OPTION", multiple=True,
              help="A configuration file to read the cache directory from (instead of the "
                   "project's), or a TOML 'key = value' override such as "
                   "\"cache-dir = 'tmp/cache'\". Repeatable.")
@click.option("--cache-dir", metavar="DIR", default=None, help="The cache to remove.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
def clean_command(config_options: tuple[str, ...], cache_dir: Optional[str],
                  paths: tuple[str, ...]) -> None:
    """Remove the result cache (of the project PATHS are in; default: here)."""
    from ftlint import cache

    try:
        settings = _resolver(config_options, {}).for_paths(paths or (".",))
        directory = cache.cache_dir(settings, cache_dir)
        removed = cache.clean(directory)
    except (ConfigError, OSError) as exc:
        click.echo(f"ftlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"Removed {directory}" if removed else f"No cache at {directory}", err=True)


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the documentation of a rule (by code or name)."""
    from ftlint.docs import render_rule

    rule = get_rule(code)
    if rule is None:
        click.echo(f"ftlint: error: unknown rule '{code}'; `ftlint rules` lists them", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(render_rule(rule), nl=False)


@main.command("rules")
def rules_command() -> None:
    """Print the table of rules."""
    from ftlint.rules import ALL_RULES

    rows = [(code, r.name, r.fix, "on" if r.default_enabled else "opt-in",
             " ".join(r.summary.split())) for code, r in ALL_RULES.items()]
    width = max(len(r[1]) for r in rows)
    click.echo(f"{'code':<6}  {'name':<{width}}  {'fix':<9}  {'default':<7}  what it finds")
    for code, name, fix, default, summary in rows:
        click.echo(f"{code:<6}  {name:<{width}}  {fix:<9}  {default:<7}  {summary}")


from ftlint.deps.cli import deps as _deps_command  # noqa: E402
main.add_command(_deps_command)
from ftlint.report.cli import report as _report_command  # noqa: E402
main.add_command(_report_command)

from ftlint.watch.cli import watch as _watch_command  # noqa: E402
main.add_command(_watch_command)
