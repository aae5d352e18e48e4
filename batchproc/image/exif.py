"""EXIF as batchproc carries it: what can be read of it, and only the tags that describe the
picture, never the ones that describe how its pixels were stored.

Cameras, editors and fuzzers write EXIF whose entries point past its end. Pillow stops reading
a directory at the first such entry and loses the rest; `repair` removes the unreadable
entries instead, so everything else survives.
"""

from __future__ import annotations

import struct

#: Bytes per value of each TIFF field type.
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
ORIENTATION, XMP, IPTC, PHOTOSHOP = 0x0112, 700, 33723, 34377
#: First-directory tags that describe the picture (as TIFF and EXIF define them): kept.
#: Everything else there (sizes, offsets, compression, photometric, bits and sample format,
#: planar configuration, predictor, sub-IFDs, YCbCr sampling, extra samples, colour maps,
#: tiles, private tags) describes how the pixels were stored, and is dropped.
DESCRIPTIVE = frozenset({
    269, 270, 271, 272, ORIENTATION, 282, 283, 285, 296, 305, 306, 315, 316, 33432,
    18246, 18249, 40091, 40092, 40093, 40094, 40095, EXIF_IFD, GPS_IFD})
#: Descriptive tags only TIFF files carry: written to TIFF outputs, dropped from other formats.
TIFF_ONLY = frozenset({IPTC, PHOTOSHOP})
#: Tags of the Exif directory that restate the stored size: wrong after a resize, so dropped.
_EXIF_SIZE_TAGS = (0xA002, 0xA003)


def repair(data: bytes) -> tuple[bytes, list[str]]:
    """`data` (an EXIF block, with or without its "Exif" prefix) without the entries that point
    outside it; and the names of what was removed (empty: `data` itself is returned)."""
    start = 6 if data.startswith(b"Exif\x00\x00") else 0
    tiff = bytearray(data[start:])
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return b"", ["the whole block (no TIFF header)"]
    walker = _Walker(tiff, "<" if tiff[:2] == b"II" else ">")
    walker.walk(struct.unpack_from(walker.order + "L", tiff, 4)[0], depth=0)
    if not walker.dropped:
        return data, []
    return data[:start] + bytes(walker.tiff), walker.dropped


class _Walker:
    def __init__(self, tiff: bytearray, order: str) -> None:
        self.tiff, self.order = tiff, order
        self.dropped: list[str] = []
        self.visited: set[int] = set()

    def walk(self, offset: int, depth: int) -> bool:
        """Check one directory, rewriting it without its unreadable entries; False if it
        cannot be read at all."""
        tiff, order = self.tiff, self.order
        if offset in self.visited or depth > 3 or offset + 2 > len(tiff):
            return False
        self.visited.add(offset)
        count = struct.unpack_from(order + "H", tiff, offset)[0]
        fits = min(count, (len(tiff) - offset - 2) // 12)
        kept = []
        for index in range(fits):
            entry = bytes(tiff[offset + 2 + 12 * index:offset + 14 + 12 * index])
            tag, kind, number = struct.unpack_from(order + "HHL", entry)
            if self._readable(entry, tag, kind, number, depth):
                kept.append(entry)
            else:
                self.dropped.append(_name(tag))
        if fits < count:
            self.dropped.append(f"{count - fits} entries past the end")
        if len(kept) < count:
            body = struct.pack(order + "H", len(kept)) + b"".join(kept) + b"\x00" * 4
            tiff[offset:offset + len(body)] = body  # no next directory: the thumbnail goes
        return True

    def _readable(self, entry: bytes, tag: int, kind: int, number: int, depth: int) -> bool:
        size = number * _TYPE_SIZES.get(kind, 0)
        if size == 0:
            return False
        if size > 4:
            where = struct.unpack_from(self.order + "L", entry, 8)[0]
            if where + size > len(self.tiff):
                return False
        if tag in (EXIF_IFD, GPS_IFD, INTEROP_IFD) and kind in (4, 13):
            return self.walk(struct.unpack_from(self.order + "L", entry, 8)[0], depth + 1)
        return True


def descriptive(exif, *, tiff_output: bool):
    """A new Pillow Exif holding only what describes the picture (DESCRIPTIVE, with the
    TIFF_ONLY tags for a TIFF output), its orientation reset to 1 (the pixels are upright)."""
    from PIL import Image

    kept = Image.Exif()
    wanted = DESCRIPTIVE | TIFF_ONLY if tiff_output else DESCRIPTIVE
    for tag in list(exif):
        if tag not in wanted:
            continue
        if tag in (EXIF_IFD, GPS_IFD):
            directory = dict(exif.get_ifd(tag))
            if tag == EXIF_IFD:
                for size_tag in _EXIF_SIZE_TAGS:
                    directory.pop(size_tag, None)
                if INTEROP_IFD in directory:
                    directory[INTEROP_IFD] = dict(exif.get_ifd(INTEROP_IFD))
            if directory:
                kept[tag] = directory
        else:
            kept[tag] = exif[tag]
    if ORIENTATION in kept:
        kept[ORIENTATION] = 1
    return kept


def _name(tag: int) -> str:
    from PIL import ExifTags

    return ExifTags.TAGS.get(tag) or ExifTags.GPSTAGS.get(tag) or f"tag {tag}"
