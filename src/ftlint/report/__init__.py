"""``ftlint report``: one static page (or a Markdown comment, or JSON) that
tells a team lead where the races are, how the backlog moves, and whether
the dependencies keep the GIL off.

Layers, as in the rest of ftlint: :mod:`.collect` turns a check's
:class:`~ftlint.results.Report` (and a baseline or an earlier report) into
plain data (:mod:`.model`); :mod:`.readiness` does the same for ``ftlint
deps``; the ``render_*`` modules only format that data; :mod:`.cli` is the
command. Nothing here runs JavaScript or loads anything from the network: the
page is one file with its CSS and SVG charts inline.
"""
