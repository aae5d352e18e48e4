"""Thumbnails for the run report (--report): asked for through the WorkerSpec, made by image
steps while a picture is decoded anyway, and sent back in FileResult.previews (never logged).

`run_task` opens an `Offered` for each file when the run asks for thumbnails; the image code
that holds decoded pixels offers them (`offer`). The request reaches that code through a
context variable set for the one file in hand, rather than through Step.process, whose
signature plugins implement: a context variable is per thread, so Dask workers that run
several files at once in threads keep them apart.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, NamedTuple

#: The longest side of a thumbnail, in pixels (CSS pixels on the report's page).
THUMBNAIL_SIZE = 160


class Preview(NamedTuple):
    """A small picture of a file for the report."""

    #: "image/jpeg", or "image/webp" for a picture with transparency.
    media_type: str
    data: bytes
    #: The thumbnail's own size, in pixels.
    width: int
    height: int
    #: The size of the picture it shows (upright): what the report prints under it.
    picture_width: int
    picture_height: int


class Offered:
    """The thumbnails offered for one file: the input as decoded, and the output as written.
    The first offer of each side is kept."""

    __slots__ = ("size", "before", "after")

    def __init__(self, size: int) -> None:
        #: Longest side of a thumbnail, in pixels.
        self.size = size
        self.before: Preview | None = None
        self.after: Preview | None = None

    def pair(self) -> tuple[Preview | None, Preview | None] | None:
        if self.before is None and self.after is None:
            return None
        return (self.before, self.after)


_offered: ContextVar[Offered | None] = ContextVar("batchproc_previews", default=None)


@contextmanager
def offering(offered: Offered | None) -> Iterator[None]:
    """Within: thumbnails offered for the file in hand go to `offered` (None: none are wanted)."""
    if offered is None:
        yield
        return
    token = _offered.set(offered)
    try:
        yield
    finally:
        _offered.reset(token)


def wanted() -> int:
    """The longest side thumbnails should have, or 0 when the run makes none."""
    offered = _offered.get()
    return 0 if offered is None else offered.size


def offer(side: str, make: Callable[[int], Preview | None]) -> None:
    """Offer the "before" or "after" thumbnail: `make(size)` is called only if the run wants
    thumbnails and that side has none yet. A thumbnail that cannot be made is left out: it
    never fails the file."""
    offered = _offered.get()
    if offered is None or getattr(offered, side) is not None:
        return
    try:
        setattr(offered, side, make(offered.size))
    except Exception:  # noqa: BLE001 - a picture for the report is never worth a file's failure
        pass


def offered(side: str) -> Preview | None:
    """The thumbnail offered so far for `side` of the file in hand, if any."""
    current = _offered.get()
    return None if current is None else getattr(current, side)
