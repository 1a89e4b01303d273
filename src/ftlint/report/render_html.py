"""The report as one static HTML page: CSS in one ``<style>``, charts as
inline SVG, no script, no external asset. Every piece of data (paths,
messages, dependency names) is escaped: a report must be safe to open even
when a file name or a saved ``deps`` JSON says ``<script>``.

Long lists (the findings left, what was fixed) are in ``<details>``, which
open without JavaScript."""

from __future__ import annotations

from html import escape
from typing import Iterable, Optional, Sequence, TextIO

from ftlint.report import svg
from ftlint.report.model import (
    REPORTED, Comparison, Counts, ReportData, confidence_parts, plural,
)
from ftlint.report.readiness import BAD, DOUBT, GOOD, VERDICTS, Readiness
from ftlint.report.style import COLOURS, CSS, VERDICT_COLOURS

CHART_ROWS = 15  # bars in the hotspot chart; the table has more
TABLE_ROWS = 50
LIST_ROWS = 500  # findings listed in the page; JSON has them all


def _n(value: int) -> str:
    return f'<td class="n{" zero" if not value else ""}">{value}</td>'


def _card(label: str, number: object, detail: str = "", kind: str = "") -> str:
    return (f'<div class="card {kind}"><span class="label">{escape(label)}</span>'
            f'<span class="number">{escape(str(number))}</span>'
            f'<span class="detail">{escape(detail)}</span></div>')


def _counts_table(first: str, rows: Sequence[tuple[str, Counts]], path_cells: bool,
                  fixable: bool = False) -> str:
    head = (f'<table><thead><tr><th>{escape(first)}</th><th class="n">reported</th>'
            '<th class="n">high</th><th class="n">medium</th><th class="n">low</th>'
            '<th class="n">hidden</th><th class="n">baselined</th>'
            + ('<th class="n">fixable</th>' if fixable else "") + "</tr></thead><tbody>")
    body = []
    for name, c in rows[:TABLE_ROWS]:
        cell = f'<td class="path">{escape(name)}</td>' if path_cells else f"<td>{escape(name)}</td>"
        fix = ""
        if fixable:
            text = f"{c.safe}" + (f" (+{c.unsafe} unsafe)" if c.unsafe else "")
            fix = f'<td class="n{" zero" if not (c.safe or c.unsafe) else ""}">{escape(text)}</td>'
        body.append(f"<tr>{cell}{_n(c.reported)}{_n(c.high)}{_n(c.medium)}{_n(c.low)}"
                    f"{_n(c.hidden)}{_n(c.baselined)}{fix}</tr>")
    more = (f'<p class="more">and {len(rows) - TABLE_ROWS} more (all of them are in '
            "<code>--format json</code>)</p>" if len(rows) > TABLE_ROWS else "")
    return head + "".join(body) + "</tbody></table>" + more


SEGMENTS = ("high", "medium", "low", "hidden", "baselined")


def _segments(c: Counts) -> list[svg.Segment]:
    return [(name, getattr(c, name), COLOURS[name]) for name in SEGMENTS]


def _end(c: Counts) -> str:
    """The number reported, then what else the bar holds."""
    more = [f"{n} {name}" for name, n in (("hidden", c.hidden), ("baselined", c.baselined)) if n]
    return f"{c.reported}" + (f" (+{', '.join(more)})" if more else "")


def _series() -> list[tuple[str, str]]:
    return [(name, COLOURS[name]) for name in SEGMENTS]


def _summary(data: ReportData) -> Iterable[str]:
    totals = data.totals()
    hidden = data.hidden_by_confidence()
    yield '<section id="summary"><h2>Summary</h2><div class="cards">'
    yield _card("Findings left", totals.reported,
                confidence_parts(totals) or "nothing reported",
                "alert" if totals.high else ("good" if not totals.reported else ""))
    yield _card("Hidden (below min-confidence)", totals.hidden,
                ", ".join(f"{hidden[c]} {c}" for c in ("high", "medium", "low") if hidden[c])
                or f"min-confidence {data.min_confidence}")
    if data.baseline is not None:
        yield _card("Baselined", totals.baselined, f"matched by {data.baseline.source}")
    for comparison in data.comparisons:
        yield _card(_fixed_label(comparison), len(comparison.fixed),
                    f"{comparison.new} new, {comparison.still} still there",
                    "good" if comparison.fixed else "")
    more = f"+{totals.unsafe} with --unsafe-fixes" if totals.unsafe else "of the findings left"
    yield _card("Fixable with ftlint --fix", totals.safe, more)
    errors = len(data.not_checked)
    yield _card("Files checked", data.files_checked,
                f"{errors} could not be checked" if errors else "all of them readable",
                "alert" if errors else "")
    if data.readiness is not None and data.readiness.note is None:
        deps = data.readiness.dependencies
        good = sum(1 for d in deps if VERDICTS.get(d.verdict) == GOOD)
        bad = sum(1 for d in deps if VERDICTS.get(d.verdict) == BAD)
        doubt = len(deps) - good - bad
        detail = ", ".join(part for part in (f"{bad} not ready" if bad else "",
                                             f"{doubt} unknown" if doubt else "") if part)
        yield _card("Dependencies without the GIL", f"{good}/{len(deps)}",
                    detail or "none known to need the GIL",
                    "alert" if bad else "" if doubt else "good")
    yield "</div></section>"


