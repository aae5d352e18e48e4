"""Byte-level writers: what no library writes on purpose (TIFF IFDs laid out by hand, PNG
chunks, JPEG segments, GIF frames, RLE4 and top-down BMPs)."""

from __future__ import annotations

import struct
import zlib


def tiff_bytes(width, height, data, tags: list[tuple[int, int, object]], *,
               ifd_offset: int | None = None, next_ifd: int = 0,
               sub_ifds: dict[int, list] | None = None) -> bytes:
    """A little-endian classic TIFF: the pixel `data` (bytes, or a list of strips: one per
    plane for planar files) from offset 8, then IFD0, then any `sub_ifds` (pointer tag ->
    entries: an Exif or GPS IFD). Entries are (tag, type, values), values a list or, for
    BYTE, ASCII and UNDEFINED, bytes; width, height and the strips are added. `next_ifd` -1
    makes IFD0 point to itself (a loop)."""
    strips = [data] if isinstance(data, bytes) else list(data)
    offsets = [8 + sum(map(len, strips[:index])) for index in range(len(strips))]
    data = b"".join(strips)
    entries = [(256, 4, [width]), (257, 4, [height]), (273, 4, offsets), (278, 4, [height]),
               (279, 4, [len(strip) for strip in strips])] + tags
    ifd_at = 8 + len(data) + (len(data) & 1)
    sub_ifds = sub_ifds or {}
    pointers = {tag: 0 for tag in sub_ifds}
    size = len(_ifd(entries + [(tag, 4, [0]) for tag in pointers], ifd_at, 0))
    subs, at = [], ifd_at + size
    for tag, sub_entries in sub_ifds.items():
        pointers[tag] = at
        subs.append(_ifd(sub_entries, at, 0))
        at += len(subs[-1])
    ifd0 = _ifd(entries + [(tag, 4, [offset]) for tag, offset in pointers.items()], ifd_at,
                ifd_at if next_ifd == -1 else next_ifd)
    header = b"II*\0" + struct.pack("<I", ifd_at if ifd_offset is None else ifd_offset)
    return header + data + b"\0" * (len(data) & 1) + ifd0 + b"".join(subs)


