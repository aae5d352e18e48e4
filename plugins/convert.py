"""The convert step: re-encode images as JPEG, PNG, WebP, AVIF or TIFF."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Optional

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import hookimpl
from batchproc.errors import UsageError
from batchproc.image.formats import DEFAULT_QUALITY, avif_supported
from batchproc.image import ImageStep, Picture

IMAGE = "Image options"
LOSSY = ("jpeg", "webp", "avif")


class Convert(ImageStep):
    """Convert images to another format: JPEG, PNG, WebP, AVIF or TIFF.

    The extension follows the format (a.png -> a.webp). EXIF orientation is applied, the ICC
    profile, EXIF and XMP kept. Default quality: 85 for JPEG and WebP, 60 for AVIF (its
    scale runs lower). --lossless is exact for WebP; for AVIF it is the closest Pillow's
    encoder gets (quality 100, full-resolution colour). AVIF needs a Pillow built with it
    (Pillow 11.3 and later wheels are). Outputs go to imgs_converted unless --out or --in-place.

    Example: batchproc convert ./imgs --format webp --quality 80
    """

    name = "convert"
    summary = "Convert images to JPEG, PNG, WebP, AVIF or TIFF."
    output_suffix = "_converted"
    unchanged_reason = "already in that format"

    def __init__(
        self,
        output_format: Annotated[Literal["jpeg", "png", "webp", "avif", "tiff"], typer.Option(
            "--format", help="The format to write.", rich_help_panel=IMAGE)],
        quality: Annotated[Optional[int], typer.Option(
            "--quality", "-q", min=1, max=100, help="JPEG, WebP and AVIF quality. Default: 85 "
            "(AVIF 60).", show_default=False, rich_help_panel=IMAGE)] = None,
        lossless: Annotated[bool, typer.Option(
            "--lossless", help="WebP: exact pixels; AVIF: nearly (quality 100, full colour).",
            rich_help_panel=IMAGE)] = False,
    ) -> None:
        super().__init__(output_format=output_format, quality=quality, lossless=lossless)
        if output_format == "avif" and not avif_supported():
            raise UsageError("this Pillow cannot write AVIF: upgrade it (pip install -U pillow; "
                             "wheels from 11.3 on include AVIF) or choose another --format")
        if quality is not None and output_format not in LOSSY:
            raise UsageError(f"--quality applies to {', '.join(LOSSY)}; {output_format} is lossless")
        if lossless and output_format not in ("webp", "avif"):
            raise UsageError(f"--lossless applies to webp and avif ({output_format} is "
                             f"{'always lossless' if output_format != 'jpeg' else 'always lossy'})")
        self.format = output_format
        self.quality = quality
        self.lossless = lossless

    def output_format(self, chosen: str) -> str:
        return self.format

    def transform(self, picture: Picture) -> Picture:
        # The step that picks the format picks the quality too: in "resize | convert" the
        # convert's own (or its format's default) wins over resize's.
        return picture.replace(format=self.format, lossless=self.lossless,
                               quality=self.quality or DEFAULT_QUALITY.get(self.format))


@hookimpl
def register_steps(register):
    register(Convert)
