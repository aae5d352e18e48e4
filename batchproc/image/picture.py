"""A picture on its way through image steps: its pixels and what its output will be."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from batchproc.image import modes
from batchproc.image.metadata import Metadata
from batchproc.image.reading import reading_errors, upright

ANIMATED_FORMATS = ("gif", "webp")
#: Modes Pillow resamples as they are; any other is brought to a working mode first.
_RESAMPLED = ("L", "LA", "RGB", "RGBA", "I;16", "I", "F")
#: The fields a step may change (Picture.replace, Picture.map).
PUBLIC_FIELDS = ("format", "quality", "lossless", "background", "metadata")


@dataclass
class Picture:
    """One image on its way through image steps: its pixels and what its output will be.

    A step reads `upright_size` (and `image` to look at the pixels), changes the pixels with
    `map` or `resize`, and the output with `replace`. A picture no step changed is written as
    a byte copy of its file: nothing is re-encoded that needs no change.
    """

    #: Output format name ("jpeg", "png", "webp", "gif", "tiff", "bmp", "avif").
    format: str = "png"
    #: JPEG, WebP and AVIF quality, 1-100; None: the format's default.
    quality: int | None = None
    #: WebP: exact pixels; AVIF: nearly.
    lossless: bool = False
    #: What shows through transparency in outputs without alpha (JPEG, BMP).
    background: str = "white"
    #: What travels to the output: EXIF, ICC profile, XMP, resolution.
    metadata: Metadata = field(default_factory=Metadata)

    # Internals, free to change: the pixels and what batchproc knows about them.
    _image: Any = field(default=None, repr=False)  # first frame: the file itself until decoded
    _frames: list = field(default_factory=list, repr=False)  # further animation frames
    _frame_info: dict = field(default_factory=dict, repr=False)
    _turn: int = field(default=1, repr=False)  # EXIF orientation not yet applied
    _decoded: bool = field(default=False, repr=False)
    _draft_box: tuple | None = field(default=None, repr=False)
    _stored: tuple = field(default=(0, 0), repr=False)  # the first frame's size before any draft
    _changed: bool = field(default=False, repr=False)  # pixels changed, frames dropped
    _scaled: bool = field(default=False, repr=False)  # the whole first frame, only resized
    _origin: tuple = field(default=(), repr=False)  # (format, metadata) as read: unchanged?

    @classmethod
    def _of(cls, page, fmt: str, source) -> "Picture":
        """A picture of one page of an opened file, to be written as `fmt`: an animation keeps
        its frames only if `fmt` can animate them."""
        from PIL import ImageFile

        picture = cls(format=fmt, metadata=page.metadata, _image=page.image, _turn=page.turn,
                      _decoded=not isinstance(page.image, ImageFile.ImageFile),
                      _stored=page.image.size, _origin=(source.format, page.metadata))
        if source.frame_count > 1:
            if fmt in ANIMATED_FORMATS:
                info = dict(page.image.info)  # the first frame's: its duration, the loop count
                frames = source.frames()
                picture._image, picture._frames, picture._decoded = frames[0], frames[1:], True
                picture._frame_info = {"duration": info.get("duration", 100), "loop": info.get("loop", 0)}
            else:
                picture._changed = True  # frames dropped: never a byte copy
        return picture

    @property
    def upright_size(self) -> tuple[int, int]:
        """Width and height as the picture will be seen (orientation applied)."""
        width, height = self._stored
        return (height, width) if self._turn >= 5 else (width, height)

    @property
    def image(self):
        """The first frame, decoded, upright and in a working mode (L, LA, RGB or RGBA): to look
        at. After `draft` it may be smaller than `upright_size`."""
        return modes.working(upright(self._pixels(), self._turn))

    def draft(self, size: tuple[int, int]) -> None:
        """Say that `size` (upright) is the most this picture's pixels are needed at: a JPEG
        not yet decoded then decodes at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling), no
        smaller than `size`. Optional; useful before `image`, done by `resize` itself."""
        if self._decoded:
            return
        self._decoded = True
        width, height = self._stored
        wanted = (size[1], size[0]) if self._turn >= 5 else tuple(size)
        if self._image.format in ("JPEG", "MPO") and (wanted[0] < width or wanted[1] < height):
            with reading_errors():
                drafted = self._image.draft(self._image.mode, wanted)
            if drafted is not None:
                self._draft_box = drafted[1]

    def map(self, change, **fields) -> "Picture":
        """A new picture: every frame, upright and in a working mode (L, LA, RGB or RGBA),
        passed through `change(frame) -> frame`; `fields` replace output fields too."""
        turn = self._turn
        frames = [change(modes.working(upright(frame, turn))) for frame in self._all_frames()]
        return self._with(frames, **fields)

    def resize(self, size: tuple[int, int], *, box=None, resample: str = "lanczos") -> "Picture":
        """A new picture of `size` (upright), made from the region `box` (left, top, right,
        bottom, in upright pixels; default: all of it). A JPEG decodes at reduced scale when it
        can, and the orientation is applied after resampling, on fewer pixels."""
        from PIL import Image

        width, height = self.upright_size
        box = tuple(box) if box is not None else (0, 0, width, height)
        if tuple(size) == (width, height) and box == (0, 0, width, height):
            return self
        scale_x, scale_y = (box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1]
        self.draft((math.ceil(width / scale_x), math.ceil(height / scale_y)))
        turn = self._turn
        stored_box = _stored_box(box, turn, (width, height))
        stored_size = (size[1], size[0]) if turn >= 5 else tuple(size)
        filter_ = getattr(Image.Resampling, resample.upper())
        # After a draft the pixels are a reduced copy: the box scales with them.
        drafted = self._draft_box or (0, 0, *self._stored)
        factor_x, factor_y = drafted[2] / self._stored[0], drafted[3] / self._stored[1]
        region = (stored_box[0] * factor_x, stored_box[1] * factor_y,
                  stored_box[2] * factor_x, stored_box[3] * factor_y)
        frames = []
        for frame in self._all_frames():
            frame = frame if frame.mode in _RESAMPLED else modes.working(frame)
            frames.append(upright(frame.resize(stored_size, filter_, box=region), turn))
        whole = box == (0, 0, width, height) and (self._scaled or not self._changed)
        return self._with(frames, _scaled=whole)

    def replace(self, **fields) -> "Picture":
        """A new picture with other output fields (format, quality, lossless, background,
        metadata): `picture.replace(format="webp", quality=80)`."""
        return replace(self, **_output_fields(fields))

    def _with(self, frames: list, *, _scaled: bool = False, **fields) -> "Picture":
        return replace(self, _image=frames[0], _frames=frames[1:], _turn=1, _decoded=True,
                       _draft_box=None, _stored=frames[0].size, _changed=True, _scaled=_scaled,
                       **_output_fields(fields))

    def _uprighted(self) -> "Picture":
        """The picture with its orientation applied to the pixels (their mode kept)."""
        if self._turn == 1:
            return self
        turn = self._turn
        return self._with([upright(frame, turn) for frame in self._all_frames()], _scaled=self._scaled)

    def _all_frames(self) -> list:
        return [self._pixels(), *self._frames]

    def _pixels(self):
        """The first frame's pixels, decoded (at the drafted scale, if any)."""
        from PIL import ImageFile

        if isinstance(self._image, ImageFile.ImageFile):
            self._decoded = True
            with reading_errors():
                self._image.load()
        return self._image

    @property
    def _unchanged(self) -> bool:
        """True if writing this picture would only re-encode its file as it is."""
        source_format, source_metadata = self._origin
        return (not self._changed and self._turn == 1 and self.format == source_format
                and self.metadata is source_metadata)


def _output_fields(fields: dict) -> dict:
    """`fields`, if they are all output fields a step may change."""
    unknown = set(fields) - set(PUBLIC_FIELDS)
    if unknown:
        raise TypeError(f"a step may change {', '.join(PUBLIC_FIELDS)} of a Picture, "
                        f"not {', '.join(sorted(unknown))}")
    return fields


def _stored_box(box, turn: int, upright_size: tuple[int, int]) -> tuple:
    """A region of the upright picture in the stored picture's coordinates."""
    width, height = upright_size
    left, top, right, bottom = box
    if turn in (1, 2, 3, 4):
        x0, x1 = (width - right, width - left) if turn in (2, 3) else (left, right)
        y0, y1 = (height - bottom, height - top) if turn in (3, 4) else (top, bottom)
        return (x0, y0, x1, y1)
    # 5-8: stored width is the upright height. Map each upright corner back.
    if turn == 5:  # transpose
        return (top, left, bottom, right)
    if turn == 6:  # stored rotated 90 degrees counter-clockwise of upright
        return (top, width - right, bottom, width - left)
    if turn == 7:  # transverse
        return (height - bottom, width - right, height - top, width - left)
    return (height - bottom, left, height - top, right)  # 8
