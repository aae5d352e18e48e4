"""libvips through pyvips, when it is installed: one thread, no cache, and only the loaders of
the formats batchproc accepts.

Both the libvips resize engine and the reader (for files Pillow cannot decode) come here, so
libvips is set up one way: VIPS_CONCURRENCY=1 (batchproc already runs a process per core), its
operation cache off (every file is new), and every loader blocked except JPEG, PNG, WebP, GIF
and TIFF, so no file reaches ImageMagick, PDF, SVG or the other loaders libvips may carry.
"""

from __future__ import annotations

import os

#: libvips loaders (the `vips-loader` a header names) -> batchproc's format names.
LOADERS = {"jpegload": "jpeg", "jpegload_source": "jpeg", "pngload": "png",
           "pngload_source": "png", "webpload": "webp", "webpload_source": "webp",
           "gifload": "gif", "gifload_source": "gif", "tiffload": "tiff", "tiffload_source": "tiff"}
#: The loader classes left unblocked: everything else under VipsForeignLoad is blocked.
_ALLOWED_LOADERS = ("VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
                    "VipsForeignLoadNsgif", "VipsForeignLoadTiff")

#: Colour spaces Pillow has no mode for: converted to sRGB.
_OTHER_SPACES = ("lab", "labq", "labs", "lch", "cmc", "xyz", "yxy", "scrgb", "hsv", "cmyk")

_pyvips = None


def load():
    """pyvips, set up for batchproc, or None when it is not installed."""
    global _pyvips
    if _pyvips is None:
        os.environ.setdefault("VIPS_CONCURRENCY", "1")
        try:
            import pyvips
        except (ImportError, OSError):
            _pyvips = False
            return None
        pyvips.cache_set_max(0)
        if hasattr(pyvips, "block_untrusted_set"):  # libvips 8.13 and later
            pyvips.block_untrusted_set(True)
            pyvips.operation_block_set("VipsForeignLoad", True)
            for loader in _ALLOWED_LOADERS:
                pyvips.operation_block_set(loader, False)
        _pyvips = pyvips
    return _pyvips or None


def available() -> bool:
    """True if pyvips imports (it brings its own libvips with pyvips-binary)."""
    return load() is not None


def open_header(path):
    """The libvips image of `path`, header only (no pixels decoded), or None when libvips is
    missing, cannot read it, or it is not one of the formats batchproc accepts."""
    pyvips = load()
    if pyvips is None or not utf8(path):
        return None
    try:
        image = pyvips.Image.new_from_file(os.fspath(path))
    except pyvips.Error:
        return None
    return image if image.get("vips-loader") in LOADERS else None


def decodes(path) -> bool:
    """True if libvips reads `path` and decodes its first pixels (a tile or a strip): some
    layouts, tiled planar TIFF among them, it rejects only there."""
    if open_header(path) is None:
        return False
    pyvips = load()
    try:
        image = pyvips.Image.new_from_file(os.fspath(path), fail_on="error")
        image.crop(0, 0, min(image.width, 16), min(image.height, 16)).avg()
    except pyvips.Error:
        return False
    return True


def field(image, name: str, default):
    """A header field of a libvips image, or `default` when it has none."""
    return image.get(name) if image.get_typeof(name) else default


def utf8(path) -> bool:
    """libvips takes UTF-8 file names only."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(path, page: int | None = None):
    """One page of a file libvips can read (open_header said so) as a Pillow image,
    with its ICC profile, EXIF (orientation included), XMP and resolution in `info`.

    Colour that is not 8-bit sRGB (CIELab, CMYK, scRGB, 16-bit RGB...) becomes 8-bit sRGB; deep
    grey stays deep (I;16, I or F), as batchproc.image.modes expects."""
    from PIL import Image

    pyvips = load()
    options = {"fail_on": "error", "access": "sequential"}
    if page is not None:
        options["page"] = page
    image = source = pyvips.Image.new_from_file(os.fspath(path), **options)
    icc = field(image, "icc-profile-data", None)
    if image.format in ("complex", "dpcomplex"):
        raise ValueError("complex numbers")
    alpha = int(image.hasalpha())
    if image.bands - alpha > 3 and image.interpretation != "cmyk":  # extra samples: dropped
        image = image.extract_band(0, n=3).bandjoin(image[image.bands - 1]) if alpha \
            else image.extract_band(0, n=3)
    if image.interpretation in _OTHER_SPACES:
        icc = None  # it described the colours before their conversion
        image = image.colourspace("srgb")
    elif image.format != "uchar" and image.bands > 1:  # deep colour: Pillow holds 8 bits
        image = image.colourspace("srgb" if image.bands - alpha >= 3 else "b-w")
    elif image.bands == 1 and image.format not in ("uchar", "ushort", "int", "float"):
        image = image.cast("float" if image.format == "double" else "int")
    mode, raw = _pillow_mode(image)
    decoded = Image.frombytes(mode, (image.width, image.height), image.write_to_memory(), "raw", raw)
    decoded.info.update(_info(source, icc))
    return decoded


def _pillow_mode(image) -> tuple[str, str]:
    """The Pillow mode (and raw mode) for a libvips image of one to four bands."""
    if image.bands == 1 and image.format != "uchar":
        if image.format == "ushort":
            return "I;16", "I;16N"
        if image.format in ("float", "double"):
            return "F", "F;32NF"
        return "I", "I;32N"
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
    return mode, mode


def _info(image, icc) -> dict:
    from PIL import Image

    info: dict = {}
    if icc:
        info["icc_profile"] = icc
    exif = Image.Exif()
    raw = field(image, "exif-data", None)
    if raw:
        try:
            exif.load(raw)
        except Exception:  # unreadable EXIF: the orientation below still counts
            exif = Image.Exif()
    turn = field(image, "orientation", 1)
    if turn != 1:
        exif[0x0112] = turn
    if len(exif):
        info["exif"] = exif.tobytes()
    xmp = field(image, "xmp-data", None)
    if xmp:
        info["xmp"] = xmp
    if field(image, "resolution-unit", "in") in ("in", "cm") and image.xres > 0:
        info["dpi"] = (image.xres * 25.4, image.yres * 25.4)
    return info
