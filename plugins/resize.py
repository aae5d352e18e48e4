"""The resize step: fit, cover or stretch images to a size, correctly oriented, metadata kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from batchproc import Step, hookimpl
from batchproc_plugins.geometry import parse_geometry
from batchproc_plugins.imaging import (DEFAULT_MAX_PIXELS, FORMATS, IMAGE_EXTENSIONS, Metadata,
                                       format_for, open_image, orientation, save, to_working_mode,
                                       upright)

IMAGE = "Image options"


class Resize(Step):
    """Resize images: fit them inside a box (the default), cover it, or stretch to it.

    Without a size option, images are fit inside 1600x1600 and never enlarged. EXIF
    orientation is applied, the ICC profile and EXIF kept (drop them with --strip). Outputs
    go to a new folder beside the input (imgs -> imgs_resized) unless --out or --in-place;
    a second run skips what is up to date.

    Example: batchproc resize ./imgs --size 800x600 --jobs 6
    """

    name = "resize"
    summary = "Resize images (JPEG, PNG, WebP, GIF, TIFF, BMP)."
    extensions = IMAGE_EXTENSIONS
    accepts = "not an image"
    output_suffix = "_resized"
    max_chunk = 4

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
    ) -> None:
        super().__init__(size=size, width=width, height=height, longest=longest, scale=scale,
                         fit=fit, enlarge=enlarge, quality=quality, output_format=output_format,
                         resample=resample, strip=strip, background=background,
                         max_pixels=max_pixels)
        self.geometry = parse_geometry(size=size, width=width, height=height, longest=longest,
                                       scale=scale, fit=fit, enlarge=enlarge)
        self.quality = quality
        self.output_format = output_format
        self.resample = resample
        self.strip = strip
        self.background = background
        self.max_pixels = max_pixels

    def output_name(self, name: str) -> str:
        if self.output_format == "keep":
            return name
        return str(Path(name).with_suffix(FORMATS[self.output_format][1]))

    def process(self, source: Path, target: Path | None) -> dict:
        from PIL import Image, ImageSequence

        fmt = format_for(source.suffix, self.output_format)
        resample = getattr(Image.Resampling, self.resample.upper())
        with open_image(source, max_pixels=self.max_pixels) as image:
            turn = orientation(image)
            width, height = image.size
            sideways = turn >= 5  # orientations 5-8 swap width and height
            (new_w, new_h), crop = self.geometry.plan(*((height, width) if sideways else (width, height)))
            stored_size = (new_h, new_w) if sideways else (new_w, new_h)
            metadata = Metadata.of(image, strip=self.strip, reset_orientation=True)

            def make(frame):
                frame = to_working_mode(frame)
                if frame.size != stored_size:
                    frame = frame.resize(stored_size, resample)
                frame = upright(frame, turn)
                return _centre_crop(frame, crop) if crop else frame

            if getattr(image, "n_frames", 1) > 1 and fmt in ("gif", "webp"):
                frames = [make(frame.convert("RGBA")) for frame in ImageSequence.Iterator(image)]
                info = {"duration": image.info.get("duration", 100), "loop": image.info.get("loop", 0)}
                picture = frames[0]
                save(picture, target, fmt, quality=self.quality, metadata=metadata,
                     background=self.background, frames=frames[1:], frame_info=info)
            else:
                if image.format in ("JPEG", "MPO") and stored_size < image.size:
                    # Decode at 1/2, 1/4 or 1/8 scale in the DCT domain: about half the work.
                    image.draft(image.mode, stored_size)
                picture = make(image)
                save(picture, target, fmt, quality=self.quality, metadata=metadata,
                     background=self.background)
        return {"width": picture.width, "height": picture.height, "format": fmt}


def _centre_crop(image, size):
    width, height = size
    left = (image.width - width) // 2
    top = (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


@hookimpl
def register_steps(register):
    register(Resize)
