"""Copied as ``sitecustomize.py`` into the directory ``ftlint watch`` puts
first on ``PYTHONPATH``: ``site`` imports it at start-up. It installs the
watch (``_ftlint_watch_child``, copied beside it), takes its directory off
``sys.path`` again, and then imports the ``sitecustomize`` it hides, if there
is one, so that the program starts as it would without ``ftlint watch``.

Standard library only, and harmless to any Python a command may start, even
Python 2: the watch itself starts only on 3.8 or newer.
"""

import os
import sys


def _ftlint_watch():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.version_info >= (3, 8):  # older ones cannot be free-threaded
        try:
            import _ftlint_watch_child
            _ftlint_watch_child.install()
        except Exception as exc:  # never stop the program being watched
            sys.stderr.write("ftlint watch: the watch could not start in this process: %r\n"
                             % (exc,))
    sys.path[:] = [entry for entry in sys.path
                   if os.path.abspath(entry or os.curdir) != here]
    # Hand over to the sitecustomize this module hides. importlib puts
    # sys.modules["sitecustomize"] back when this module returns, so it must
    # hold a module then: the other one, or this one if there is none.
    this = sys.modules.pop("sitecustomize")
    try:
        import sitecustomize  # noqa: F401
    except ImportError as exc:
        if getattr(exc, "name", "sitecustomize") != "sitecustomize":  # no name: Python 2
            raise
        sys.modules["sitecustomize"] = this


_ftlint_watch()
