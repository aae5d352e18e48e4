"""Reading pictures: only the known decoders, pixel limits on every frame, libvips for what
Pillow cannot decode, and every failure told in words."""

from __future__ import annotations

import io
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from batchproc.errors import StepError
from batchproc.image import gif, limits, png, vips
from batchproc.image.formats import DECODERS
from batchproc.image.limits import DEFAULT_MAX_PIXELS
from batchproc.image.metadata import Metadata, orientation_of, read_exif
from batchproc.image.tiff import describe_tiff

#: Pillow's format names -> batchproc's.
FORMAT_NAMES = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif",
                "TIFF": "tiff", "BMP": "bmp"}
_UNREADABLE = "not a readable image (expected JPEG, PNG, WebP, GIF, TIFF or BMP)"
#: A library's message that is a phrase in words, fit to show as it is.
_WORDS = re.compile(r"[A-Za-z][A-Za-z ,'()-]*")


@dataclass
class Page:
    """One picture of a file (its only one, the first frame of an animation, or a TIFF page)."""

    #: A Pillow image: still undecoded for the first picture of a file Pillow opened (a JPEG
    #: can still be drafted), decoded otherwise.
    image: Any
    metadata: Metadata
    #: The EXIF orientation (1-8) not yet applied to the pixels.
    turn: int = 1


@dataclass
class Source:
    """An opened image file: its pictures, and what it was."""

    #: batchproc's name of the file's format, from its content ("jpeg", "tiff"...).
    format: str
    #: Every page of a TIFF, decoded; or the one picture (the first frame of an animation).
    pages: list[Page]
    #: Frames of an animation (GIF, WebP, APNG), the first included; 1 for a still picture.
    frame_count: int = 1
    #: Which library decodes it: "pillow", or "vips" for what Pillow cannot.
    engine: str = "pillow"
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: A PNG's bytes without the text chunks Pillow refuses (batchproc.image.png), if it had any.
    repaired: bytes | None = None
    _file: Any = field(default=None, repr=False)
    _size: tuple = (0, 0)  # the first frame's size (Pillow grows it for frames beyond it)

    @property
    def size(self) -> tuple[int, int]:
        """The first picture's size as the file declares it."""
        return self._size if self._file is not None else self.pages[0].image.size

    def frames(self) -> list:
        """Every frame of an animation as RGBA, each within --max-pixels and all of them within
        the animation budget (batchproc.image.limits)."""
        from PIL import ImageSequence

        frames, total = [], 0
        size = self._size
        with reading_errors():
            for index, frame in enumerate(ImageSequence.Iterator(self._file)):
                limits.check_frame(frame.size, self.max_pixels, f"frame {index + 1} ")
                total += frame.width * frame.height
                limits.check_animation(total, self.frame_count, self.max_pixels)
                frame = frame.convert("RGBA")
                # A frame reaching beyond the picture grows Pillow's canvas; like libvips and
                # browsers, keep the picture's own size (every frame of an animation the same).
                frames.append(frame if frame.size == size else frame.crop((0, 0, *size)))
        return frames


@dataclass(frozen=True)
class Header:
    """What an image file is, from its header alone."""

    format: str
    size: tuple[int, int]
    #: Frames of an animation or pages of a TIFF.
    count: int
    mode: str
    turn: int


def peek(path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Header:
    """What Pillow sees of an image file without decoding it, for steps that never decode
    pixels: so no pixel limit, but for a GIF frame that would grow the canvas over
    `max_pixels`; StepError if Pillow cannot read the header."""
    from PIL import Image

    with limits.pixel_guard(sys.maxsize), reading_errors():
        repaired = png.without_bad_text(path)
        with Image.open(io.BytesIO(repaired) if repaired else path, formats=DECODERS) as image:
            if image.format == "GIF":
                gif.check_frames(path, max_pixels)
            count = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)
            return Header(FORMAT_NAMES[image.format], image.size, count, image.mode,
                          orientation_of(read_exif(image)))


@contextmanager
def open_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS):
    """Open an image file with the known decoders only, within the pixel limits, to be decoded
    by Pillow, or decoded by libvips when Pillow cannot. What goes wrong opening it becomes a
    StepError in words; within the block, Pillow refuses any frame over the limit."""
    with limits.pixel_guard(max_pixels):
        source = _open(path, max_pixels)
        try:
            yield source
        finally:
            if source._file is not None:
                source._file.close()


