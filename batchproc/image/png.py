"""PNG files chunk by chunk: the walk the lossless strip uses, and text chunks that would stop
Pillow from reading a good picture (an oversized or malformed zTXt, iTXt or tEXt), dropped.

Pillow refuses a whole PNG whose text chunk decompresses to more than MAX_TEXT_CHUNK (a
defence against text bombs) or is corrupt; the picture itself is fine, so batchproc reads it
from a copy without that chunk, and says so in a warning.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT = (b"tEXt", b"zTXt", b"iTXt")


def chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(kind, start, end) of each chunk of a PNG file, its length, type and CRC included;
    struct.error or IndexError when the data ends inside a chunk header."""
    pos = len(SIGNATURE)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        yield kind, pos, end
        if kind == b"IEND":
            return
        pos = end


def without_bad_text(path) -> bytes | None:
    """The PNG at `path` without the text chunks Pillow would refuse, or None when there are
    none (the common case: only chunk headers are read)."""
    from PIL import PngImagePlugin

    bad: list[tuple[int, int, str]] = []
    memory = 0
    with open(path, "rb") as file:
        if file.read(8) != SIGNATURE:
            return None
        while True:
            header = file.read(8)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind not in _TEXT:
                if kind == b"IEND":
                    break
                file.seek(length + 4, 1)
                continue
            start = file.tell() - 8
            body = file.read(length + 4)
            problem = _text_problem(kind, body, PngImagePlugin.MAX_TEXT_CHUNK)
            memory += length
            if problem is None and memory > PngImagePlugin.MAX_TEXT_MEMORY:
                problem = "over the text memory limit"
            if problem:
                bad.append((start, start + 12 + length, f"{problem} {kind.decode()} text chunk"))
    if not bad:
        return None
    with open(path, "rb") as file:
        data = file.read()
    kept, pos = [], 0
    for start, end, what in bad:
        kept.append(data[pos:start])
        pos = end
        warnings.warn(f"dropped an {what}" if what[0] in "aeiou" else f"dropped a {what}")
    kept.append(data[pos:])
    return b"".join(kept)


def _text_problem(kind: bytes, body: bytes, limit: int) -> str | None:
    """Why Pillow would refuse this text chunk (`body`: its data and CRC), or None."""
    data, crc = body[:-4], body[-4:]
    if len(body) < 4 or struct.pack(">I", zlib.crc32(kind + data)) != crc:
        return "malformed"
    keyword, separator, rest = data.partition(b"\x00")
    if not separator or not keyword:
        return "malformed"
    if kind == b"zTXt":
        compressed = rest[1:]
    elif kind == b"iTXt" and rest[:1] == b"\x01":
        parts = rest[2:].split(b"\x00", 2)  # language tag, translated keyword, text
        if len(parts) < 3:
            return "malformed"
        compressed = parts[2]
    else:
        return None
    try:
        inflater = zlib.decompressobj()
        inflater.decompress(compressed, limit)
    except zlib.error:
        return "malformed"
    return "oversized" if inflater.unconsumed_tail else None
