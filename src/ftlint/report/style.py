"""The page's look: one stylesheet, inlined in a ``<style>`` element, and the
colours of the charts (fill attributes, so that they print as shown)."""

from __future__ import annotations

COLOURS = {"high": "#b3261e", "medium": "#d97900", "low": "#2f6fbf", "hidden": "#b9c0c8",
           "baselined": "#8a6fb5"}
VERDICT_COLOURS = {"ready": "#2e7d32", "ft-wheel": "#2e7d32", "pure-python": "#7cb342",
                   "unknown": "#e0b000", "builds-from-source": "#e08a00",
                   "gil-re-enabling": "#b3261e", "not-installable": "#b3261e",
                   "missing": "#6d4c41", "error": "#7b1fa2"}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       background: #f6f7f9; margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e6ea; }
h3 { font-size: 1.02rem; margin: 22px 0 8px; }
.meta { color: #56606b; margin: 0 0 20px; font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.card { border: 1px solid #dde1e6; border-radius: 8px; padding: 10px 14px; background: #fbfcfd;
        break-inside: avoid; }
.card .number { font-size: 1.8rem; font-weight: 700; line-height: 1.2; display: block; }
.card .label { font-weight: 600; display: block; }
.card .detail { color: #56606b; font-size: .85rem; display: block; }
.card.alert { border-color: #e8b4b0; background: #fdf4f3; }
.card.good { border-color: #b9dcbc; background: #f3faf3; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: .9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6e9ec; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                font-size: .85rem; overflow-wrap: anywhere; }
.zero { color: #a3abb4; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: .8rem;
         font-weight: 600; color: #fff; white-space: nowrap; }
.high { background: #b3261e; } .medium { background: #d97900; } .low { background: #2f6fbf; }
.verdict-good { background: #2e7d32; } .verdict-doubt { background: #9a7400; }
.verdict-bad { background: #b3261e; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 8px 0 14px; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1d232a; }
svg.chart text.inbar { fill: #fff; font-weight: 700; }
.note { color: #56606b; font-size: .88rem; }
.more { color: #56606b; font-style: italic; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 10px;
             font-size: .9rem; }
dl.context dt { font-weight: 600; } dl.context dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: #56606b; font-size: .85rem; border-top: 1px solid #e3e6ea;
         padding-top: 10px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table, svg.chart, .card { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
