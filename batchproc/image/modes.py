"""Colour modes and bit depths: what steps change, and what each output format holds.

Steps that change pixels (`Picture.map`) see 8-bit L, LA, RGB or RGBA. Otherwise a picture keeps
its depth as far as the output format holds it:

- 16-bit grey stays 16-bit in PNG and TIFF; 32-bit integer and float grey stay so in TIFF and
  become 16-bit grey in PNG; every other format gets 8 bits.
- Pillow has no 16-bit colour mode: 16-bit RGB(A) is decoded at 8 bits per channel (its high
  byte), and stays 16-bit only where libvips does the whole job (resize to PNG).
- CMYK is converted to sRGB through its ICC profile; CIELab to sRGB; palettes stay palettes
  where the format has them (PNG, TIFF, GIF, BMP).

Deep values are scaled from their own range: integers from 0-255 when they all fit, else from
0-65535 when they fit (16-bit data), else from their minimum to their maximum; floats from
0.0-1.0 when they all fit (the usual convention), else from their minimum to their maximum.
"""

from __future__ import annotations

import io

WORKING_MODES = ("L", "LA", "RGB", "RGBA")
#: What each output format holds as it is; anything else is brought to a working mode.
_HELD = {"png": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"},
         "tiff": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F"},
         "gif": {"L", "P", "RGB", "RGBA"},
         "bmp": {"1", "L", "P", "RGB"},
         "jpeg": {"L", "RGB"},
         "webp": {"RGB", "RGBA"},
         "avif": {"RGB", "RGBA"}}


def working(image):
    """Any decoded mode as 8-bit L, LA, RGB or RGBA, colours converted to sRGB."""
    mode = image.mode
    if mode in WORKING_MODES:
        return image
    if mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("PA", "RGBa", "RGBX"):
        return image.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        return scaled(image, 255).convert("L")
    if mode == "CMYK":
        return _to_srgb(image, image.info.get("icc_profile"))
    if mode == "LAB":
        return _to_srgb(image, None, lab=True)
    return image.convert("RGB")


def for_format(image, fmt: str):
    """`image` in a mode the output format `fmt` holds, keeping its depth where it can."""
    mode = image.mode
    held = _HELD.get(fmt, set(WORKING_MODES))
    if mode in held:
        return image
    if mode.startswith("I;16") and "I;16" in held:
        return image.convert("I").convert("I;16")
    if (mode.startswith("I") or mode == "F") and "I;16" in held:
        return scaled(image, 65535).convert("I").convert("I;16")
    if mode == "P" and "RGB" in held:
        return working(image)
    converted = working(image)
    if converted.mode in held or fmt in ("jpeg", "bmp"):  # these two: the writer flattens alpha
        return converted
    return converted.convert("RGBA" if converted.mode == "LA" else "RGB")


def scaled(image, top: int):
    """Deep grey (I;16, I, F) as mode I or F scaled from its range (module docstring) to 0-`top`."""
    mode = image.mode
    if mode.startswith("I;16"):
        wide = image.convert("I")
        low, high = 0, 65535
    else:
        wide = image
        low, high = _range(image)
    if (low, high) == (0, top):
        return wide
    factor = top / (high - low) if high > low else 0.0
    return wide.point(lambda value: (value - low) * factor)


def _range(image) -> tuple[float, float]:
    low, high = image.getextrema()
    if image.mode == "F":
        return (0.0, 1.0) if 0.0 <= low and high <= 1.0 else (low, high)
    if low >= 0 and high <= 255:
        return 0, 255
    if low >= 0 and high <= 65535:
        return 0, 65535
    return low, high


def _to_srgb(image, icc: bytes | None, *, lab: bool = False):
    """CMYK (through its own profile when it has one) or CIELab to sRGB."""
    from PIL import ImageCms

    try:
        source = (ImageCms.createProfile("LAB") if lab else
                  ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else None)
        if source is not None:
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                  outputMode="RGB")
            converted.info.pop("icc_profile", None)
            return converted
    except (ImageCms.PyCMSError, OSError, ValueError):  # a broken profile: the plain conversion
        pass
    converted = image.convert("RGB")
    converted.info.pop("icc_profile", None)
    return converted
