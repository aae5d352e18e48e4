"""What travels from an input picture to its output: EXIF, ICC profile, XMP, resolution."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from batchproc.image import exif as exif_tags


@dataclass(frozen=True)
class Metadata:
    """What travels from the input to the output unless a step drops it (resize --strip).

    Only what describes the picture travels, never what describes how its pixels were stored
    (for a TIFF: its descriptive tags, never its sizes, compression or layout)."""

    #: EXIF, TIFF-structured (as Pillow's `exif=` takes it), its orientation reset to 1.
    exif: bytes | None = None
    icc_profile: bytes | None = None
    xmp: bytes | None = None
    #: Resolution in dots per inch (x, y).
    dpi: tuple[float, float] | None = None

    @classmethod
    def of(cls, image, tags=None) -> "Metadata":
        """The metadata of an opened Pillow image (the current frame or page of a file);
        `tags`: its EXIF as `read_exif` gave it, if already read."""
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        dpi = image.info.get("dpi")
        tags = read_exif(image) if tags is None else tags
        return cls(exif=_descriptive(tags), icc_profile=image.info.get("icc_profile") or None,
                   xmp=xmp.encode() if isinstance(xmp, str) else xmp or None,
                   dpi=tuple(float(value) for value in dpi) if _valid_dpi(dpi) else None)

    def exif_for(self, fmt: str):
        """The EXIF to write in format `fmt`, as a Pillow Exif (None: none to write)."""
        if not self.exif:
            return None
        from PIL import Image

        tags = Image.Exif()
        tags.load(self.exif)
        if fmt == "tiff":
            # Pillow's TIFF writer cannot write the Exif and GPS directories (libtiff refuses
            # the pointers it hands over), so a TIFF gets the first directory's tags only.
            for tag in (exif_tags.EXIF_IFD, exif_tags.GPS_IFD):
                tags.pop(tag, None)
            if self.xmp:
                tags[exif_tags.XMP] = self.xmp  # TIFF keeps XMP in a tag of its own
            return tags if len(tags) else None
        for tag in exif_tags.TIFF_ONLY:
            tags.pop(tag, None)
        return tags if len(tags) else None


def read_exif(image):
    """An image's EXIF (a Pillow Exif), what can be read of it, warning about the rest; for a
    TIFF, its own first directory."""
    from PIL import Image

    raw = image.info.get("exif")
    try:
        if not isinstance(raw, bytes):
            return image.getexif()
        raw, dropped = exif_tags.repair(raw)
        if dropped:
            warnings.warn(f"EXIF: dropped what could not be read ({', '.join(dropped)})")
        tags = Image.Exif()
        if raw:
            tags.load(raw)
        return tags
    except Exception:  # EXIF that Pillow cannot take apart
        warnings.warn("EXIF: dropped, it could not be read")
        return Image.Exif()


def orientation_of(tags) -> int:
    """The EXIF orientation (1-8), 1 if absent or nonsense."""
    try:
        value = tags.get(exif_tags.ORIENTATION, 1)
    except Exception:  # a value Pillow cannot decode
        return 1
    return value if value in range(1, 9) else 1


def _descriptive(tags) -> bytes | None:
    try:
        kept = exif_tags.descriptive(tags, tiff_output=True)
        return kept.tobytes() if len(kept) else None
    except Exception:  # EXIF that Pillow cannot put back together
        warnings.warn("EXIF: dropped, it could not be written again")
        return None


def _valid_dpi(dpi) -> bool:
    try:
        return len(dpi) == 2 and all(0 < float(value) < 1e6 for value in dpi)
    except (TypeError, ValueError):
        return False
