"""Image steps: batchproc decodes each file once, runs it through `transform`, and encodes it."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from batchproc.image.formats import FORMATS, IMAGE_EXTENSIONS, format_for
from batchproc.image.picture import Picture
from batchproc.image.reading import DEFAULT_MAX_PIXELS, open_image
from batchproc.step import Step


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
