"""An optional resize engine on libvips (pyvips): SIMD resampling and shrink-on-load.

Used when pyvips is installed (`pip install 'batchproc[vips]'`) and the job is one it does
exactly like the Pillow engine: JPEG, PNG or WebP in, JPEG, PNG or WebP out, no animation, no
CMYK, 8 bits (or 16 written as PNG). Anything else returns None and the caller falls back to
Pillow, always available; so does a file libvips cannot decode.
"""

from __future__ import annotations

import errno
import os

from batchproc.errors import StepError
from batchproc.image import vips
from batchproc.image.vips import available

#: The formats this engine reads and writes: the ones it handles exactly like Pillow.
FORMATS = {"jpeg", "png", "webp"}
_FILTERS = {"lanczos": "lanczos3", "bicubic": "cubic", "bilinear": "linear", "nearest": "nearest"}

__all__ = ["available", "resize"]


def resize(source, target, *, geometry, fmt: str, quality: int, strip: bool, background: str,
           resample: str, max_pixels: int) -> dict | None:
    """Resize like the Pillow engine would, or return None if this job is not one for libvips."""
    from batchproc import previews

    pyvips = vips.load()
    if pyvips is None or fmt not in FORMATS or resample not in _FILTERS or not vips.utf8(target):
        return None
    header = vips.open_header(source)  # None: let Pillow say what is wrong with it, in its words
    if header is None or vips.LOADERS[header.get("vips-loader")] not in FORMATS \
            or vips.field(header, "n-pages", 1) > 1 \
            or header.interpretation == "cmyk" or not _depth_kept(header, fmt):
        return None
    width, height = header.width, header.height
    if width * height > max_pixels:
        raise StepError(f"too many pixels: {width}x{height} is {width * height / 1e6:.0f} MP, "
                        f"over --max-pixels {max_pixels / 1e6:.0f} MP")
    turn = vips.field(header, "orientation", 1)
    sideways = turn in (5, 6, 7, 8)
    (new_w, new_h), crop = geometry.plan(*((height, width) if sideways else (width, height)))
    stored_w, stored_h = (new_h, new_w) if sideways else (new_w, new_h)
    if (stored_w, stored_h) == (width, height) and not crop and turn == 1:
        return None  # nothing to resize: the pipeline decides whether anything needs doing
    flatten = fmt == "jpeg" and header.hasalpha()
    # Thumbnails for a report: a picture only scaled shows its output's for its input too,
    # and a JPEG output's comes from its check, which decodes it anyway; only a crop, a
    # flattening or another format needs the scaled pixels held in memory.
    held = previews.wanted() and (crop or flatten or fmt != "jpeg")
    try:
        image = whole = _scaled(pyvips, source, header, stored_w, stored_h, resample, sequential=turn in (1, 2))
        if turn != 1:
            image = whole = image.autorot()
        if held:
            image = whole = image.copy_memory()
        if crop:
            image = image.crop((image.width - crop[0]) // 2, (image.height - crop[1]) // 2, *crop)
        if flatten:
            image = image.flatten(background=_rgb(background))
        image.write_to_file(str(target), **_save_options(fmt, quality, strip))
    except pyvips.Error as error:
        raise _translate(error, target) from None
    if previews.wanted():
        _offer_thumbnails(header, whole if held else None, image if held else None, strip=strip,
                          scaled_only=not (crop or flatten))
    return {"width": image.width, "height": image.height, "format": fmt, "engine": "vips"}


def _offer_thumbnails(header, whole, output, *, strip: bool, scaled_only: bool) -> None:
    """The input's thumbnail, and the output's when its check will not make it (held in memory:
    `whole`, the picture scaled and upright, and `output` as written)."""
    from batchproc import previews
    from batchproc.image import thumbnails

    icc = vips.field(header, "icc-profile-data", None)
    sideways = vips.field(header, "orientation", 1) in (5, 6, 7, 8)
    size = (header.height, header.width) if sideways else (header.width, header.height)
    if scaled_only:
        keep = None if not (strip and icc) else (lambda preview: thumbnails.with_profile(preview, icc))
        previews.before_as_after(size, change=keep)
    else:
        previews.offer("before", lambda longest: thumbnails.of_vips(whole, longest, picture_size=size, icc=icc))
    if output is not None:
        previews.offer("after", lambda longest: thumbnails.of_vips(
            output, longest, picture_size=(output.width, output.height), icc=None if strip else icc))


def _depth_kept(header, fmt: str) -> bool:
    """8-bit pictures; and 16-bit ones written as PNG, which keeps their depth (Pillow has no
    16-bit colour mode: only this engine keeps 16-bit RGB)."""
    return header.format == "uchar" or (header.format == "ushort" and fmt == "png"
                                        and header.interpretation in ("rgb16", "grey16"))


def _scaled(pyvips, source, header, target_w: int, target_h: int, resample: str, *, sequential: bool):
    """Decode (JPEG: at 1/2, 1/4 or 1/8 scale in the DCT domain, like Pillow's draft) and resample
    to exactly target_w x target_h."""
    width, height = header.width, header.height
    shrink = 1
    if header.get("vips-loader").startswith("jpegload"):
        while shrink < 8 and width // (shrink * 2) >= target_w and height // (shrink * 2) >= target_h:
            shrink *= 2
    # fail_on: a truncated file is an error, as with Pillow, not a picture padded with grey.
    # Sequential reading streams the file (less memory) but cannot serve a rotation or a
    # vertical flip, which read the rows out of order.
    options = {"access": "sequential" if sequential else "random", "fail_on": "truncated",
               **({"shrink": shrink} if shrink > 1 else {})}
    image = pyvips.Image.new_from_file(str(source), **options)
    if (image.width, image.height) == (target_w, target_h):
        return image
    # Scale from the original geometry, as the shrunk pixels still sit on the original's grid:
    # measurably closer to a full-resolution Lanczos than scaling from the shrunk size.
    image = image.resize(shrink * target_w / width, vscale=shrink * target_h / height,
                         kernel=_FILTERS[resample])
    if image.width < target_w or image.height < target_h:  # rounding fell short by a pixel
        image = image.gravity("centre", max(image.width, target_w), max(image.height, target_h),
                              extend="copy")
    return image.crop(0, 0, target_w, target_h)


def _translate(error, target) -> Exception:
    """libvips reports failures as text: a full disk must still read as one (OSError with its
    errno, so the run stops early); anything else is a problem with the picture, in words."""
    message = f"{error.message}\n{getattr(error, 'detail', '') or ''}"
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO):
        if os.strerror(number) in message:
            return OSError(number, os.strerror(number), str(target))
    detail = (getattr(error, "detail", "") or "").strip().splitlines()
    if "premature end" in message.lower() or "truncated" in message.lower():
        return StepError("truncated image")
    reason = detail[0].split(":", 1)[-1].strip() if detail else ""
    return StepError(f"corrupt image ({reason})" if reason else "corrupt image")


def _save_options(fmt: str, quality: int, strip: bool) -> dict:
    # What the Pillow engine carries too: EXIF, XMP, ICC profile; never a PNG's text chunks.
    options = {"keep": "none" if strip else "exif,xmp,icc"}
    if fmt in ("jpeg", "webp"):
        options["Q"] = quality
    else:
        options["compression"] = 6
    return options


def _rgb(colour: str) -> list[int]:
    from PIL import ImageColor

    return list(ImageColor.getrgb(colour))[:3]
