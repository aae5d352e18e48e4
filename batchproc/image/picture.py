"""A picture on its way through image steps: its pixels and what its output will be."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from batchproc.image.metadata import Metadata
from batchproc.image.reading import orientation, to_working_mode, upright
from batchproc.image.writing import save

ANIMATED_FORMATS = ("gif", "webp")


@dataclass
class Picture:
    """One image on its way through image steps: its pixels and what its output will be."""

    #: The first (or only) frame: the opened file itself until something decodes it.
    image: Any
    #: Further animation frames, kept only when the output format can animate.
    frames: list = field(default_factory=list)
    #: The EXIF orientation (1-8) not yet applied to the pixels; 1 once it has been.
    turn: int = 1
    metadata: Metadata = field(default_factory=Metadata)
    #: Output format name ("jpeg", "webp"...), settled before decoding.
    format: str = "png"
    #: None: the format's default (formats.DEFAULT_QUALITY).
    quality: int | None = None
    lossless: bool = False
    #: What shows through transparency in outputs without alpha.
    background: str = "white"
    frame_info: dict = field(default_factory=dict)
    #: True once the pixels are (being) decoded: too late for a JPEG draft.
    decoded: bool = False
    #: After a JPEG draft: the region of the reduced image that holds the original picture
    #: (its last row and column are partly padding); resizing from it keeps pixels aligned.
    draft_box: tuple | None = None

    @classmethod
    def of(cls, image, fmt: str) -> "Picture":
        """A picture from an opened image: animation frames only if `fmt` can keep them."""
        turn = orientation(image)  # first: Metadata.of resets the tag in Pillow's cached EXIF
        metadata = Metadata.of(image, strip=False, reset_orientation=True)
        if getattr(image, "n_frames", 1) > 1 and fmt in ANIMATED_FORMATS:
            from PIL import ImageSequence

            frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]
            info = {"duration": image.info.get("duration", 100), "loop": image.info.get("loop", 0)}
            return cls(frames[0], frames[1:], turn, metadata, fmt, frame_info=info, decoded=True)
        return cls(image, [], turn, metadata, fmt)

    @property
    def upright_size(self) -> tuple[int, int]:
        """Width and height as the picture will be seen (orientation applied)."""
        width, height = self.image.size
        return (height, width) if self.turn >= 5 else (width, height)

    def draft(self, stored_size: tuple[int, int]) -> None:
        """Let a JPEG not yet decoded decode at 1/2, 1/4 or 1/8 scale, no smaller than
        `stored_size` (in stored orientation): libjpeg's DCT scaling, about half the work."""
        if self.decoded:
            return
        self.decoded = True
        width, height = self.image.size
        if self.image.format in ("JPEG", "MPO") and (stored_size[0] < width or stored_size[1] < height):
            drafted = self.image.draft(self.image.mode, stored_size)
            if drafted is not None:
                self.draft_box = drafted[1]

    def map(self, change, **changes) -> "Picture":
        """A new picture: every frame brought to a working mode and passed through `change`."""
        self.decoded = True
        if self.image.mode not in ("RGB", "RGBA", "L", "LA"):
            self.image = to_working_mode(self.image)  # once, even when several outputs fork
            self.frames = [to_working_mode(frame) for frame in self.frames]
        return replace(self, image=change(self.image), frames=[change(f) for f in self.frames], **changes)

    def uprighted(self) -> "Picture":
        """The picture with its EXIF orientation applied to the pixels."""
        if self.turn == 1:
            return self
        turn = self.turn
        return self.map(lambda frame: upright(frame, turn), turn=1)

    def save(self, target) -> tuple[int, int]:
        """Encode to `target` (orientation applied); return the size written."""
        final = self.uprighted()
        image = final.image if final.decoded else to_working_mode(final.image)
        save(image, target, final.format, quality=final.quality, metadata=final.metadata,
             background=final.background, lossless=final.lossless, frames=final.frames or None,
             frame_info=final.frame_info)
        return image.size
