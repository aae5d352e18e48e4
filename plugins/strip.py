"""The strip step: remove EXIF (GPS included), XMP, IPTC and comments from images, losslessly."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import hookimpl, previews
from batchproc.errors import StepError, Unchanged
from batchproc.image import ImageStep, Metadata, Picture, thumbnails
from batchproc.image.limits import TooManyPixels
from batchproc.image.reading import peek
from batchproc.image.step import process_image
from batchproc.image.verify import Expected
from batchproc_plugins.lossless_strip import can_strip, strip_file

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
    unchanged_reason = "nothing to strip"

    def __init__(
        self,
        keep_icc: Annotated[bool, typer.Option(
            "--keep-icc", help="Keep the ICC colour profile.", rich_help_panel=IMAGE)] = False,
    ) -> None:
        super().__init__(keep_icc=keep_icc)
        self.keep_icc = keep_icc

    def transform(self, picture: Picture) -> Picture:
        keep = picture.metadata.icc_profile if self.keep_icc else None
        return picture.replace(metadata=Metadata(icc_profile=keep))

    def process(self, source: Path, target) -> dict:
        try:
            header = peek(source, max_pixels=self.max_pixels)  # nothing decoded on this path
        except TooManyPixels:
            raise
        except StepError:
            header = None  # perhaps libvips reads it: the decoding path will say
        if header is None or not can_strip(header.format):
            return process_image([self], source, target, max_pixels=self.max_pixels, step=self)
        data = source.read_bytes()
        stripped = strip_file(header.format, data, keep_icc=self.keep_icc, orientation=header.turn)
        fields = {"format": header.format, "bytes_removed": len(data) - len(stripped)}
        # The picture is the input's, byte for byte: it must read back as the input did.
        self._written = {str(target): Expected(header.format, header.size, header.count, header.mode)}
        if previews.wanted():
            self._offer_thumbnails(source, header)
        if stripped == data:  # nothing to strip: batchproc copies it, and checks the copy in full
            self._written[str(target)] = Expected(header.format, header.size, header.count, header.mode,
                                                  thorough=True)
            raise Unchanged(self.unchanged_reason, fields)
        target.write_bytes(stripped)
        return fields


    def _offer_thumbnails(self, source: Path, header) -> None:
        """The report's thumbnails. This path decodes nothing, but the output's check decodes a
        JPEG (or a copy) anyway: its thumbnail serves for the input too, the same pixels with
        the input's colour profile put back. Other formats' input is read for it."""
        from PIL import Image

        with Image.open(source) as image:  # the header alone
            profile = None if self.keep_icc else image.info.get("icc_profile")
        if header.format == "jpeg":
            size = header.size[::-1] if header.turn in (5, 6, 7, 8) else header.size
            previews.before_as_after(size, change=partial(thumbnails.with_profile, icc=profile) if profile else None)
            return
        previews.offer("before", partial(thumbnails.of_file, source, max_pixels=self.max_pixels))
        previews.offer("after", lambda size: thumbnails.without_profile(previews.offered("before"))
                       if profile else previews.offered("before"))


@hookimpl
def register_steps(register):
    register(Strip)
