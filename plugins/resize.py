"""The resize step: fit, cover or stretch images to a size, correctly oriented, metadata kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Optional

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import hookimpl
from batchproc.errors import StepError, UsageError
from batchproc_plugins.geometry import parse_geometry
from batchproc_plugins import vips_resize
from batchproc.image.formats import format_for
from batchproc.image.limits import DEFAULT_MAX_PIXELS
from batchproc.image import ImageStep, Metadata, Picture

IMAGE = "Image options"


class Resize(ImageStep):
    """Resize images: fit them inside a box (the default), cover it, or stretch to it.

    Without a size option, images are fit inside 1600x1600 and never enlarged. EXIF
    orientation is applied, the ICC profile and EXIF kept (drop them with --strip). Outputs
    go to a new folder beside the input (imgs -> imgs_resized) unless --out or --in-place;
    a second run skips what is up to date.

    Example: batchproc resize ./imgs --size 800x600 --jobs 6
    """

    name = "resize"
    summary = "Resize images (JPEG, PNG, WebP, GIF, TIFF, BMP)."
    output_suffix = "_resized"
    max_chunk = 4
    unchanged_reason = "already fits"

    def __init__(
        self,
        size: Annotated[Optional[str], typer.Option(
            "--size", help="WxH box, or W or xH; suffix > shrink only (default), < enlarge only, "
            "^ cover (crop), ! exact. Quote it in the shell: '800x600^'.", rich_help_panel=IMAGE)] = None,
        width: Annotated[Optional[int], typer.Option(
            "--width", min=1, help="Target width; height follows the aspect ratio.",
            rich_help_panel=IMAGE)] = None,
        height: Annotated[Optional[int], typer.Option(
            "--height", min=1, help="Target height; width follows the aspect ratio.",
            rich_help_panel=IMAGE)] = None,
        longest: Annotated[Optional[int], typer.Option(
            "--max", min=1, help="Longest side. Default when no size is given: 1600.",
            rich_help_panel=IMAGE)] = None,
        scale: Annotated[Optional[str], typer.Option(
            "--scale", help="Scale factor: 50% or 0.5.", rich_help_panel=IMAGE)] = None,
        fit: Annotated[Optional[Literal["contain", "cover", "exact"]], typer.Option(
            "--fit",
            help="contain: inside the box; cover: fill it, crop the rest; exact: stretch.",
            rich_help_panel=IMAGE)] = None,
        enlarge: Annotated[bool, typer.Option(
            "--enlarge", help="Allow making images larger.", rich_help_panel=IMAGE)] = False,
        quality: Annotated[int, typer.Option(
            "--quality", "-q", min=1, max=100, help="JPEG and WebP quality.",
            rich_help_panel=IMAGE)] = 85,
        output_format: Annotated[Literal["keep", "jpeg", "png", "webp", "gif", "tiff", "bmp"], typer.Option(
            "--format",
            help="Output format; keep: the input's own.", rich_help_panel=IMAGE)] = "keep",
        resample: Annotated[Literal["lanczos", "bicubic", "bilinear", "hamming", "box", "nearest"], typer.Option(
            "--filter", help="Resampling filter.",
            rich_help_panel=IMAGE)] = "lanczos",
        strip: Annotated[bool, typer.Option(
            "--strip", help="Drop metadata: EXIF, ICC profile, XMP.", rich_help_panel=IMAGE)] = False,
        background: Annotated[str, typer.Option(
            "--background", help="Colour behind transparent areas when the output has no alpha "
            "(JPEG).", rich_help_panel=IMAGE)] = "white",
        max_pixels: Annotated[int, typer.Option(
            "--max-pixels", min=1, help="Refuse images with more pixels than this "
            "(decompression bombs).", rich_help_panel=IMAGE)] = DEFAULT_MAX_PIXELS,
        widths: Annotated[Optional[str], typer.Option(
            "--widths", help="Several outputs from one decode, one per width: 320,640,1280 writes "
            "a-320.jpg, a-640.jpg, a-1280.jpg.", rich_help_panel=IMAGE)] = None,
        engine: Annotated[Literal["auto", "pillow", "vips"], typer.Option(
            "--engine", help="auto: libvips when pyvips is installed (pip install "
            "'batchproc[vips]') and the job is one it does like Pillow, else Pillow.",
            rich_help_panel=IMAGE)] = "auto",
    ) -> None:
        # --widths and --engine join the settings only when given: runs without them keep their
        # fingerprint, so an upgrade does not redo every earlier output.
        extra = {"widths": widths} if widths else {}
        if engine != "auto":
            extra["engine"] = engine
        super().__init__(size=size, width=width, height=height, longest=longest, scale=scale,
                         fit=fit, enlarge=enlarge, quality=quality, output_format=output_format,
                         resample=resample, strip=strip, background=background,
                         max_pixels=max_pixels, **extra)
        if engine == "vips" and not vips_resize.available():
            raise UsageError("--engine vips needs pyvips: pip install 'batchproc[vips]'")
        self.engine = engine
        self.widths = _parse_widths(widths)
        if self.widths and (size or width or height or longest or scale):
            raise UsageError("--widths already gives the sizes: leave out --size, --width, "
                             "--height, --max and --scale")
        self.geometries = [parse_geometry(width=w, fit=fit, enlarge=enlarge) for w in self.widths] or [
            parse_geometry(size=size, width=width, height=height, longest=longest, scale=scale,
                           fit=fit, enlarge=enlarge)]
        self.geometry = self.geometries[0]
        self.quality = quality
        self.output_format_name = output_format
        self.resample = resample
        self.strip = strip
        self.background = background
        self.max_pixels = max_pixels

    def output_format(self, chosen: str) -> str:
        return chosen if self.output_format_name == "keep" else self.output_format_name

    def hint(self) -> str | None:
        if self.engine == "auto" and not vips_resize.available():
            return ("resize runs on Pillow here: pip install 'batchproc[vips]' adds libvips, about "
                    "twice as fast on JPEG, PNG and WebP (batchproc --version lists the engines)")
        return None


    def process(self, source, target) -> dict:
        if self.engine != "pillow" and not self.widths:
            try:
                made = vips_resize.resize(
                    source, target, geometry=self.geometry, quality=self.quality, strip=self.strip,
                    fmt=format_for(source.suffix, self.output_format_name),
                    background=self.background, resample=self.resample, max_pixels=self.max_pixels)
            except StepError:
                made = None  # libvips could not decode it: Pillow may, or says why in its words
            if made is not None:
                return made
        return {**super().process(source, target), "engine": "pillow"}

    def output_tags(self) -> list[str]:
        return [f"-{width}" for width in self.widths] if self.widths else [""]

    def transform(self, picture: Picture) -> Picture:
        return self.fork(picture)[0]

    def fork(self, picture: Picture) -> list[Picture]:
        """One picture per geometry, all resized from one decode (drafted for the largest)."""
        plans = [geometry.plan(*picture.upright_size) for geometry in self.geometries]
        picture.draft((max(size[0] for size, _ in plans), max(size[1] for size, _ in plans)))
        return [self._resize(picture, size, crop) for size, crop in plans]

    def _resize(self, picture: Picture, size, crop) -> Picture:
        if crop:  # cover: the centre of the picture resized to `size`, cropped to `crop`
            width, height = picture.upright_size
            left, top = (size[0] - crop[0]) // 2, (size[1] - crop[1]) // 2
            scale_x, scale_y = width / size[0], height / size[1]
            box = (left * scale_x, top * scale_y, (left + crop[0]) * scale_x, (top + crop[1]) * scale_y)
            picture = picture.resize(crop, box=box, resample=self.resample)
        else:
            picture = picture.resize(size, resample=self.resample)
        if self.strip:
            picture = picture.replace(metadata=Metadata())
        return picture.replace(quality=self.quality, background=self.background)


def _parse_widths(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"bad --widths {text!r}: expected widths such as 320,640,1280") from None
    if not widths or min(widths) < 1 or len(set(widths)) != len(widths):
        raise UsageError(f"bad --widths {text!r}: expected different widths of at least 1 pixel")
    return widths


@hookimpl
def register_steps(register):
    register(Resize)
