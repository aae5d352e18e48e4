"""The strip step: remove EXIF (GPS included), XMP, IPTC and comments from images, losslessly."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from batchproc import hookimpl
from batchproc.image.metadata import Metadata
from batchproc.image.reading import open_image, orientation
from batchproc_plugins.lossless_strip import can_strip, strip_file
from batchproc.image import ImageStep, Picture
from batchproc.image.step import process_image

IMAGE = "Image options"


class Strip(ImageStep):
    """Remove metadata from images: EXIF (GPS, camera, dates), XMP, IPTC, comments, text.

    JPEG, PNG, WebP and GIF are rewritten segment by segment without decoding: the picture is
    copied byte for byte, nothing is re-compressed. A JPEG's embedded thumbnail and anything
    after the picture (a camera's MPO second image) go too. When the EXIF orientation is not 1
    it alone is kept, so pictures stay upright. TIFF and BMP are decoded and written again
    (losslessly) with the orientation applied. The ICC profile goes unless --keep-icc.

    Example: batchproc strip ./photos --keep-icc --out ./public
    """

    name = "strip"
    summary = "Remove EXIF, GPS, XMP and comments from images, losslessly."
    output_suffix = "_stripped"
    max_chunk = 32  # no decoding: files go fast

    def __init__(
        self,
        keep_icc: Annotated[bool, typer.Option(
            "--keep-icc", help="Keep the ICC colour profile.", rich_help_panel=IMAGE)] = False,
    ) -> None:
        super().__init__(keep_icc=keep_icc)
        self.keep_icc = keep_icc

    def transform(self, picture: Picture) -> Picture:
        keep = picture.metadata.icc_profile if self.keep_icc else None
        return replace(picture, metadata=Metadata(icc_profile=keep))

    def process(self, source: Path, target) -> dict:
        # Nothing is decoded on this path, so no pixel limit: the header is all Pillow reads.
        with open_image(source, max_pixels=sys.maxsize) as image:
            kind, turn = image.format, orientation(image)
        if not can_strip(kind):
            return process_image([self], source, target, max_pixels=self.max_pixels)
        data = source.read_bytes()
        stripped = strip_file(kind, data, keep_icc=self.keep_icc, orientation=turn)
        target.write_bytes(stripped)
        return {"format": kind.lower(), "bytes_removed": len(data) - len(stripped)}


@hookimpl
def register_steps(register):
    register(Strip)