def _fixed_label(comparison: Comparison) -> str:
    return ("Fixed since the baseline" if comparison.kind == "baseline"
            else "Fixed since the last report")


def _hotspots(data: ReportData) -> Iterable[str]:
    yield '<section id="hotspots"><h2>Hotspots</h2>'
    directories = data.by_directory()
    if not data.findings:
        yield "<p>No findings: nothing to show here.</p></section>"
        return
    yield "<h3>Findings per directory</h3>"
    yield svg.stacked_bars(
        "Findings per directory: reported by confidence, then hidden and baselined",
        [(name, _segments(c), _end(c)) for name, c in directories[:CHART_ROWS]], _series())
    if len(directories) > CHART_ROWS:
        yield (f'<p class="more">The chart shows the {CHART_ROWS} directories with the most '
               "findings; the table has more.</p>")
    yield _counts_table("directory", directories, path_cells=True)
    yield "<h3>Findings per rule</h3>"
    yield _counts_table("rule", data.by_rule(), path_cells=False, fixable=True)
    files = data.by_file()[:10]
    yield "<h3>Files with the most findings</h3>"
    yield _counts_table("file", files, path_cells=True)
    yield ('<p class="note"><b>reported</b>: what <code>ftlint</code> reports with this '
           "configuration (at or above min-confidence, not baselined), by confidence in the "
           "next three columns. <b>hidden</b>: less certain findings below min-confidence, "
           "which <code>ftlint --min-confidence low</code> shows. <b>baselined</b>: matched "
           "by the baseline, so not reported.</p></section>")


def _progress(data: ReportData) -> Iterable[str]:
    totals = data.totals()
    yield '<section id="progress"><h2>Fixed, left and baselined</h2>'
    rows = [("Left (reported)", totals.reported,
             "what ftlint reports now; new code should add none"),
            ("Baselined", totals.baselined,
             f"accepted as backlog in {data.baseline.source}" if data.baseline
             else "no baseline given (--baseline FILE)"),
            ("Hidden", totals.hidden, "below min-confidence, not reported")]
    for c in data.comparisons:
        rows.append((_fixed_label(c), len(c.fixed),
                     f"of the {c.recorded} findings recorded in {c.source}"))
        if c.kind == "since":
            rows.append(("New since the last report", c.new,
                         f"reported or baselined now, not in {c.source}"))
        if c.not_checked:
            rows.append(("Not compared", c.not_checked,
                         f"recorded in {c.source} for files not checked this time"))
    yield "<table><tbody>"
    for label, number, detail in rows:
        yield f"<tr><th>{escape(label)}</th>{_n(number)}<td>{escape(detail)}</td></tr>"
    yield "</tbody></table>"
    fix = f"<b>{totals.safe}</b> of the findings left can be fixed by <code>ftlint --fix</code>"
    if totals.unsafe:
        fix += f", and <b>{totals.unsafe}</b> more by <code>ftlint --fix --unsafe-fixes</code>"
    yield f"<p>{fix}.</p>"
    if not data.comparisons:
        yield ('<p class="note">To see what was fixed, pass the baseline '
               "(<code>--baseline FILE</code>) or the JSON of an earlier report "
               "(<code>--since report.json</code>).</p>")
    for c in data.comparisons:
        if c.fixed:
            yield (f"<details><summary>{escape(plural(len(c.fixed), 'finding'))} fixed since "
                   f"{escape(c.source)}</summary><table><thead><tr><th>file</th>"
                   '<th class="n">line then</th><th>rule</th><th>function</th></tr></thead><tbody>')
            for g in c.fixed[:LIST_ROWS]:
                yield (f'<tr><td class="path">{escape(g.path)}</td>{_n(g.line or 0)}'
                       f"<td>{escape(g.code)}</td><td><code>{escape(g.function or '')}</code>"
                       "</td></tr>")
            yield "</tbody></table></details>"
    yield ('<p class="note">A finding is <b>fixed</b> when no current finding, at any '
           "confidence, has its file and fingerprint (rule, function, and the text of the "
           "line). Editing the reported line or renaming its function counts as fixed plus "
           "new.</p></section>")


