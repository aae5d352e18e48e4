"""Writing pictures: a mode the format holds, its options, transparency flattened, metadata
carried, and every failure told in words."""

from __future__ import annotations

import re
import struct
import warnings

from batchproc.errors import StepError
from batchproc.image import modes, tiff
from batchproc.image.formats import DEFAULT_QUALITY, FORMATS
from batchproc.image.metadata import Metadata

#: The colour space an ICC profile must describe (its header, bytes 16-20) for each mode.
_ICC_SPACES = {"RGB": b"RGB ", "RGBA": b"RGB ", "P": b"RGB ", "L": b"GRAY", "LA": b"GRAY",
               "I;16": b"GRAY", "I": b"GRAY", "F": b"GRAY", "1": b"GRAY"}
_WORDS = re.compile(r"[A-Za-z][A-Za-z ,'()-]*")


def flatten(image, background: str = "white"):
    """Composite alpha onto a background colour (for formats without alpha, like JPEG)."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA"):
        return image
    base_mode = "RGB" if image.mode == "RGBA" else "L"
    base = Image.new(base_mode, image.size, background)
    base.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return base


def save(image, target, fmt: str, *, quality: int | None, metadata: Metadata,
         background: str = "white", lossless: bool = False, frames=None,
         frame_info: dict | None = None, pages=None) -> str:
    """Write `image` to `target` in format `fmt`, with any further animation `frames`, or
    further TIFF `pages` as (image, Metadata) pairs; return the mode written."""
    image = _prepared(image, fmt, background)
    options = _options(image, fmt, metadata, quality=quality or DEFAULT_QUALITY.get(fmt, 85),
                       lossless=lossless)
    if frames:
        frames = [_prepared(frame, fmt, background) for frame in frames]
        options.update(save_all=True, append_images=frames, **(frame_info or {}))
    elif pages:
        appended = []
        for page, page_metadata in pages:
            page = _prepared(page, fmt, background)
            page.encoderinfo = _options(page, fmt, page_metadata, quality=None, lossless=False)
            appended.append(page)
        options.update(save_all=True, append_images=appended)
    try:
        _write(image, target, fmt, options)
    except RuntimeError:
        if fmt != "tiff" or "exif" not in options:
            raise StepError(f"could not write {FORMATS[fmt][0]} (its encoder failed)") from None
        # libtiff refuses a tag it cannot set from what the input held: keep the picture.
        warnings.warn("TIFF: descriptive tags dropped, libtiff could not write them")
        del options["exif"]
        _write(image, target, fmt, options)
    return image.mode


def _prepared(image, fmt: str, background: str):
    """A copy in a mode `fmt` holds, alpha flattened where it has none, no stray info."""
    from PIL import ImageFile

    if isinstance(image, ImageFile.ImageFile):
        # Still the file as opened: a plain copy, since some writers (TIFF) copy the tags of
        # the file an image was read from.
        image = image.copy()
    image = modes.for_format(image, fmt)
    if fmt in ("jpeg", "bmp"):
        image = flatten(image, background)
    if image.info:
        # Only transparency travels in `info`: everything else there is metadata some Pillow
        # writers copy on their own (a JPEG comment, a TIFF's tags, a stale ICC profile).
        kept = {key: image.info[key] for key in ("transparency",) if key in image.info}
        image = image.copy() if kept != image.info else image
        image.info = kept
    return image


def _options(image, fmt: str, metadata: Metadata, *, quality, lossless: bool) -> dict:
    options: dict = {}
    icc = metadata.icc_profile
    if icc and len(icc) > 20 and icc[16:20] == _ICC_SPACES.get(image.mode):
        options["icc_profile"] = icc
    exif = metadata.exif_for(fmt) if fmt in ("jpeg", "png", "webp", "tiff", "avif") else None
    if exif is not None:
        options["exif"] = exif
    elif fmt == "tiff":
        from PIL import Image

        options["exif"] = Image.Exif()  # a page must not inherit the first page's tags
    if metadata.xmp and fmt in ("jpeg", "webp", "avif"):
        options["xmp"] = metadata.xmp
    elif metadata.xmp and fmt == "png":  # PNG keeps XMP in an iTXt chunk of its own name
        from PIL import PngImagePlugin

        text = PngImagePlugin.PngInfo()
        text.add_itxt("XML:com.adobe.xmp", metadata.xmp.decode("utf-8", "replace"))
        options["pnginfo"] = text
    if metadata.dpi and fmt in ("jpeg", "png", "tiff", "bmp"):
        options["dpi"] = metadata.dpi
    if fmt == "jpeg":
        options.update(quality=quality)
    elif fmt == "webp":
        options.update(quality=quality, lossless=lossless)
    elif fmt == "avif":
        # Pillow's AVIF encoder has no bit-exact mode: "lossless" is its closest, quality 100
        # with full-resolution colour (differences of a level or two).
        options.update(quality=100, subsampling="4:4:4") if lossless else options.update(quality=quality)
    elif fmt == "png":
        options.update(compress_level=6)
    elif fmt == "tiff":
        options.update(compression=tiff.compression_for(image.mode), icc_profile=icc
                       if "icc_profile" in options else b"", dpi=options.get("dpi"))
    return options


def _write(image, target, fmt: str, options: dict) -> None:
    try:
        image.save(target, format=FORMATS[fmt][0], **options)
    except (OSError, ValueError, TypeError, KeyError, IndexError, struct.error) as error:
        if isinstance(error, OSError) and error.errno:
            raise  # a real I/O error: disk full, permissions
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        detail = f" ({text})" if _WORDS.fullmatch(text) else ""
        raise StepError(f"could not write {FORMATS[fmt][0]}{detail}") from None
