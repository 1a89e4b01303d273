"""``ftlint watch -- COMMAND``: run a program on a free-threaded CPython and
report whether the GIL came back on, which import did it and through which
chain of imports, and how many cores its threads kept busy.

The parent side (:mod:`ftlint.watch.run`, :mod:`ftlint.watch.report`) starts
the command with a ``sitecustomize`` first on ``PYTHONPATH``; the code that
runs inside the watched processes (:mod:`ftlint.watch._child`) uses the
standard library only.
"""
