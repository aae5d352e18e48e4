"""Thumbnails of pictures for the run report (batchproc.previews): made from pixels that are
already decoded, as small JPEGs (WebP where there is transparency to show)."""

from __future__ import annotations

import io

from batchproc.errors import StepError
from batchproc.image import modes
from batchproc.image.reading import DEFAULT_MAX_PIXELS, open_image, upright
from batchproc.previews import Preview

JPEG_QUALITY = 70
WEBP_QUALITY = 70
#: Larger ICC profiles (print profiles can be megabytes) are not copied into thumbnails.
_MAX_PROFILE = 64 * 1024
#: Modes Image.reduce takes as they are; others are brought to a working mode first.
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "CMYK", "I", "F")
_PROFILE_SPACES = {"RGB": b"RGB ", "RGBA": b"RGB ", "L": b"GRAY", "LA": b"GRAY"}


def of_pixels(image, size: int, *, picture_size: tuple[int, int], turn: int = 1,
              icc: bytes | None = None, background: str | None = None) -> Preview:
    """A thumbnail of a decoded Pillow image, its longest side about `size` (up to a quarter
    more: resampling it again would cost more than the page's own scaling). `turn`: the EXIF
    orientation still to apply; `icc`: the profile its colours are in; `background`: flatten
    transparency onto it (for an output that has none)."""
    from PIL import Image

    if image.mode not in _REDUCIBLE:
        image = modes.working(image)
    scale = max(image.size) / size
    if scale >= 2:  # a box filter first: cheap, and it reads each pixel once
        image = image.reduce(int(scale))
    if max(image.size) > size * 1.25:  # else close enough: the page scales it
        factor = size / max(image.size)
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                             Image.Resampling.BICUBIC)
    converted = modes.working(image)  # deep grey, CMYK: on the few pixels left
    if converted is not image and image.mode == "CMYK":
        icc = None  # the colours are sRGB now
    image = upright(converted, turn)
    if background is not None and image.mode in ("RGBA", "LA"):
        from batchproc.image.writing import flatten

        image = flatten(image, background)
    return encode(image, picture_size=picture_size, icc=icc)


def encode(image, *, picture_size: tuple[int, int], icc: bytes | None = None) -> Preview:
    """A small working-mode image as a Preview: JPEG, or WebP when it has transparency."""
    options = {}
    if icc and len(icc) <= _MAX_PROFILE and icc[16:20] == _PROFILE_SPACES.get(image.mode):
        options["icc_profile"] = icc
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA"):
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=2, **options)
        media_type = "image/webp"
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, **options)
        media_type = "image/jpeg"
    return Preview(media_type, buffer.getvalue(), image.width, image.height, *picture_size)


def of_picture(picture, size: int) -> Preview:
    """The thumbnail of a Picture's first frame, upright. Call it once nothing more will be
    written from the picture: if it is not decoded yet, a JPEG is drafted to thumbnail scale."""
    picture.draft((2 * size, 2 * size))  # nothing if it is decoded already
    return of_pixels(picture._pixels(), size, picture_size=picture.upright_size, turn=picture._turn,
                     icc=picture.metadata.icc_profile)


def without_profile(preview: Preview | None) -> Preview | None:
    """The same thumbnail without its colour profile (an output whose profile was stripped)."""
    return with_profile(preview, None)


def with_profile(preview: Preview | None, icc: bytes | None) -> Preview | None:
    """The same thumbnail with the colour profile `icc` (None: without one)."""
    from PIL import Image

    if preview is None:
        return None
    with Image.open(io.BytesIO(preview.data)) as image:
        if image.info.get("icc_profile") == icc:
            return preview
        image.load()
        return encode(image, picture_size=(preview.picture_width, preview.picture_height), icc=icc)


def of_vips(image, size: int, *, picture_size: tuple[int, int], icc: bytes | None = None) -> Preview:
    """The thumbnail of a libvips image held in memory (upright, one to four bands)."""
    from PIL import Image

    if image.format != "uchar":  # 16-bit: its high byte
        image = (image / 257).cast("uchar") if image.format == "ushort" else image.cast("uchar")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
    pixels = Image.frombuffer(mode, (image.width, image.height), image.write_to_memory(), "raw", mode, 0, 1)
    return of_pixels(pixels, size, picture_size=picture_size, icc=icc)


def of_file(path, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Preview | None:
    """The thumbnail of an image file read now (a failed file's input, a file named in a log),
    or None if it does not decode in full."""
    from batchproc.image.picture import Picture

    try:
        with open_image(path, max_pixels=max_pixels) as opened:
            picture = Picture._of(opened.pages[0], "png", opened)
            return of_picture(picture, size)
    except (StepError, OSError, MemoryError):
        return None
