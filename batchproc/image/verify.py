"""Checking that an image output reads back before it is published.

The default check opens each output and compares what the pipeline wrote (format, size, frame
or page count, mode) with what the file says; then the cheapest proof that the rest is whole:
a JPEG is decoded at 1/8 scale (Pillow's draft: libjpeg still runs the whole entropy decode,
where damage shows, and skips most of the inverse DCT); a PNG's chunks must all match their
checksums up to its end, a WebP hold its declared size, a GIF reach its trailer, a BMP hold its
pixel array. A TIFF, whose readers disagree most, is decoded in Pillow and in libvips (through
libtiff). A thorough check (--verify full, an output that replaces its input, a repaired
input) decodes everything, in both libraries. Pictures over the pixel limit (strip's) are not
decoded.
"""

from __future__ import annotations

import filecmp
import struct
import zlib
from dataclasses import dataclass

from batchproc import previews
from batchproc.errors import StepError
from batchproc.image import gif, png, thumbnails, vips
from batchproc.image.formats import FORMATS
from batchproc.image.limits import header_only, pixel_guard


@dataclass(frozen=True)
class Expected:
    """What the pipeline wrote to one output."""

    format: str
    size: tuple[int, int] | None = None
    #: Frames of an animation, or pages of a TIFF.
    count: int = 1
    mode: str | None = None
    #: Decode it all, in both libraries: it was not encoded here (a repaired input).
    thorough: bool = False
    #: A file this output must equal byte for byte: an input that was itself checked in full.
    same_as: str | None = None


def check_output(path, expected: Expected, *, thorough: bool, max_pixels: int,
                 libvips: bool = True) -> None:
    """Raise StepError saying what is wrong if `path` does not read back as `expected`
    (`libvips`: False to leave libvips out of it)."""
    from PIL import Image

    if expected.same_as is not None:
        if not filecmp.cmp(path, expected.same_as, shallow=False):
            raise StepError("the copy differs from its input")
        return
    thorough = thorough or expected.thorough
    pillow_format = FORMATS[expected.format][0]
    decode_all = thorough or expected.format == "tiff"
    if not decode_all:
        _check_whole(path, expected.format)
    with pixel_guard(max_pixels):
        try:
            with header_only():  # a picture over the limit (strip's) is checked, not decoded
                image = Image.open(path, formats=[pillow_format])
            with image:
                _compare(image, expected)
                if decode_all and image.width * image.height <= max_pixels:
                    for index in range(_count(image)):
                        image.seek(index)
                        image.load()
                        if index == 0:
                            _offer_thumbnail(image)
                elif pillow_format == "JPEG" and image.width * image.height <= max_pixels:
                    _decode_jpeg(image)
        except StepError:
            raise
        except Exception as error:
            raise StepError(_pillow_reason(error, pillow_format)) from None
    if libvips and (thorough or expected.format == "tiff"):
        check_with_vips(path, expected)