def _open(path, max_pixels: int) -> Source:
    from PIL import Image

    try:
        with reading_errors(), limits.header_only():
            repaired = png.without_bad_text(path)
            image = Image.open(io.BytesIO(repaired) if repaired else path, formats=DECODERS)
    except limits.TooManyPixels:
        raise
    except StepError as error:  # unidentified, or refused by Pillow: perhaps libvips reads it
        return _open_with_vips(path, max_pixels, error)
    try:
        with reading_errors():
            limits.check_frame(image.size, max_pixels)
            if image.format == "GIF":
                gif.check_frames(path, max_pixels)
            fmt = FORMAT_NAMES[image.format]
            count = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)
            if fmt == "tiff":  # decoded now: where Pillow cannot, libvips may
                pages = _tiff_pages(image, count, max_pixels)
                image.close()
                return Source(fmt, pages, max_pixels=max_pixels)
            page = _page(image)
    except limits.TooManyPixels:
        image.close()
        raise
    except StepError as error:
        image.close()
        return _open_with_vips(path, max_pixels, error)
    return Source(fmt, [page], count, max_pixels=max_pixels, repaired=repaired, _file=image,
                  _size=image.size)


def _tiff_pages(image, count: int, max_pixels: int) -> list[Page]:
    pages, total = [], 0
    for index in range(count):
        image.seek(index)
        limits.check_frame(image.size, max_pixels, f"page {index + 1} " if count > 1 else "")
        total += image.width * image.height
        limits.check_animation(total, count, max_pixels, "pages")
        image.load()
        pages.append(_page(image, image.copy()))
    return pages


def _page(image, pixels=None) -> Page:
    """A page of the file `image` is open at (its pixels: `pixels`, or the image itself)."""
    tags = read_exif(image)
    return Page(image if pixels is None else pixels, Metadata.of(image, tags), orientation_of(tags))


def _open_with_vips(path, max_pixels: int, pillow_error: StepError) -> Source:
    """Decode with libvips what Pillow could not; else fail with the clearest reason."""
    header = vips.open_header(path)
    if header is None:
        raise _clearer(path, pillow_error)
    fmt = vips.LOADERS[header.get("vips-loader")]
    count = vips.field(header, "n-pages", 1) if fmt == "tiff" else 1
    pyvips = vips.load()
    pages, total = [], 0
    for index in range(count):
        try:
            page = header if count == 1 else pyvips.Image.new_from_file(str(path), page=index)
            limits.check_frame((page.width, page.height), max_pixels,
                               f"page {index + 1} " if count > 1 else "")
            total += page.width * page.height
            limits.check_animation(total, count, max_pixels, "pages")
            decoded = vips.decode(path, index if count > 1 else None)
        except (pyvips.Error, ValueError) as error:
            raise _clearer(path, pillow_error, error) from None
        pages.append(_page(decoded))
    return Source(fmt, pages, engine="vips", max_pixels=max_pixels)


def _clearer(path, pillow_error: StepError, vips_error: Exception | None = None) -> StepError:
    """The reason to give when neither library reads a file: a TIFF says what it holds (TIFF
    is a container of many layouts); else Pillow's reason, unless libvips found it cut."""
    if str(pillow_error) != "truncated image":
        described = describe_tiff(path)
        if described:
            return StepError(described)
    detail = (getattr(vips_error, "detail", "") or str(vips_error or "")).lower()
    if "premature end" in detail or "truncated" in detail:
        return StepError("truncated image")
    return pillow_error


@contextmanager
def reading_errors():
    """Within: what Pillow raises while reading becomes a StepError in words."""
    try:
        yield
    except Exception as error:
        raise reason_for(error) from None


def reason_for(error: Exception) -> Exception:
    """A reading failure as one line in words; real I/O errors (with an errno) stay what they
    are, and so do StepErrors and running out of memory."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(error, (StepError, MemoryError)) or (isinstance(error, OSError) and error.errno):
        return error
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return limits.from_pillow(error)
    if isinstance(error, UnidentifiedImageError):
        return StepError(_UNREADABLE)
    text = _first_line(error)
    if isinstance(error, EOFError) or "truncated" in text.lower():
        return StepError("truncated image")
    if text.lower().startswith("unsupported") and _WORDS.fullmatch(text):  # a valid file, not corrupt
        return StepError(text[0].lower() + text[1:])
    if isinstance(error, (OSError, SyntaxError, ValueError)) and _WORDS.fullmatch(text):
        return StepError(f"corrupt image ({text})")
    return StepError("corrupt image (its data could not be decoded)")


def _first_line(error: Exception) -> str:
    try:
        text = str(error).strip()
    except Exception:
        return ""
    return text.splitlines()[0] if text else ""


def upright(image, value: int):
    """Apply an EXIF orientation to the pixels (after resizing: cheaper on fewer pixels)."""
    from PIL import Image

    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(value)
    return image if method is None else image.transpose(method)
