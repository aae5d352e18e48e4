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