def _decode_jpeg(image) -> None:
    """Decode a JPEG at reduced scale: libjpeg still runs the whole entropy decode. Grey output
    skips the colour conversion (every component is still decoded); when the run's report wants
    the output's thumbnail, it is decoded in colour at about that size instead, and offered."""
    thumbnail = previews.needed("after")
    if not thumbnail:
        image.draft("L" if image.mode == "RGB" else image.mode,
                    (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        return
    full = image.size
    factor = thumbnail / max(full)
    image.draft(image.mode, (max(1, int(full[0] * factor)), max(1, int(full[1] * factor))))
    image.load()
    _offer_thumbnail(image, full)


def _offer_thumbnail(image, full: tuple[int, int] | None = None) -> None:
    """Offer the report the thumbnail of an output decoded here (`full`: its size before any
    reduced-scale decode), if it still needs one."""
    if not previews.needed("after"):
        return
    full = full or image.size
    turn = image.getexif().get(0x0112, 1)
    upright = (full[1], full[0]) if turn in (5, 6, 7, 8) else full
    previews.offer("after", lambda size: thumbnails.of_pixels(image, size, picture_size=upright, turn=turn,
                                                              icc=image.info.get("icc_profile")))


def _check_whole(path, fmt: str) -> None:
    """The cheap proof that a file was written whole: every PNG chunk's checksum and its end,
    a WebP's RIFF size, a GIF's blocks up to its trailer, a BMP's pixel array (a JPEG is
    decoded at reduced scale instead: its scan has no checksum)."""
    if fmt not in ("png", "webp", "gif", "bmp"):
        return
    with open(path, "rb") as file:
        data = file.read()
    try:
        if fmt == "png":
            for kind, start, end in png.chunks(data):
                if end > len(data):
                    raise StepError("truncated image")
                if data[end - 4:end] != struct.pack(">I", zlib.crc32(data[start + 4:end - 4])):
                    raise StepError(f"corrupt image (bad checksum in its {kind.decode('latin-1')} chunk)")
            if kind != b"IEND":
                raise StepError("truncated image")
        elif fmt == "webp" and struct.unpack_from("<I", data, 4)[0] + 8 > len(data):
            raise StepError("truncated image")
        elif fmt == "gif" and not gif.whole(data):
            raise StepError("truncated image")
        elif fmt == "bmp":
            offset, _, width, height, _, bits = struct.unpack_from("<IIiiHH", data, 10)
            if offset + (width * bits + 31) // 32 * 4 * abs(height) > len(data):
                raise StepError("truncated image")
    except (IndexError, struct.error, UnboundLocalError):
        raise StepError("truncated image") from None


def _compare(image, expected: Expected) -> None:
    if expected.size is not None and image.size != tuple(expected.size):
        raise StepError(f"{image.width}x{image.height} read back, "
                        f"{expected.size[0]}x{expected.size[1]} written")
    count = _count(image)
    if count != expected.count:
        raise StepError(f"{count} {'pages' if expected.format == 'tiff' else 'frames'} read back, "
                        f"{expected.count} written")
    if expected.mode is not None and not _same_mode(image.mode, expected.mode, expected.format):
        raise StepError(f"mode {image.mode} read back, {expected.mode} written")


def _count(image) -> int:
    if image.format == "MPO":
        return 1
    return getattr(image, "n_frames", 1)


def _same_mode(read: str, written: str, fmt: str) -> bool:
    # Readers name a few modes their own way: 16-bit grey's byte order; a GIF is a palette;
    # libwebp leaves out an alpha channel that is opaque everywhere.
    return read == written or {read, written} <= {"I;16", "I;16B", "I;16L", "I;16N"} \
        or (fmt == "gif" and read in ("P", "PA", "L", "RGB", "RGBA")) \
        or (fmt == "webp" and {read, written} <= {"RGB", "RGBA"})


def check_with_vips(path, expected: Expected) -> None:
    """Decode every page in libvips too, when it is installed (it has no BMP loader)."""
    pyvips = vips.load()
    if pyvips is None or not vips.utf8(path) or expected.format not in vips.LOADERS.values():
        return
    try:
        header = pyvips.Image.new_from_file(str(path))
        pages = vips.field(header, "n-pages", 1) if expected.format == "tiff" else 1
        for index in range(pages):
            options = {"page": index} if pages > 1 else {}
            page = pyvips.Image.new_from_file(str(path), fail_on="error", **options)
            page.avg()  # every pixel decoded
    except pyvips.Error as error:
        detail = (getattr(error, "detail", "") or "").strip().splitlines()
        raise StepError(f"libvips cannot read it ({detail[0].strip() if detail else 'no reason given'})") from None


def _pillow_reason(error: Exception, pillow_format: str) -> str:
    from PIL import UnidentifiedImageError

    from batchproc.image.reading import reason_for

    if isinstance(error, UnidentifiedImageError):
        return f"not a {pillow_format} file"
    reason = reason_for(error)
    return str(reason) if isinstance(reason, StepError) else f"Pillow cannot read it ({reason})"
