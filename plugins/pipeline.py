"""Image steps that chain: each changes a decoded Picture, so a chain decodes each file once."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from batchproc import Step
from batchproc_plugins.imaging import (DEFAULT_MAX_PIXELS, FORMATS, IMAGE_EXTENSIONS, Metadata,
                                       format_for, open_image, orientation, save, to_working_mode,
                                       upright)

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
    #: None: the format's default (imaging.DEFAULT_QUALITY).
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


class ImageStep(Step):
    """A step on images that can join a chain: it changes a Picture in `transform`.

    batchproc decodes the file, passes the Picture through the step's `transform` (or through
    every step of a chain) and encodes the result, so subclasses never open or save files.
    """

    extensions = IMAGE_EXTENSIONS
    accepts = "not an image"
    max_chunk = 4
    #: Refuse images with more pixels than this (decompression bombs).
    max_pixels: int = DEFAULT_MAX_PIXELS

    def transform(self, picture: Picture) -> Picture:
        """Return the changed picture (Picture.map changes every frame)."""
        raise NotImplementedError

    def fork(self, picture: Picture) -> list[Picture]:
        """One picture per entry of `output_tags`; most steps make exactly one."""
        return [self.transform(picture)]

    def output_tags(self) -> list[str]:
        """What tells this step's outputs apart in their names: [""] for one output,
        ["-320", "-640"] for two (a-320.jpg, a-640.jpg)."""
        return [""]

    def output_format(self, chosen: str) -> str:
        """The output format after this step, given the one chosen before ("keep": the input's)."""
        return chosen

    def output_names(self, name: str) -> list[str]:
        return image_output_names([self], name)

    def process(self, source: Path, target) -> dict:
        return process_image([self], source, target, max_pixels=self.max_pixels)


def final_format(steps: list[ImageStep]) -> str:
    """The output format a list of steps settles on ("keep" if none changes it)."""
    chosen = "keep"
    for step in steps:
        chosen = step.output_format(chosen)
    return chosen


def image_output_names(steps: list[ImageStep], name: str) -> list[str]:
    """Output names for an input name: its extension changed with the format, tags added."""
    chosen = final_format(steps)
    stem, extension = os.path.splitext(name)
    if chosen != "keep":
        extension = FORMATS[chosen][1]
    tag_lists = [step.output_tags() for step in steps]
    if all(tags == [""] for tags in tag_lists):
        return [name if chosen == "keep" else stem + extension]
    return [stem + "".join(tags) + extension for tags in itertools.product(*tag_lists)]


def process_image(steps: list[ImageStep], source: Path, target, *, max_pixels: int) -> dict:
    """Decode `source` once, run it through `steps` and write every output picture."""
    targets = target if isinstance(target, list) else [target]
    with open_image(source, max_pixels=max_pixels) as image:
        fmt = format_for(source.suffix, final_format(steps))
        pictures = [Picture.of(image, fmt)]
        for step in steps:
            pictures = [result for picture in pictures for result in step.fork(picture)]
        sizes = [picture.save(path) for picture, path in zip(pictures, targets, strict=True)]
    if len(sizes) == 1:
        return {"width": sizes[0][0], "height": sizes[0][1], "format": fmt}
    return {"sizes": [f"{width}x{height}" for width, height in sizes], "format": fmt}
