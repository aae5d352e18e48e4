"""Removing metadata from image files without decoding their pixels: segment by segment, so the
picture itself is copied byte for byte (JPEG, PNG, WebP, GIF)."""

from __future__ import annotations

import re
import struct
import zlib

from batchproc.errors import StepError
from batchproc.image import png

_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # in scan data, FF00 and RSTn are data
_SOS, _EOI, _APP0, _APP2, _APP14, _COM = 0xDA, 0xD9, 0xE0, 0xE2, 0xEE, 0xFE
#: PNG ancillary chunks that change how the picture looks (colour, transparency, animation).
_PNG_KEPT = {b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD", b"hIST",
             b"cICP", b"mDCv", b"cLLi", b"acTL", b"fcTL", b"fdAT"}
#: WebP chunks that hold the picture; EXIF, XMP and anything unknown are dropped.
_WEBP_KEPT = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
_WEBP_ICC, _WEBP_ALPHA_OR_ANIM = 0x20, 0x12
_GIF_KEPT_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")  # looping


def strip_file(kind: str, data: bytes, *, keep_icc: bool, orientation: int = 1) -> bytes:
    """`data` without EXIF (GPS included), XMP, IPTC, comments and text; the ICC profile only if
    `keep_icc`. An EXIF orientation other than 1 survives alone, so the picture stays upright."""
    strip = {"jpeg": _strip_jpeg, "png": _strip_png, "webp": _strip_webp, "gif": _strip_gif}[kind]
    try:
        return strip(data, keep_icc, orientation)
    except (IndexError, struct.error):
        raise StepError(f"truncated or corrupt {kind.upper()} file") from None


def can_strip(kind: str) -> bool:
    """True if `strip_file` can handle this format (batchproc's name) without decoding."""
    return kind in ("jpeg", "png", "webp", "gif")


def orientation_exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block holding only the orientation tag."""
    return b"MM\x00*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, orientation, 0, 0)


def _strip_jpeg(data: bytes, keep_icc: bool, orientation: int) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise StepError("not a JPEG file")
    out = [data[:2]]
    pending_exif = orientation != 1
    scanned = False
    pos = 2
    while True:
        if data[pos] != 0xFF:
            raise StepError("corrupt JPEG: expected a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _EOI:
            if not scanned:
                raise StepError("corrupt JPEG file (no image data)")
            # Anything after the picture (a camera's MPO second images, trailers) is dropped.
            out.append(b"\xff\xd9")
            return b"".join(out)
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise StepError("truncated or corrupt JPEG file")
        payload = data[pos + 4:end]
        if pending_exif and marker != _APP0:
            out.append(_jpeg_segment(0xE1, b"Exif\x00\x00" + orientation_exif(orientation)))
            pending_exif = False
        if marker == _APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            out.append(_jpeg_segment(_APP0, payload[:12] + b"\x00\x00"))  # without its thumbnail
        elif _jpeg_keeps(marker, payload, keep_icc):
            out.append(data[pos:end])
        pos = end
        if marker == _SOS:  # the compressed scan follows: copy it up to the next marker
            scanned = True
            found = _JPEG_MARKER.search(data, pos)
            if found is None:
                raise StepError("truncated or corrupt JPEG file (no end of image)")
            out.append(data[pos:found.start()])
            pos = found.start()


def _jpeg_keeps(marker: int, payload: bytes, keep_icc: bool) -> bool:
    if marker == _COM or (0xE0 <= marker <= 0xEF and marker != _APP14):
        return marker == _APP2 and keep_icc and payload.startswith(b"ICC_PROFILE\x00")
    return True  # tables, frame and scan headers, Adobe's colour transform flag


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _strip_png(data: bytes, keep_icc: bool, orientation: int) -> bytes:
    if not data.startswith(png.SIGNATURE):
        raise StepError("not a PNG file")
    out = [png.SIGNATURE]
    pending_exif = orientation != 1
    kinds = set()
    for kind, start, end in png.chunks(data):
        if end > len(data):
            raise StepError("truncated or corrupt PNG file")
        critical = not kind[0] & 0x20
        if critical and data[end - 4:end] != struct.pack(">I", zlib.crc32(data[start + 4:end - 4])):
            # Pillow does not check these when it decodes, libpng does: kept, it would be a file
            # only some readers take.
            raise StepError(f"corrupt PNG file (bad checksum in its {kind.decode('latin-1')} chunk)")
        kinds.add(kind)
        if kind in (b"IDAT", b"fdAT") and pending_exif:
            out.append(_png_chunk(b"eXIf", orientation_exif(orientation)))  # before the pixels
            pending_exif = False
        if critical or kind in _PNG_KEPT or (kind == b"iCCP" and keep_icc):
            out.append(data[start:end])
    if b"IDAT" not in kinds or b"IEND" not in kinds:
        raise StepError("truncated or corrupt PNG file (no image data)" if b"IDAT" not in kinds
                        else "truncated PNG file")
    return b"".join(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _strip_webp(data: bytes, keep_icc: bool, orientation: int) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise StepError("not a WebP file")
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        end = pos + 8 + length + (length & 1)
        chunks.append((kind, data[pos:min(end, len(data))]))
        pos = end
    kept = [(kind, raw) for kind, raw in chunks
            if kind in _WEBP_KEPT or (kind == b"ICCP" and keep_icc)]
    if kept and kept[0][0] == b"VP8X":
        # Only an extended file can carry EXIF: keep the orientation there, and say what is left.
        flags = kept[0][1][8] & (_WEBP_ALPHA_OR_ANIM | (_WEBP_ICC if keep_icc else 0))
        if orientation != 1:
            flags |= 0x08
            kept.append((b"EXIF", _webp_chunk(b"EXIF", orientation_exif(orientation))))
        header = kept[0][1]
        kept[0] = (b"VP8X", header[:8] + bytes((flags,)) + header[9:])
    body = b"".join(raw for _, raw in kept)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _webp_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)


def _strip_gif(data: bytes, keep_icc: bool, orientation: int) -> bytes:
    if data[:3] != b"GIF":
        raise StepError("not a GIF file")
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # header, screen, palette
    out = [data[:pos]]
    while True:
        block = data[pos]
        if block == 0x3B:  # trailer
            out.append(b"\x3b")
            return b"".join(out)
        if block == 0x2C:  # an image: descriptor, local palette, LZW code size, data blocks
            start = pos
            pos += 10 + (3 << ((data[pos + 9] & 7) + 1) if data[pos + 9] & 0x80 else 0) + 1
            pos = _skip_sub_blocks(data, pos)
            out.append(data[start:pos])
        elif block == 0x21:  # an extension: label, then data blocks
            start, label = pos, data[pos + 1]
            pos = _skip_sub_blocks(data, pos + 2)
            identifier = data[start + 3:start + 14] if label == 0xFF else b""
            if label in (0xF9, 0x01) or identifier in _GIF_KEPT_APPS or (
                    keep_icc and identifier == b"ICCRGBG1012"):
                out.append(data[start:pos])  # frame timing, plain text, looping, colour profile
        else:
            raise StepError("corrupt GIF file: unknown block")


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1
