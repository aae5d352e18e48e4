"""What travels from an input picture to its output: EXIF, ICC profile, XMP."""

from __future__ import annotations

from dataclasses import dataclass

from batchproc.image.reading import ORIENTATION


@dataclass
class Metadata:
    """What travels from the input to the output unless --strip: EXIF, ICC profile, XMP."""

    exif: bytes | None = None
    icc_profile: bytes | None = None
    xmp: bytes | None = None

    @classmethod
    def of(cls, image, *, strip: bool, reset_orientation: bool) -> "Metadata":
        if strip:
            return cls()
        exif = None
        try:
            tags = image.getexif()
            if len(tags):
                if reset_orientation and ORIENTATION in tags:
                    tags[ORIENTATION] = 1
                exif = tags.tobytes()
        except Exception:
            exif = None
        return cls(exif=exif, icc_profile=image.info.get("icc_profile"),
                   xmp=image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"))
