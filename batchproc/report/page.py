"""A report page as HTML: one self-contained file (styles inline, pictures as data: URIs, no
script, nothing fetched), readable without colour and printable.

Written with the standard library's html.escape and plain functions, one per part of the
page: the page has no loops or conditions a template language would make clearer, and it
keeps batchproc free of a templating dependency."""

from __future__ import annotations

import base64
import os
from html import escape
from urllib.parse import quote

from batchproc import __version__
from batchproc.previews import THUMBNAIL_SIZE
from batchproc.progress import human_bytes, summary_line
from batchproc.report import charts
from batchproc.report.sample import Card
from batchproc.report.section import Section
from batchproc.report.tally import RATIO_EDGES, TIME_EDGES, Tally
from batchproc.run_header import now

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a;
  background: #fff; margin: 0 auto; max-width: 1180px; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #1a1a1a; padding-bottom: .2rem; margin: 2.2rem 0 .8rem; }
h3 { font-size: 1.1rem; margin: 1.8rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; }
p, ul { margin: .4rem 0; }
code, .summary { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .92em; }
.summary { font-size: 1rem; padding: .6rem .8rem; border: 2px solid #1a1a1a; overflow-wrap: anywhere; }
.note { font-style: italic; }
.muted { color: #555; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.paths { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .85em;
  columns: 2 24rem; padding-left: 1.2rem; overflow-wrap: anywhere; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr)); gap: .9rem; }
