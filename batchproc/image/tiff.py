"""TIFF specifics: how batchproc writes TIFF, and what to say about one nothing can read."""

from __future__ import annotations

import os
import warnings

#: The compression each mode is written with: lossless, and one that Pillow, libtiff and
#: libvips all read for that mode (CCITT G4 for 1-bit, deflate for everything else).
_COMPRESSION = {"1": "group4"}
_PHOTOMETRIC = {0: "min-is-white grey", 1: "grey", 2: "RGB", 3: "palette", 4: "mask",
                5: "CMYK", 6: "YCbCr", 8: "CIELab", 9: "ICC Lab", 10: "ITU Lab",
                32844: "LogL", 32845: "LogLuv"}
_COMPRESSIONS = {1: "no", 2: "CCITT RLE", 3: "CCITT G3", 4: "CCITT G4", 5: "LZW",
                 6: "old-style JPEG", 7: "JPEG", 8: "deflate", 32773: "PackBits",
                 32946: "deflate", 34676: "SGI LogL", 34677: "SGI LogLuv", 34925: "LZMA",
                 50000: "Zstandard", 50001: "WebP", 34712: "JPEG 2000"}
_SAMPLE_FORMATS = {1: "", 2: " signed", 3: " float", 4: " untyped", 5: " complex",
                   6: " complex float"}


def compression_for(mode: str) -> str:
    """The compression to write a page of this Pillow mode with."""
    return _COMPRESSION.get(mode, "tiff_adobe_deflate")


def describe_tiff(path) -> str | None:
    """Why a TIFF that neither Pillow nor libvips reads cannot be read, in words: truncated,
    or "unsupported TIFF: 12-bit RGB, LZW compression"; None if `path` is no TIFF."""
    from PIL import TiffImagePlugin

    size = os.path.getsize(path)
    with open(path, "rb") as file:
        head = file.read(16)
        if head[:4] not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            return None
        try:
            big = head[2:4] in (b"+\x00", b"\x00+")
            directory = TiffImagePlugin.ImageFileDirectory_v2(head if big else head[:8])
            if directory.next >= size:
                return "truncated image"
            file.seek(directory.next)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # what is wrong is said below, in one line
                directory.load(file)
            tags = {}
            for tag in list(directory):
                try:
                    tags[tag] = directory[tag]
                except Exception:  # a value that cannot be decoded: left out of the account
                    pass
        except Exception:  # a header Pillow cannot even take apart
            return "corrupt image (its first TIFF directory cannot be read)"
    if not tags.get(256) or not tags.get(257):
        return "corrupt image (its TIFF directory gives no width or height)"
    if 273 not in tags and 324 not in tags:
        return "corrupt image (its TIFF directory points to no pixel data)"
    ends = [offset + count for offset, count in zip(
        _tuple(tags.get(273) or tags.get(324)), _tuple(tags.get(279) or tags.get(325)))]
    if ends and max(ends) > size:
        return "truncated image"
    bits = sorted(set(_tuple(tags.get(258, 1))))
    depth = "/".join(str(value) for value in bits)
    sample = _SAMPLE_FORMATS.get(_tuple(tags.get(339, 1))[0], "")
    photometric = _PHOTOMETRIC.get(tags.get(262), f"photometric {tags.get(262)}")
    compression = _COMPRESSIONS.get(tags.get(259, 1), f"compression {tags.get(259)}")
    planar = ", planar" if tags.get(284) == 2 else ""
    return f"unsupported TIFF: {depth}-bit{sample} {photometric}, {compression} compression{planar}"


def _tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)
