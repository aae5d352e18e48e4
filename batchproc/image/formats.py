"""The image formats batchproc reads and writes, and what each output format is called."""

from __future__ import annotations

#: File extensions the image steps accept, and the decoders they may reach (no EPS, no PDF...).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif",
                              ".tif", ".tiff", ".bmp"})
DECODERS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP")  # JPEG covers MPO (camera JPEGs)
#: Output formats: name -> (Pillow format, extension).
FORMATS = {"jpeg": ("JPEG", ".jpg"), "png": ("PNG", ".png"), "webp": ("WEBP", ".webp"),
           "gif": ("GIF", ".gif"), "tiff": ("TIFF", ".tif"), "bmp": ("BMP", ".bmp"),
           "avif": ("AVIF", ".avif")}
#: Quality when no step chose one. AVIF's scale runs lower: its 60 looks like JPEG's 85.
DEFAULT_QUALITY = {"jpeg": 85, "webp": 85, "avif": 60}

_EXTENSION_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
                      ".png": "png", ".webp": "webp", ".gif": "gif", ".tif": "tiff",
                      ".tiff": "tiff", ".bmp": "bmp"}


def avif_supported() -> bool:
    """True if the installed Pillow can write AVIF (built in from Pillow 11.3's wheels)."""
    from PIL import features

    return bool(features.check("avif"))


def format_for(extension: str, wanted: str) -> str:
    """The output format name: `wanted`, or for "keep" the one the extension implies."""
    if wanted != "keep":
        return wanted
    return _EXTENSION_FORMATS.get(extension.lower(), "png")