def _ifd(entries, at: int, next_ifd: int) -> bytes:
    """One IFD laid out at offset `at`, followed by the values that do not fit in its entries."""
    formats = {1: "B", 2: "B", 3: "H", 4: "I", 5: "I", 7: "B"}  # a RATIONAL is two LONGs
    entries = sorted(entries)
    extra_at = at + 2 + 12 * len(entries) + 4
    table, extra = [struct.pack("<H", len(entries))], []
    for tag, kind, values in entries:
        if isinstance(values, bytes):
            payload, count = values, len(values)
        else:
            flat = [v for value in values for v in (value if isinstance(value, tuple) else (value,))]
            payload, count = struct.pack("<" + formats[kind] * len(flat), *flat), len(values)
        if len(payload) <= 4:
            table.append(struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0"))
        else:
            table.append(struct.pack("<HHII", tag, kind, count, extra_at + sum(map(len, extra))))
            extra.append(payload + b"\0" * (len(payload) & 1))
    table.append(struct.pack("<I", next_ifd))
    return b"".join(table) + b"".join(extra)


def packed_samples(values: list[int], bits: int, width: int, samples: int) -> bytes:
    """Rows of `width` pixels of `samples` values each, `bits` per value, rows byte-aligned."""
    out = bytearray()
    row_values = width * samples
    for start in range(0, len(values), row_values):
        accumulator, filled = 0, 0
        for value in values[start:start + row_values]:
            accumulator = (accumulator << bits) | value
            filled += bits
            while filled >= 8:
                filled -= 8
                out.append((accumulator >> filled) & 0xFF)
        if filled:
            out.append((accumulator << (8 - filled)) & 0xFF)
    return bytes(out)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_chunks(data: bytes, chunks: list[bytes], before=b"IDAT") -> bytes:
    """Insert whole chunks before the first `before` chunk of a PNG."""
    at = data.index(before) - 4
    return data[:at] + b"".join(chunks) + data[at:]


def jpeg_with_segments(data: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Insert (marker, payload) segments right after SOI (and a JFIF APP0, if any)."""
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + int.from_bytes(data[4:6], "big")
    made = b"".join(bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
                    for marker, payload in segments)
    return data[:at] + made + data[at:]


def jpeg_without(data: bytes, marker: int) -> bytes:
    """A JPEG without its segments of one marker (before the scan)."""
    out, pos = [data[:2]], 2
    while data[pos + 1] != 0xDA:
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if data[pos + 1] != marker:
            out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    return b"".join(out) + data[pos:]


def exif_bad_offsets() -> bytes:
    """A TIFF-structured EXIF block whose Exif IFD, GPS IFD and a string all point past its end."""
    entries = [(0x010F, 2, 20, 0x7FFF0000),      # Make: 20 characters, far past the end
               (0x0112, 3, 1, 1),                 # Orientation 1
               (0x8769, 4, 1, 0x00FFFFF0),       # Exif IFD: past the end
               (0x8825, 4, 1, 0xFFFFFFF0)]       # GPS IFD: past the end
    body = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) if kind != 3 else
        struct.pack("<HHIHH", tag, kind, count, value, 0) for tag, kind, count, value in entries)
    return b"II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", 0x7FFFFFF0)


def gif_frame_data(width: int, height: int, colour: int) -> bytes:
    """LZW data for a frame of one colour (of 4), with a clear code before every code grows:
    valid for any decoder, and tiny to write."""
    codes, clear, end = [], 4, 5
    for index in range(width * height):
        if index % 2 == 0:
            codes.append(clear)
        codes.append(colour)
    codes.append(end)
    bits, accumulator, filled, out = 3, 0, 0, bytearray()
    for code in codes:
        accumulator |= code << filled
        filled += bits
        while filled >= 8:
            out.append(accumulator & 0xFF)
            accumulator >>= 8
            filled -= 8
    if filled:
        out.append(accumulator & 0xFF)
    blocks = b"".join(bytes((len(out[i:i + 255]),)) + out[i:i + 255] for i in range(0, len(out), 255))
    return b"\x02" + blocks + b"\x00"


def gif_bytes(canvas: tuple[int, int], frames: list[tuple], pixel_frames: int | None = None) -> bytes:
    """A GIF89a with a 4-colour palette. Frames are (left, top, width, height, colour) with
    optionally a disposal method (default 1, keep) and a transparent index. Frames after
    `pixel_frames` declare their extents but carry only a clear and an end code."""
    palette = bytes((0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255))
    out = [b"GIF89a", struct.pack("<HHBBB", *canvas, 0xF1, 0, 0), palette,
           b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"]
    for index, (left, top, width, height, colour, *more) in enumerate(frames):
        disposal, transparent = (more + [1, None])[:2] if more else (1, None)
        flags = disposal << 2 | (transparent is not None)
        out.append(b"!\xf9\x04" + struct.pack("<BHB", flags, 10, transparent or 0) + b"\x00")
        out.append(b"," + struct.pack("<HHHHB", left, top, width, height, 0))
        if pixel_frames is None or index < pixel_frames:
            out.append(gif_frame_data(width, height, colour))
        else:
            out.append(b"\x02\x01\x0c\x00")  # clear (4) then end (5), 3 bits each: 0b101100
    out.append(b";")
    return b"".join(out)


def bmp_rle4(image) -> bytes:
    """A 4-bit run-length encoded BMP (BI_RLE4), which neither Pillow nor ImageMagick writes."""
    indexed = image.quantize(16, dither=0)
    width, height = indexed.size
    pixels = indexed.tobytes()
    body = bytearray()
    for y in range(height - 1, -1, -1):  # bottom-up
        row = pixels[y * width:(y + 1) * width]
        x = 0
        while x < width:
            run_length = 1
            while x + run_length < width and run_length < 255 and row[x + run_length] == row[x]:
                run_length += 1
            body += bytes((run_length, (row[x] << 4) | row[x]))
            x += run_length
        body += b"\x00\x00"  # end of line
    body += b"\x00\x01"  # end of bitmap
    palette = bytes(indexed.getpalette()[:48]).ljust(48, b"\0")
    colours = b"".join(bytes((palette[i + 2], palette[i + 1], palette[i], 0)) for i in range(0, 48, 3))
    offset = 14 + 40 + len(colours)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 4, 2, len(body), 2835, 2835, 16, 16)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + colours + bytes(body)


def bmp_top_down(data: bytes) -> bytes:
    """A 24-bit BMP turned into its top-down form: rows reversed, height negative."""
    offset, = struct.unpack_from("<I", data, 10)
    width, height = struct.unpack_from("<ii", data, 18)
    stride = (width * 3 + 3) & ~3
    rows = [data[offset + i * stride: offset + (i + 1) * stride] for i in range(height)]
    return data[:22] + struct.pack("<i", -height) + data[26:offset] + b"".join(reversed(rows))
