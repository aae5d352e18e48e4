"""Writing pictures: the output format's options, transparency flattened, metadata carried."""

from __future__ import annotations

from batchproc.image.formats import DEFAULT_QUALITY, FORMATS
from batchproc.image.metadata import Metadata

#: What a saved picture may carry over from `image.info`: everything else there is metadata
#: that some Pillow writers copy on their own (a JPEG comment, a TIFF or AVIF ICC profile).
_INFO_KEPT = ("dpi", "transparency")


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
         frame_info: dict | None = None) -> None:
    """Write `image` (and any further animation `frames`) to `target` in format `fmt`."""
    from PIL import ImageFile

    pillow_format = FORMATS[fmt][0]
    quality = quality or DEFAULT_QUALITY.get(fmt, 85)
    if isinstance(image, ImageFile.ImageFile):
        # Still the file as opened: a plain copy, since some writers (TIFF) copy tags from the
        # file an image was read from.
        image = image.copy()
    for frame in (image, *(frames or ())):
        frame.info = {key: frame.info[key] for key in _INFO_KEPT if key in frame.info}
    options: dict = {}
    if metadata.icc_profile and image.mode in ("RGB", "RGBA", "L", "LA"):
        options["icc_profile"] = metadata.icc_profile
    if metadata.exif and fmt in ("jpeg", "png", "webp", "tiff", "avif"):
        options["exif"] = metadata.exif
    if metadata.xmp and fmt in ("jpeg", "png", "webp", "avif"):
        options["xmp"] = metadata.xmp if isinstance(metadata.xmp, bytes) else metadata.xmp.encode()
    if fmt == "jpeg":
        image = flatten(image, background)
        options.update(quality=quality)
    elif fmt == "webp":
        options.update(quality=quality, lossless=lossless)
    elif fmt == "avif":
        # Pillow's AVIF encoder has no bit-exact mode: "lossless" is its closest, quality 100
        # with full-resolution colour (differences of a level or two).
        if lossless:
            options.update(quality=100, subsampling="4:4:4")
        else:
            options.update(quality=quality)
    elif fmt == "png":
        options.update(compress_level=6)
    elif fmt == "tiff":
        options.update(compression="tiff_adobe_deflate")  # lossless, and far smaller than raw
    elif fmt == "bmp":
        image = flatten(image, background)
    if frames:
        options.update(save_all=True, append_images=frames, **(frame_info or {}))
    image.save(target, format=pillow_format, **options)
