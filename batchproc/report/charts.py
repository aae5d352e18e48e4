"""Histograms as inline SVG: grey bars with their counts written on them, and the bins' edges
written under them, so they read without colour and print as they are."""

from __future__ import annotations

from html import escape

BAR = 48
HEIGHT = 140
TOP = 18  # room for the counts above the bars
BOTTOM = 48  # room for the edges, a bar's own name and the axis name


def histogram(counts: list[int], edges: list[str], *, title: str, axis: str, unit: str = "files",
              labels: list[str] | None = None, named: dict[int, str] | None = None) -> str:
    """An SVG histogram of `counts` (bin i lies between edges[i-1] and edges[i]; the first and
    last bins are open-ended), trimmed to the bins from the first to the last non-empty one.
    `labels`: how each bin reads in the chart's description, for screen readers; `named`:
    bins named under their bar (a bin of one value), whose right edge is then left unwritten."""
    named = named or {}
    used = [index for index, count in enumerate(counts) if count]
    if not used:
        return ""
    first, last = used[0], used[-1]
    shown = counts[first:last + 1]
    tallest = max(shown)
    width = BAR * len(shown) + 2 * BAR
    parts = []
    for offset, count in enumerate(shown):
        x = BAR + offset * BAR
        height = round(HEIGHT * count / tallest) if count else 0
        y = TOP + HEIGHT - height
        parts.append(f'<rect x="{x + 2}" y="{y}" width="{BAR - 4}" height="{height}" class="bar"/>')
        if count:
            parts.append(f'<text x="{x + BAR / 2:g}" y="{y - 4}" class="count">{count}</text>')
        if first + offset in named:
            parts.append(f'<text x="{x + BAR / 2:g}" y="{TOP + HEIGHT + 27}" class="edge">'
                         f'{escape(named[first + offset])}</text>')
    for offset in range(len(shown) + 1):  # the edges between bars
        index = first + offset - 1
        if 0 <= index < len(edges) and index not in named:
            x = BAR + offset * BAR
            parts.append(f'<text x="{x}" y="{TOP + HEIGHT + 14}" class="edge">{escape(edges[index])}</text>')
            parts.append(f'<line x1="{x}" x2="{x}" y1="{TOP + HEIGHT}" y2="{TOP + HEIGHT + 3}" class="tick"/>')
    parts.append(f'<line x1="{BAR}" x2="{width - BAR}" y1="{TOP + HEIGHT}" y2="{TOP + HEIGHT}" class="axis"/>')
    parts.append(f'<text x="{width / 2:g}" y="{TOP + HEIGHT + 43}" class="name">{escape(axis)}</text>')
    described = "; ".join(f"{labels[index]}: {counts[index]} {unit}" for index in used) if labels else ""
    return (f'<svg class="histogram" viewBox="0 0 {width} {TOP + HEIGHT + BOTTOM}" width="{width}" '
            f'height="{TOP + HEIGHT + BOTTOM}" role="img" aria-label="{escape(title)}. {escape(described)}">'
            f'<title>{escape(title)}</title><desc>{escape(described)}</desc>{"".join(parts)}</svg>')


def bin_labels(edges: list[str]) -> list[str]:
    """How each bin reads: 'under 10 µs', '10 µs to 20 µs', ..., '100 s or more'."""
    return ([f"under {edges[0]}"] + [f"{low} to {high}" for low, high in zip(edges, edges[1:])]
            + [f"{edges[-1]} or more"])