.card { margin: 0; border: 1px solid #aaa; padding: .5rem; break-inside: avoid; page-break-inside: avoid; }
.pair { display: flex; gap: .6rem; }
.side { width: 160px; }
.label { display: block; font-size: .72rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: .06em; }
.frame { width: 160px; height: 160px; display: flex; align-items: center; justify-content: center;
  background: #f0f0f0; }
.frame.alpha { background: repeating-conic-gradient(#d9d9d9 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
.frame img { display: block; max-width: 160px; max-height: 160px; }
.frame .none { padding: .5rem; font-size: .8rem; text-align: center; }
.dims { display: block; font-size: .8rem; font-variant-numeric: tabular-nums; }
figcaption { font-size: .85rem; margin-top: .4rem; overflow-wrap: anywhere; }
.reason { font-weight: 600; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: .4rem 0; }
th, td { text-align: left; padding: .15rem .7rem .15rem 0; border-bottom: 1px solid #bbb;
  vertical-align: top; }
td.path { overflow-wrap: anywhere; max-width: 46rem; }
.number { text-align: right; }
.histogram { max-width: 100%; height: auto; }
.histogram .bar { fill: #4d4d4d; }
.histogram text { font: 11px system-ui, sans-serif; fill: #1a1a1a; text-anchor: middle; }
.histogram .axis, .histogram .tick { stroke: #1a1a1a; }
nav ul { padding-left: 1.2rem; }
footer { margin-top: 3rem; font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .sheet { grid-template-columns: repeat(2, 1fr); }
  .frame { background: none; border: 1px solid #999; }
  .frame.alpha { background: repeating-conic-gradient(#d9d9d9 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
}
"""


def render(sections: list[Section], *, base: str) -> str:
    """The whole page; links are relative to the folder `base` (where the page is)."""
    title = "batchproc report: " + ", ".join(section.label for section in sections)
    started = min((s.header.started for s in sections if s.header.started), default="")
    body = [f"<header><h1>{escape(title)}</h1>",
            f'<p class="muted">Run {escape(_when(started))}; page written {escape(_when(now()))}.</p></header>']
    if len(sections) > 1:
        body.append('<nav aria-label="Jobs"><ul>' + "".join(
            f'<li><a href="#{_anchor(index)}">{escape(section.label)}</a></li>'
            for index, section in enumerate(sections)) + "</ul></nav>")
    body.append("<main>")
    for index, section in enumerate(sections):
        body.append(_section(section, index, base))
    body.append("</main>")
    body.append(f'<footer class="muted">Made by batchproc {escape(__version__)}. '
                "This page is self-contained: it loads nothing; links open the files where they are.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"batchproc {escape(__version__)}\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _section(section: Section, index: int, base: str) -> str:
    parts = [f'<section id="{_anchor(index)}" aria-labelledby="{_anchor(index)}-title">',
             f'<h2 id="{_anchor(index)}-title">{escape(section.label)}</h2>']
    if section.error is not None:
        parts.append(f'<p class="summary">{escape(section.label)}: did not run: {escape(section.error)}</p>')
        parts.append(_facts(section))
        parts.append("</section>")
        return "\n".join(parts)
    parts.append(f'<p class="summary">{escape(_summary(section))}</p>')
    if section.running:
        parts.append('<p class="note">Still running (watching for new files): this page is rewritten '
                     "at most once a minute, and when the watch stops.</p>")
    elif section.elapsed is None:
        parts.append('<p class="note">The log has no end for this run: it was still going, or it was '
                     "killed, when this page was made.</p>")
    parts.append(_facts(section))
    if section.warnings:
        parts.append("<h3>Warnings</h3><ul>" + "".join(f"<li>{escape(w)}</li>" for w in section.warnings) + "</ul>")
    parts.append(_failures(section.tally))
    if section.sample is not None:
        parts.append(_contact_sheet(section, base))
    parts.append(_times(section.tally))
    parts.append(_bytes(section.tally))
    parts.append("</section>")
    return "\n".join(part for part in parts if part)


def _summary(section: Section) -> str:
    """The terminal's summary line, with the share saved and the pace."""
    tally = section.tally
    summary = tally.summary
    summary.elapsed, summary.stopped = section.elapsed or 0.0, section.stopped
    if not tally.written:  # a step that writes no files (checksum): bytes read, none written
        summary.bytes_in = 0
    line = summary_line(section.label, summary)
    if section.elapsed is None:
        line = line.replace(f"; {0.0:.1f} s", "; elapsed time unknown", 1)
    extras = []
    if summary.bytes_in:
        saved = 1 - summary.bytes_out / summary.bytes_in
        extras.append(f"{_percent(saved)} saved" if saved >= 0 else f"{_percent(-saved)} larger")
    elif tally.bytes_in:
        extras.append(f"{human_bytes(tally.bytes_in)} read")
    if section.elapsed and tally.processed:
        extras.append(f"{tally.processed / section.elapsed:,.1f} files/s")
    return line + "".join(f"; {extra}" for extra in extras)


def _facts(section: Section) -> str:
    header = section.header
    rows = []
    if header.command:
        rows.append(("Command", f"<code>{escape(_shell_words(header.command))}</code>"))
    if header.job:
        rows.append(("Job", escape(header.job)))
    rows.append(("Run", f"{escape(header.run)}, started {escape(_when(header.started))}"))
    if header.jobs:
        rows.append(("Jobs", f"{header.jobs} worker{'s' if header.jobs != 1 else ''} ({escape(header.executor)})"))
    engine = header.engine or ""
    if section.tally.engines:
        per_file = ", ".join(f"{name} {count}" for name, count in sorted(section.tally.engines.items()))
        engine = f"{engine}; files by engine: {per_file}" if engine else per_file
    if engine:
        rows.append(("Engine", escape(engine)))
    if header.cwd:
        rows.append(("Folder", f"<code>{escape(_shown(header.cwd))}</code>"))
    return '<dl class="facts">' + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows) + "</dl>"


def _failures(tally: Tally) -> str:
    failed = tally.failed
    if not failed:
        return "<h3>Failures</h3><p>No file failed.</p>"
    parts = [f"<h3>Failures: {failed} file{'s' if failed != 1 else ''}</h3>"]
    for reason, group in sorted(tally.failures.items(), key=lambda item: (-item[1].count, item[0])):
        parts.append(f'<h4><span class="reason">{escape(reason)}</span>: {group.count} '
                     f"file{'s' if group.count != 1 else ''}</h4>")
        parts.append('<ul class="paths">' + "".join(f"<li>{escape(_shown(path))}</li>" for path in group.paths)
                     + "</ul>")
        if group.count > len(group.paths):
            parts.append(f"<p>... and {group.count - len(group.paths)} more (the --log lists every one).</p>")
    return "\n".join(parts)


def _contact_sheet(section: Section, base: str) -> str:
    sample = section.sample
    cards = sample.cards()
    cwd = section.header.cwd
    parts = ["<h3>Contact sheet</h3>"]
    if cards:
        where = ("read from the files as they are now" if section.from_log
                 else "made while the files were processed")
        parts.append(f"<p>{len(cards)} of {sample.total} processed files: the largest size changes "
                     f"first, then a spread over the tree. Thumbnails {where}; a click opens the "
                     "full picture.</p>")
        parts.append('<div class="sheet">' + "".join(_card(card, base, cwd) for card in cards) + "</div>")
    else:
        parts.append("<p>No file was processed in this run: nothing to show.</p>")
    if sample.failures:
        parts.append(f"<h4>Failed files ({len(sample.failures)} shown), with the input where it decodes</h4>")
        parts.append('<div class="sheet">' + "".join(_card(card, base, cwd) for card in sample.failures)
                     + "</div>")
    return "\n".join(parts)


def _card(card: Card, base: str, cwd: str) -> str:
    outputs = card.output if isinstance(card.output, list) else [card.output] if card.output else []
    before_size = _picture_size(card.before)
    before = _side("before", card.before, card.input, base, cwd, card.input_gone,
                   " · ".join(x for x in (before_size, _bytes_text(card.bytes_in)) if x))
    if card.status == "failed":
        caption = (f'<a href="{_href(card.input, base, cwd)}">{escape(_shown(card.input))}</a><br>'
                   f'<span class="reason">failed: {escape(card.error or "")}</span>')
        return f'<figure class="card"><div class="pair">{before}</div><figcaption>{caption}</figcaption></figure>'
    after_size = card.output_size or _picture_size(card.after)
    after = _side("after", card.after, outputs[0] if outputs else None, base, cwd, card.output_gone,
                  " · ".join(x for x in (after_size, _bytes_text(card.bytes_out)) if x))
    change = ""
    if card.bytes_in and card.bytes_out is not None:
        ratio = card.bytes_out / card.bytes_in
        change = f" ({_percent(1 - ratio)} smaller)" if ratio <= 1 else f" ({_percent(ratio - 1)} larger)"
    links = ", ".join(f'<a href="{_href(path, base, cwd)}">{escape(_shown(path))}</a>' for path in outputs)
    caption = f"{escape(_shown(card.input))}{escape(change)}" + (f"<br>&#8594; {links}" if links else "")
    return f'<figure class="card"><div class="pair">{before}{after}</div><figcaption>{caption}</figcaption></figure>'


def _side(which: str, preview, path: str | None, base: str, cwd: str, gone: bool, dims: str) -> str:
    name = "input" if which == "before" else "output"
    if preview is None:
        inner = f'<span class="none">{"the " + name + " is no longer there" if gone else "no thumbnail of the " + name}</span>'
    else:
        alt = f"{which.capitalize()}: {_shown(path or '')}" + (f", {dims}" if dims else "")
        data = base64.b64encode(preview.data).decode("ascii")
        scale = min(1.0, THUMBNAIL_SIZE / max(preview.width, preview.height))  # shown at most 160 px
        image = (f'<img src="data:{preview.media_type};base64,{data}" width="{round(preview.width * scale)}" '
                 f'height="{round(preview.height * scale)}" alt="{escape(alt)}">')
        inner = f'<a href="{_href(path, base, cwd)}">{image}</a>' if path else image
    alpha = preview is not None and preview.media_type != "image/jpeg"  # transparency shown on a checkerboard
    return (f'<div class="side"><span class="label">{which}</span><div class="frame{" alpha" if alpha else ""}">'
            f'{inner}</div><span class="dims">{escape(dims)}</span></div>')


def _times(tally: Tally) -> str:
    edges = [_duration(ms) for ms in TIME_EDGES]
    chart = charts.histogram(tally.time_bins, edges, title="Files by the time each took",
                             axis="time per file", labels=charts.bin_labels(edges))
    parts = ["<h3>Where the time went</h3>"]
    if not chart:
        parts.append("<p>No file was processed.</p>")
        return "\n".join(parts)
    parts.append(chart)
    rows = "".join(f'<tr><td class="path">{escape(_shown(row.input))}</td><td class="number">'
                   f"{escape(_duration(row.ms))}</td><td>{escape(row.status)}</td></tr>" for row in tally.slowest)
    parts.append(f'<h4>The {len(tally.slowest)} slowest files</h4><table><thead><tr><th>file</th>'
                 f'<th class="number">time</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>')
    return "\n".join(parts)


def _bytes(tally: Tally) -> str:
    edges = [f"{edge:g}" for edge in RATIO_EDGES]
    same = RATIO_EDGES.index(1.0) + 1  # the bin of outputs exactly as large as their input
    labels = charts.bin_labels(edges)
    labels[same] = "the same size"
    chart = charts.histogram(tally.ratio_bins, edges, title="Files by output size / input size",
                             axis="output size / input size", labels=labels, named={same: "same"})
    if not chart:
        return ""
    parts = ["<h3>Bytes</h3>", chart]
    if tally.grew:
        rows = "".join(
            f'<tr><td class="path">{escape(_shown(row.input))}</td><td class="number">{human_bytes(row.bytes_in)}</td>'
            f'<td class="number">{human_bytes(row.bytes_out)}</td>'
            f'<td class="number">+{_percent(row.bytes_out / row.bytes_in - 1)}</td></tr>' for row in tally.grown)
        parts.append(f"<h4>{tally.grew} file{'s' if tally.grew != 1 else ''} grew; the "
                     f"{len(tally.grown)} that grew most</h4><table><thead><tr><th>file</th>"
                     '<th class="number">in</th><th class="number">out</th><th class="number">change</th>'
                     f"</tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append("<p>No output is larger than its input.</p>")
    return "\n".join(parts)


def _anchor(index: int) -> str:
    return f"run-{index + 1}"


def _href(path: str, base: str, cwd: str) -> str:
    """A relative link from the page's folder to `path` (relative to `cwd`)."""
    target = os.path.join(cwd or os.getcwd(), path)
    return escape(quote(os.fsencode(os.path.relpath(target, base))))


def _shown(path: str) -> str:
    """A path as text: names that are not UTF-8 show the replacement character."""
    return os.fsencode(path).decode("utf-8", "replace")


def _shell_words(words) -> str:
    import shlex

    return " ".join(shlex.quote(_shown(word)) for word in words)


def _when(iso: str) -> str:
    return iso.replace("T", " ") if iso else "at an unknown time"


def _bytes_text(count: int | None) -> str:
    return human_bytes(count) if count is not None else ""


def _picture_size(preview) -> str:
    return f"{preview.picture_width}x{preview.picture_height}" if preview is not None else ""


def _percent(share: float) -> str:
    """0.43 -> '43%'; small shares keep a decimal: 0.004 -> '0.4%'."""
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def _duration(ms: float) -> str:
    if ms < 1:
        return f"{ms * 1000:.3g} µs"
    if ms < 1000:
        return f"{ms:.3g} ms"
    return f"{ms / 1000:.3g} s"