def _readiness(readiness: Optional[Readiness]) -> Iterable[str]:
    yield '<section id="dependencies"><h2>Dependency readiness</h2>'
    if readiness is None:
        yield "<p>Not included (--no-deps).</p></section>"
        return
    yield f"<p><b>{escape(readiness.headline())}</b></p>"
    if readiness.note is not None:
        yield "</section>"
        return
    counts = readiness.counts()
    if counts:
        yield svg.proportion_bar(
            "Dependency readiness by verdict",
            [(verdict, n, VERDICT_COLOURS.get(verdict, "#888")) for verdict, n in counts])
    yield '<dl class="context">'
    for label, value in [("Source", readiness.source), *readiness.context]:
        yield f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
    yield "</dl>"
    if readiness.dependencies:
        yield ("<table><thead><tr><th>name</th><th>version</th><th>verdict</th>"
               "<th>evidence</th></tr></thead><tbody>")
        for dep in readiness.ordered():
            kind = VERDICTS.get(dep.verdict, DOUBT)
            evidence = escape(dep.evidence)
            if dep.next_step:
                evidence += f"<br><i>next: {escape(dep.next_step)}</i>"
            yield (f"<tr><td>{escape(dep.name)}</td><td>{escape(dep.version)}</td>"
                   f'<td><span class="badge verdict-{kind}">{escape(dep.verdict)}</span></td>'
                   f"<td>{evidence}</td></tr>")
        yield "</tbody></table>"
    for warning in readiness.warnings:
        yield f'<p class="note">warning: {escape(warning)}</p>'
    yield ('<p class="note"><b>ready</b> / <b>ft-wheel</b> / <b>pure-python</b>: keeps the GIL '
           "off. <b>gil-re-enabling</b>: importing it turns the GIL back on for the whole "
           "process. <b>unknown</b>: no proof either way (run <code>ftlint deps</code> on a "
           "free-threaded interpreter, without <code>--no-import</code>). See the "
           "<code>ftlint deps</code> documentation.</p></section>")


def _findings_left(data: ReportData) -> Iterable[str]:
    left = data.with_status(REPORTED)
    yield '<section id="findings"><h2>Findings left</h2>'
    if not left:
        yield "<p>None: <code>ftlint</code> reports nothing.</p></section>"
        return
    order = {"high": 0, "medium": 1, "low": 2}
    left.sort(key=lambda f: (order[f.confidence], f.path, f.line, f.column))
    yield (f"<details><summary>{escape(plural(len(left), 'finding'))}, surest first"
           "</summary><table><thead><tr><th>where</th><th>rule</th><th>confidence</th>"
           "<th>message</th></tr></thead><tbody>")
    for f in left[:LIST_ROWS]:
        star = " [*]" if f.fixable == "safe" else ""
        yield (f'<tr><td class="path">{escape(f.path)}:{f.line}:{f.column}</td>'
               f"<td>{escape(f.code)}{star}</td>"
               f'<td><span class="badge {f.confidence}">{f.confidence}</span></td>'
               f"<td>{escape(f.message)}</td></tr>")
    yield "</tbody></table>"
    if len(left) > LIST_ROWS:
        yield (f'<p class="more">and {len(left) - LIST_ROWS} more: run <code>ftlint</code> '
               "for all of them.</p>")
    yield "</details>"
    yield '<p class="note">[*]: <code>ftlint --fix</code> can fix it.</p></section>'


def _not_checked(data: ReportData) -> Iterable[str]:
    if not data.not_checked:
        return
    yield ('<section id="not-checked"><h2>Files that could not be checked</h2><table><thead>'
           "<tr><th>file</th><th>code</th><th>why</th></tr></thead><tbody>")
    for item in data.not_checked:
        yield (f'<tr><td class="path">{escape(item.path)}</td><td>{escape(item.code)}</td>'
               f"<td>{escape(item.message)}</td></tr>")
    yield "</tbody></table></section>"


def write_html(data: ReportData, out: TextIO) -> None:
    paths = " ".join(data.paths)
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta name="generator" content="ftlint report">'
              f"<title>{escape(data.title)}</title><style>{CSS}</style></head><body><main>")
    out.write(f"<header><h1>{escape(data.title)}</h1><p class=\"meta\">Checked "
              f"<code>{escape(paths)}</code> in project <b>{escape(data.project)}</b> with "
              f"min-confidence {escape(data.min_confidence)}. Generated {escape(data.generated)} "
              f"by ftlint {escape(data.version)}.</p></header>")
    for part in (_summary(data), _hotspots(data), _progress(data), _readiness(data.readiness),
                 _findings_left(data), _not_checked(data)):
        out.write("\n".join(part))
        out.write("\n")
    out.write("<footer>Free-threaded CPython (PEP 703) runs threads in parallel: each finding is "
              "code that may race once the GIL is gone. <code>ftlint rule CODE</code> explains "
              "a rule and how to fix it.</footer></main></body></html>\n")
