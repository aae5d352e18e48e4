"""Which pictures an image step's contact sheet shows: a bounded sample kept as results arrive.

Three parts, each of fixed size, so the parent's memory stays flat at any number of files:

- the files whose size changed most (the largest |log(bytes out / bytes in)|: shrunk the
  most, or grown), where a step's effect is easiest to judge;
- a spread over the tree: every n-th file in the order results arrive (about the walk's order,
  folder by folder), n doubling each time the spread fills up;
- the first failures, with a thumbnail of the input where it decodes.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import NamedTuple

from batchproc.results import FAILED, OK, FileResult

CHANGES = 48
SPREAD = 192
FAILURES = 48


class Card(NamedTuple):
    """One file on the contact sheet."""

    order: int
    input: str
    output: str | list[str] | None
    status: str
    bytes_in: int | None
    bytes_out: int | None
    #: The output's size in pixels ("720x588", or several for several outputs), if known.
    output_size: str | None
    error: str | None
    #: batchproc.previews.Preview of the input and of the output, either may be None.
    before: object = None
    after: object = None
    #: From a log: the input, or the output, is no longer where the run left it.
    input_gone: bool = False
    output_gone: bool = False


class ContactSample:
    """The bounded sample of the module docstring."""

    def __init__(self, *, changes: int = CHANGES, spread: int = SPREAD, failures: int = FAILURES) -> None:
        self.changes_size, self.spread_size, self.failures_size = changes, spread, failures
        self._changes: list = []  # min-heap of (score, order, Card)
        self._spread: list[Card] = []
        self._stride = 1
        self._arrived = 0
        self.failures: list[Card] = []
        self._order = itertools.count()

    def add(self, result: FileResult) -> None:
        status = result.status
        if status is OK:
            score = _change(result)
            keep_change = score is not None and (len(self._changes) < self.changes_size
                                                 or score > self._changes[0][0])
            keep_spread = self._arrived % self._stride == 0
            self._arrived += 1
            if keep_change or keep_spread:
                card = card_of(result, next(self._order))
                if keep_change:
                    _push(self._changes, self.changes_size, (score, card.order, card))
                if keep_spread:
                    self._spread.append(card)
                    if len(self._spread) > self.spread_size:  # keep every other; take half as many
                        self._spread = self._spread[::2]
                        self._stride *= 2
        elif status is FAILED and len(self.failures) < self.failures_size:
            self.failures.append(card_of(result, next(self._order)))

    def cards(self) -> list[Card]:
        """The files to show: the largest size changes first, then the spread in path order."""
        changes = [card for *_, card in sorted(self._changes, key=lambda item: (-item[0], item[1]))]
        shown = {card.order for card in changes}
        spread = sorted((card for card in self._spread if card.order not in shown), key=lambda c: c.input)
        return changes + spread

    def replace_cards(self, change) -> None:
        """Replace every card kept by `change(card)` (a log's report adds thumbnails read now)."""
        changed = {}

        def replaced(card: Card) -> Card:
            if card.order not in changed:
                changed[card.order] = change(card)
            return changed[card.order]

        self._changes = [(score, order, replaced(card)) for score, order, card in self._changes]
        self._spread = [replaced(card) for card in self._spread]
        self.failures = [replaced(card) for card in self.failures]

    @property
    def total(self) -> int:
        """How many processed files the sample was drawn from."""
        return self._arrived


def card_of(result: FileResult, order: int) -> Card:
    before, after = result.previews or (None, None)
    return Card(order, result.input, result.output, str(result.status), result.bytes_in,
                result.bytes_out, output_size(result.data), result.error, before, after)


def output_size(data) -> str | None:
    if "width" in data and "height" in data:
        return f"{data['width']}x{data['height']}"
    sizes = data.get("sizes")
    return ", ".join(map(str, sizes)) if isinstance(sizes, list) else None


def _change(result: FileResult) -> float | None:
    if not result.bytes_in or not result.bytes_out:
        return None
    return abs(math.log(result.bytes_out / result.bytes_in))


def _push(heap: list, size: int, item) -> None:
    if len(heap) < size:
        heapq.heappush(heap, item)
    else:
        heapq.heapreplace(heap, item)
