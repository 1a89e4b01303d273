"""The ``ftlint watch`` command."""

from __future__ import annotations

import sys
from typing import Optional

import click

EXIT_ERROR = 2


@click.command("watch", context_settings={"help_option_names": ["-h", "--help"],
                                          "ignore_unknown_options": True,
                                          "allow_interspersed_args": False},
               short_help="Run a command on free-threaded Python; say what turned the GIL on.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--python", "python", metavar="PATH", default=None,
              help="Run the command with this interpreter (an executable, a virtual "
                   "environment directory or a command on PATH): it replaces a leading "
                   "'python', or runs a Python script such as a console script.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format.")
@click.option("-o", "--output-file", metavar="FILE", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write the report to FILE instead of stderr.")
@click.option("--exit-zero", is_flag=True,
              help="Exit with 0 even when the GIL was enabled (2 still means the run "
                   "could not be watched).")
def watch(command: tuple[str, ...], python: Optional[str], output_format: str,
          output_file: Optional[str], exit_zero: bool) -> None:
    """Run COMMAND and report whether the GIL was enabled while it ran, which
    import enabled it, and how many cores its threads kept busy.

    \b
        ftlint watch -- python app.py --port 8000
        ftlint watch --python .venv/bin/python -- python -m myservice
        ftlint watch --format json -o watch.json -- pytest -x

    Not to be confused with `ftlint --watch PATHS`, which checks the source
    again whenever a file changes: `ftlint watch` profiles a program as it
    runs. Put the command after `--`.

    The command runs unchanged, with its standard input and output, under
    the interpreter it starts itself, which must be a free-threaded build
    (python3.13t, python3.14t). A sitecustomize.py that ftlint puts first on
    PYTHONPATH (it then runs your own sitecustomize, if any) installs an
    import hook, standard library only, in every Python process of the
    command: after each extension module import it checks
    sys._is_gil_enabled(), and records the first module that turned the GIL
    on, with the chain of imports that led to it. PYTHON_GIL is removed from
    the command's environment. CPU time against wall time and the number of
    threads show whether the threads ran on more than one core.

    The report goes to stderr (or -o FILE); the command's exit code is in it.

    Exit codes: 0 the GIL stayed disabled; 1 it was enabled in a process of
    the command; 2 no command, a command that cannot be started, an
    interpreter that is not free-threaded, -X gil=0, or no Python process
    that could be watched (-I, -E and -S skip the hook).
    """
    from ftlint.watch.report import exit_code, summarise, write_json
    from ftlint.watch.text import write_text
    from ftlint.watch.run import WatchError, run

    try:
        outcome = run(list(command), python)
    except WatchError as exc:
        raise click.UsageError(str(exc)) from None
    document = summarise(outcome)
    report = write_json(document) if output_format == "json" else write_text(document)
    if output_file is None:
        sys.stderr.write(report)
        sys.stderr.flush()
    else:
        try:
            with open(output_file, "w", encoding="utf-8", errors="backslashreplace") as out:
                out.write(report)
        except OSError as exc:
            click.echo(f"ftlint watch: cannot write {output_file}: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    code = exit_code(document)
    sys.exit(0 if exit_zero and code == 1 else code)
