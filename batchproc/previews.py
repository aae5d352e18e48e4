"""Thumbnails for the run report (--report): asked for through the WorkerSpec, made by image
steps while a picture is decoded anyway, and sent back in FileResult.previews (never logged).

`run_task` opens an `Offered` for each file when the run asks for thumbnails; the image code
that holds decoded pixels offers them (`offer`), and so does an output's check where it decodes
the output anyway. The request reaches that code through a context variable set for the one
file in hand, rather than through Step.process, whose signature plugins implement: a context
variable is per thread, so Dask workers that run several files at once in threads keep them
apart.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Callable, NamedTuple

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
    """The thumbnails offered for one file: the input as decoded, the output as written.

    The first offer of each side is kept. Code that holds pixels but knows a cheaper or truer
    source may come later (the output as its check reads it back) offers a fallback instead,
    made at the end only if nothing better came; a picture that was only scaled shows its
    output's thumbnail for its input too (a thumbnail is a scaled copy either way)."""

    __slots__ = ("size", "before", "after", "_fallbacks", "_before_size", "_before_change")

    def __init__(self, size: int) -> None:
        #: Longest side of a thumbnail, in pixels (about: one may be up to a quarter larger).
        self.size = size
        self.before: Preview | None = None
        self.after: Preview | None = None
        self._fallbacks: dict[str, Callable[[int], Preview | None]] = {}
        self._before_size: tuple[int, int] | None = None
        self._before_change: Callable[[Preview], Preview | None] | None = None

    def pair(self, *, fallbacks: bool = True) -> tuple[Preview | None, Preview | None] | None:
        """Both thumbnails, fallbacks made now (unless `fallbacks` is False: a failed file's
        output is not shown); None when there is neither."""
        for side, make in self._fallbacks.items():
            if fallbacks and getattr(self, side) is None:
                _make(self, side, make)
        self._fallbacks.clear()
        if self.before is None and self._before_size is not None and self.after is not None:
            before = self.after._replace(picture_width=self._before_size[0],
                                         picture_height=self._before_size[1])
            change = self._before_change
            _make(self, "before", lambda size: before if change is None else change(before))
        if self.before is None and self.after is None:
            return None
        return (self.before, self.after)


_offered: ContextVar[Offered | None] = ContextVar("batchproc_previews", default=None)


def start(offered: Offered | None):
    """From now on, thumbnails offered for the file in hand go to `offered` (None: none are
    wanted); returns what `stop` takes."""
    return None if offered is None else _offered.set(offered)


def stop(token) -> None:
    if token is not None:
        _offered.reset(token)


def wanted() -> int:
    """The longest side thumbnails should have, or 0 when the run makes none."""
    offered = _offered.get()
    return 0 if offered is None else offered.size


def needed(side: str) -> int:
    """The longest side, when the run wants thumbnails and `side` has none yet; else 0."""
    offered = _offered.get()
    return 0 if offered is None or getattr(offered, side) is not None else offered.size


def offer(side: str, make: Callable[[int], Preview | None]) -> None:
    """Offer the "before" or "after" thumbnail: `make(size)` is called only if the run wants
    thumbnails and that side has none yet. A thumbnail that cannot be made is left out: it
    never fails the file."""
    offered = _offered.get()
    if offered is not None and getattr(offered, side) is None:
        _make(offered, side, make)


def offer_later(side: str, make: Callable[[int], Preview | None]) -> None:
    """Offer a fallback for `side`: made when the file is done, if nothing else was offered.
    `make` must not need the input file open."""
    offered = _offered.get()
    if offered is not None and getattr(offered, side) is None:
        offered._fallbacks.setdefault(side, make)


def before_as_after(picture_size: tuple[int, int], change: Callable[[Preview], Preview | None] | None = None) -> None:
    """The input was only scaled into the output: its thumbnail is the output's, shown with
    the input's own size (and passed through `change`: the colour profile the output lost)."""
    offered = _offered.get()
    if offered is not None and offered.before is None:
        offered._before_size = tuple(picture_size)
        offered._before_change = change


def offered(side: str) -> Preview | None:
    """The thumbnail offered so far for `side` of the file in hand, if any."""
    current = _offered.get()
    return None if current is None else getattr(current, side)


def _make(offered: Offered, side: str, make) -> None:
    try:
        setattr(offered, side, make(offered.size))
    except Exception:  # noqa: BLE001 - a picture for the report is never worth a file's failure
        pass
