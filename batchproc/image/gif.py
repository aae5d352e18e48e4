"""GIF frame extents, read from the file's structure without decoding anything.

A GIF frame may declare extents beyond the picture (its logical screen): Pillow then grows the
canvas to hold it, so a 368-byte file whose second frame declares 65535x65535 pixels asks for
4 GP of memory. Every frame's canvas is checked against the pixel limit before any decoding,
whatever the step keeps of the file.
"""

from __future__ import annotations

import struct

from batchproc.image import limits


def check_frames(path, max_pixels: int) -> None:
    """Refuse a GIF one of whose frames would grow the canvas over `max_pixels`."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        screen, extents, _ = _walk(data)
    except (IndexError, struct.error):
        return  # cut short: Pillow says so, in its own time
    for index, (left, top, width, height) in enumerate(extents):
        canvas = max(screen[0], left + width) * max(screen[1], top + height)
        if canvas > max_pixels:
            raise limits.TooManyPixels(
                f"too many pixels: frame {index + 1} reaches {left + width}x{top + height}, "
                f"beyond the {screen[0]}x{screen[1]} picture, a canvas of {canvas / 1e6:.0f} MP, "
                f"over --max-pixels {max_pixels / 1e6:.0f} MP")


def whole(data: bytes) -> bool:
    """True if a GIF's blocks run, intact, up to its trailer."""
    try:
        return _walk(data)[2]
    except (IndexError, struct.error):
        return False


def _walk(data: bytes) -> tuple[tuple[int, int], list[tuple[int, int, int, int]], bool]:
    """The logical screen size, each frame's (left, top, width, height), and whether the
    blocks reached the trailer."""
    if data[:3] != b"GIF":
        return (0, 0), [], False
    screen = struct.unpack("<HH", data[6:10])
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # header, screen, palette
    extents = []
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            return screen, extents, True
        if block == 0x2C:  # image descriptor, local palette, LZW code size, data blocks
            extents.append(struct.unpack("<HHHH", data[pos + 1:pos + 9]))
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
        elif block == 0x21:  # extension: label, then data blocks
            pos += 2
        else:
            break
        while data[pos]:  # data sub-blocks, up to the empty one
            pos += data[pos] + 1
        pos += 1
    return screen, extents, False
