"""A broad corpus of generated images, and the means to judge batchproc on it.

`build_corpus(folder)` writes some two hundred small images: the TIFF matrix (strip or tiled,
chunky or planar, every common compression, bit depth and colour space, BigTIFF, multi-page),
every PNG colour type and bit depth, JPEG, GIF, WebP and BMP variants, and crafted or broken
files (truncated, mislabelled, bombs). Pillow, pyvips, libtiff's tiffcp, ImageMagick and
jpegtran write them; a case whose tool is missing comes back with `missing` set and no file.
Nothing is downloaded and the same folder is written every time.

The rest of the module runs batchproc's image steps over a corpus (`run_step`, under a watch
on the memory of its whole process tree), reads every output back with Pillow and libvips in
guarded reader processes (`read_back`), and turns a file's record and reading into a verdict
(`verdict`). tests/test_corpus.py and bench/trust_table.py both use it.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from images import marked, photo, save_oriented

TESTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus and what is known about it."""

    #: A short stable label, "format/what-it-is": "tiff/planar-lzw-rgba-16bit".
    kind: str
    #: Where it was written; None when the tool that writes it is missing.
    path: Path | None
    #: (width, height) of the first page or frame as it is meant to be seen (EXIF or TIFF
    #: orientation applied); None when nobody can know (random bytes, an empty file).
    size: tuple[int, int] | None
    #: Pages or frames, when known.
    frames: int | None
    #: Crafted or broken on purpose: failing on it is a fine outcome, when said in words.
    hostile: bool = False
    #: Decoding it naively takes gigabytes: only ever run under a memory watch.
    memory_bomb: bool = False
    #: Why the file could not be written (the missing tool), else None.
    missing: str | None = None

    @property
    def group(self) -> str:
        return self.kind.split("/", 1)[0]


@dataclass(frozen=True)
class Case:
    kind: str
    extension: str
    write: Callable[[Path, Path], None]  # (path, scratch folder)
    size: tuple[int, int] | None
    frames: int | None = 1
    tools: tuple[str, ...] = ()
    hostile: bool = False
    memory_bomb: bool = False


#: Where each external tool comes from on Debian, for the skip reasons.
TOOL_PACKAGES = {"tiffcp": "libtiff-tools", "convert": "imagemagick", "gm": "graphicsmagick",
                 "jpegtran": "libjpeg-turbo-progs"}


def missing_tool(tools) -> str | None:
    """The reason a case cannot be written here, naming the first tool not installed."""
    for tool in tools:
        if tool == "pyvips":
            try:
                importlib.import_module("pyvips")
            except (ImportError, OSError):
                return "pyvips is not installed (pip install pyvips)"
        elif shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {TOOL_PACKAGES.get(tool, tool)})"
    return None


def build_corpus(folder) -> list[CorpusFile]:
    """Write every case into `folder` (one subfolder per format); return them all, in order."""
    folder = Path(folder)
    files = []
    with tempfile.TemporaryDirectory(prefix="corpus-scratch-") as scratch:
        for case in CASES:
            reason = missing_tool(case.tools)
            path = None
            if reason is None:
                path = folder / (case.kind + case.extension)
                path.parent.mkdir(parents=True, exist_ok=True)
                work = Path(scratch) / case.kind.replace("/", "_")
                work.mkdir()
                try:
                    case.write(path, work)
                except Exception as error:
                    raise RuntimeError(f"corpus case {case.kind} could not be written: {error}") from error
            files.append(CorpusFile(case.kind, path, case.size, case.frames, case.hostile,
                                    case.memory_bomb, reason))
    return files


def kinds() -> list[str]:
    """Every kind, without writing anything (for test parametrisation)."""
    return [case.kind for case in CASES]


# --- pictures --------------------------------------------------------------------------------

W, H = 96, 64  # the usual size: large enough that a 24x24 box shrinks it, small enough to be quick


def picture(width=W, height=H, seed=1, mode="RGB"):
    """A photo-like picture with an alpha gradient when `mode` has alpha."""
    from PIL import Image

    image = photo(width, height, seed)
    if mode in ("RGBA", "LA", "PA"):
        alpha = Image.linear_gradient("L").rotate(90).resize((width, height))
        alpha.paste(0, (0, 0, width // 4, height // 4))  # a fully transparent corner
        image = image.convert("RGBA")
        image.putalpha(alpha)
        return image.convert(mode) if mode != "RGBA" else image
    if mode == "I;16":
        return image.convert("L").point(lambda v: v * 257, "I").convert("I;16")
    if mode == "I":
        return image.convert("L").point(lambda v: v * 65793, "I")
    if mode == "F":
        return image.convert("L").convert("F").point(lambda v: v / 255.0)
    if mode == "P":
        return image.quantize(64, dither=0)
    if mode == "LAB":  # through LittleCMS, which attaches a Lab profile stamped with the time
        image = image.convert("LAB")
        image.info["icc_profile"] = dated(image.info["icc_profile"])
        return image
    return image.convert(mode) if mode != "RGB" else image


def vips_picture(width=W, height=H, seed=1, *, alpha=False):
    """The same picture as a pyvips image (8-bit sRGB, with alpha if asked)."""
    import pyvips

    image = picture(width, height, seed, "RGBA" if alpha else "RGB")
    return pyvips.Image.new_from_memory(image.tobytes(), width, height, len(image.mode),
                                        "uchar").copy(interpretation="srgb")


def srgb_profile() -> bytes:
    from PIL import ImageCms

    return dated(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def dated(profile: bytes) -> bytes:
    """An ICC profile made by LittleCMS, with a fixed creation date (it stamps the time) and no
    profile ID (the ID is an MD5 that covers the date; zero means "not computed")."""
    return (profile[:24] + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + profile[36:84] + bytes(16)
            + profile[100:])


def noise(count: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(count)


def run(*argv) -> None:
    """Run a tool; a failure is a corpus bug, so it raises with the tool's own words."""
    completed = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if completed.returncode != 0 or completed.stderr.strip().startswith(("Error", "error")):
        raise RuntimeError(f"{' '.join(map(str, argv))} failed: {completed.stderr.strip()}")


# --- byte-level writers: what no library writes on purpose ----------------------------------

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


# --- the cases -------------------------------------------------------------------------------

CASES: list[Case] = []


EXTENSIONS = {"tiff": ".tif", "png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp",
              "bmp": ".bmp"}


def case(kind, extension=None, size=(W, H), frames=1, tools=(), hostile=False, memory_bomb=False):
    """Register the decorated writer as a case (the extension defaults to its format's)."""
    extension = extension or EXTENSIONS[kind.split("/")[0]]

    def register(write):
        CASES.append(Case(kind, extension, write, size, frames, tuple(tools), hostile, memory_bomb))
        return write
    return register


def pillow_case(kind, extension, make, size=(W, H), frames=1, **options):
    """A case Pillow writes: make() -> image, saved with `options`."""
    case(kind, extension, size, frames)(lambda path, _: make().save(path, **options))


def tiffcp_case(kind, source, *arguments, size=(W, H), frames=1):
    """A case libtiff's tiffcp writes from a source TIFF that source(path) writes."""
    def write(path, scratch):
        source(scratch / "source.tif")
        run("tiffcp", *arguments, scratch / "source.tif", path)
    case(kind, ".tif", size, frames, tools=("tiffcp",))(write)


def vips_case(kind, extension, make, size=(W, H), frames=1, **options):
    """A case libvips writes: make() -> pyvips image, saved with `options`."""
    case(kind, extension, size, frames, tools=("pyvips",))(
        lambda path, _: make().write_to_file(str(path), **options))


def magick_case(kind, extension, *arguments, tool="convert", size=(W, H), source_mode="RGB"):
    """A case ImageMagick (or GraphicsMagick) writes from a PNG: arguments end with the
    output's coder prefix, e.g. "BMP3:"."""
    *options, prefix = arguments

    def write(path, scratch):
        picture(mode=source_mode).save(scratch / "source.png")
        command = [tool] if tool == "convert" else [tool, "convert"]
        run(*command, scratch / "source.png", *options, f"{prefix}{path}")
    case(kind, extension, size, tools=(tool,))(write)


def _save_tiff(mode="RGB", size=(W, H), **options):
    """A source writer for tiffcp cases: Pillow's raw TIFF of the picture in `mode`."""
    return lambda path: picture(*size, mode=mode).save(path, **options)


def _tiff_cases():
    rgb = _save_tiff()
    # Pillow's own writers (raw is Pillow's Python writer; anything compressed is libtiff).
    for compression, name in [(None, "raw"), ("tiff_lzw", "lzw"), ("tiff_adobe_deflate", "deflate"),
                              ("packbits", "packbits")]:
        options = {"compression": compression} if compression else {}
        pillow_case(f"tiff/{name}-rgb-8bit", ".tif", picture, **options)
    pillow_case("tiff/jpeg-rgb-8bit", ".tif", picture, compression="jpeg", quality=85)
    pillow_case("tiff/jpeg-ycbcr-1x1-strip", ".tif", lambda: picture(mode="YCbCr"), compression="jpeg")
    pillow_case("tiff/raw-ycbcr-1x1", ".tif", lambda: picture(mode="YCbCr"))
    tiffcp_case("tiff/jpeg-ycbcr-1x1-tiled", _save_tiff("YCbCr", compression="jpeg"),
                "-t", "-w", "32", "-l", "32", "-c", "jpeg")
    odd = _save_tiff(size=(99, 69))  # odd sizes: half a chroma sample, partial strips and tiles
    tiffcp_case("tiff/jpeg-ycbcr-2x2-strip", odd, "-c", "jpeg", "-r", "16", size=(99, 69))
    tiffcp_case("tiff/jpeg-ycbcr-2x2-tiled", odd, "-t", "-w", "32", "-l", "32", "-c", "jpeg",
                size=(99, 69))
    vips_case("tiff/jpeg-ycbcr-2x2-strip-vips", ".tif", vips_picture, compression="jpeg", Q=75)
    vips_case("tiff/jpeg-ycbcr-2x2-tiled-vips", ".tif", vips_picture, compression="jpeg", Q=75,
              tile=True, tile_width=32, tile_height=32)
    vips_case("tiff/jpeg-rgb-q95-vips", ".tif", vips_picture, compression="jpeg", Q=95)
    tiffcp_case("tiff/jpeg-rgb-tiled", rgb, "-t", "-w", "32", "-l", "32", "-c", "jpeg:r")

    # Grey, bilevel and fax.
    pillow_case("tiff/raw-grey-8bit", ".tif", lambda: picture(mode="L"))
    pillow_case("tiff/lzw-grey-8bit", ".tif", lambda: picture(mode="L"), compression="tiff_lzw")
    pillow_case("tiff/raw-grey-1bit", ".tif", lambda: picture(mode="1"))
    pillow_case("tiff/packbits-grey-1bit", ".tif", lambda: picture(mode="1"), compression="packbits")
    pillow_case("tiff/g3-1bit", ".tif", lambda: picture(mode="1"), compression="group3")
    pillow_case("tiff/g4-1bit", ".tif", lambda: picture(mode="1"), compression="group4")
    bilevel = _save_tiff("1")
    tiffcp_case("tiff/g3-2d-1bit", bilevel, "-c", "g3:2d")
    tiffcp_case("tiff/g3-1d-fill-1bit", bilevel, "-c", "g3:1d:fill")
    tiffcp_case("tiff/g4-tiled-1bit", bilevel, "-t", "-w", "32", "-l", "32", "-c", "g4")
    tiffcp_case("tiff/g4-lsb2msb-1bit", bilevel, "-f", "lsb2msb", "-c", "g4")
    vips_case("tiff/g4-miniswhite-1bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"),
              compression="ccittfax4", bitdepth=1, miniswhite=True)
    vips_case("tiff/raw-grey-2bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"), bitdepth=2)
    vips_case("tiff/lzw-grey-4bit-vips", ".tif", lambda: vips_picture().colourspace("b-w"),
              bitdepth=4, compression="lzw", predictor="none")

    # Deep and wide samples: 16 and 32-bit integers, floats.
    pillow_case("tiff/raw-grey-16bit", ".tif", lambda: picture(mode="I;16"))
    pillow_case("tiff/deflate-grey-16bit", ".tif", lambda: picture(mode="I;16"),
                compression="tiff_adobe_deflate")
    pillow_case("tiff/raw-grey-32bit-int", ".tif", lambda: picture(mode="I"))
    pillow_case("tiff/raw-grey-32bit-float", ".tif", lambda: picture(mode="F"))
    vips_case("tiff/deflate-grey-32bit-float-predictor3", ".tif",
              lambda: vips_picture().colourspace("b-w").cast("float") / 255, compression="deflate",
              predictor="float")
    tiffcp_case("tiff/lzw-grey-32bit-float-predictor3", _save_tiff("F"), "-c", "lzw:3")
    vips_case("tiff/raw-grey-16bit-signed-vips", ".tif",
              lambda: (vips_picture().colourspace("b-w").cast("short") * 64 - 8192).cast("short"))
    vips_case("tiff/raw-grey-64bit-float-vips", ".tif",
              lambda: vips_picture().colourspace("b-w").cast("double") / 255)
    vips_case("tiff/lzw-rgb-16bit", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="lzw", predictor="none")
    vips_case("tiff/deflate-rgb-16bit", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="deflate", predictor="none")
    vips_case("tiff/lzw-rgb-16bit-predictor2", ".tif", lambda: vips_picture().colourspace("rgb16"),
              compression="lzw", predictor="horizontal")
    vips_case("tiff/lzw-rgba-16bit", ".tif", lambda: vips_picture(alpha=True).colourspace("rgb16"),
              compression="lzw")
    vips_case("tiff/raw-rgb-32bit-float-vips", ".tif", lambda: vips_picture().cast("float") / 255)
    tiffcp_case("tiff/lzw-rgb-8bit-predictor2", rgb, "-c", "lzw:2")
    tiffcp_case("tiff/deflate-rgb-8bit-predictor2", rgb, "-c", "zip:2")

    # Palette, alpha, CMYK, Lab.
    pillow_case("tiff/raw-palette-8bit", ".tif", lambda: picture(mode="P"))
    pillow_case("tiff/lzw-palette-8bit", ".tif", lambda: picture(mode="P"), compression="tiff_lzw")
    pillow_case("tiff/raw-rgba-8bit", ".tif", lambda: picture(mode="RGBA"))
    pillow_case("tiff/deflate-rgba-8bit", ".tif", lambda: picture(mode="RGBA"),
                compression="tiff_adobe_deflate")
    pillow_case("tiff/raw-grey-alpha-8bit", ".tif", lambda: picture(mode="LA"))
    vips_case("tiff/lzw-rgba-8bit-tiled-premultiplied", ".tif", lambda: vips_picture(alpha=True),
              compression="lzw", tile=True, tile_width=32, tile_height=32, premultiply=True)
    pillow_case("tiff/raw-cmyk-8bit", ".tif", lambda: picture(mode="CMYK"))
    pillow_case("tiff/lzw-cmyk-8bit", ".tif", lambda: picture(mode="CMYK"), compression="tiff_lzw")
    vips_case("tiff/lzw-cmyk-16bit", ".tif", lambda: vips_picture().icc_export(
        output_profile="cmyk", depth=16), compression="lzw")
    vips_case("tiff/jpeg-cmyk-8bit", ".tif", lambda: vips_picture().icc_export(output_profile="cmyk"),
              compression="jpeg", Q=85)
    magick_case("tiff/jpeg-cmyk-8bit-magick", ".tif", "-colorspace", "CMYK", "-compress", "JPEG", "TIFF:")
    pillow_case("tiff/raw-lab-8bit", ".tif", lambda: picture(mode="LAB"))
    vips_case("tiff/raw-lab-32bit-float-vips", ".tif", lambda: vips_picture().colourspace("lab"))
    vips_case("tiff/raw-lab-16bit-vips", ".tif", lambda: vips_picture().colourspace("labs"))

    # Planar (separate image planes) and tiles: only libtiff writes these.
    for compression in ("none", "lzw", "zip", "packbits"):
        name = {"zip": "deflate", "none": "raw"}.get(compression, compression)
        tiffcp_case(f"tiff/planar-{name}-rgb-8bit", rgb, "-p", "separate", "-c", compression)
    tiffcp_case("tiff/planar-lzw-rgb-16bit", _planar_16bit, "-c", "lzw")
    tiffcp_case("tiff/planar-raw-rgba-8bit", _save_tiff("RGBA"), "-p", "separate", "-c", "none")
    tiffcp_case("tiff/planar-lzw-rgba-16bit", _planar_16bit_alpha, "-c", "lzw")
    case("tiff/planar-raw-rgb-16bit")(lambda path, _: _planar_16bit(path))
    tiffcp_case("tiff/planar-tiled-raw-rgb-8bit", rgb, "-p", "separate", "-t", "-w", "32", "-l", "32",
                "-c", "none")
    tiffcp_case("tiff/planar-tiled-lzw-rgb-16bit", _planar_16bit, "-t", "-w", "32", "-l", "32",
                "-c", "lzw")
    tiffcp_case("tiff/planar-jpeg-rgb-8bit", rgb, "-p", "separate", "-c", "jpeg:r", "-r", "16")
    tiffcp_case("tiff/planar-lzw-cmyk-8bit", _save_tiff("CMYK"), "-p", "separate", "-c", "lzw")
    tiffcp_case("tiff/planar-deflate-grey-alpha-8bit", _save_tiff("LA"), "-p", "separate", "-c", "zip")
    tiffcp_case("tiff/tiled-raw-rgb-8bit", odd, "-t", "-w", "32", "-l", "32", "-c", "none",
                size=(99, 69))
    tiffcp_case("tiff/tiled-lzw-rgb-8bit", odd, "-t", "-w", "32", "-l", "32", "-c", "lzw",
                size=(99, 69))
    tiffcp_case("tiff/tiled-packbits-palette-8bit", _save_tiff("P"), "-t", "-w", "32", "-l", "32",
                "-c", "packbits")
    tiffcp_case("tiff/tiled-deflate-grey-16bit", _save_tiff("I;16"), "-t", "-w", "32", "-l", "32",
                "-c", "zip")
    tiffcp_case("tiff/strips-of-one-row-lzw-rgb-8bit", rgb, "-r", "1", "-c", "lzw")
    tiffcp_case("tiff/big-endian-lzw-rgb-8bit", rgb, "-B", "-c", "lzw")
    tiffcp_case("tiff/big-endian-raw-grey-16bit", _save_tiff("I;16"), "-B", "-c", "none")

    # BigTIFF.
    pillow_case("tiff/bigtiff-raw-rgb-8bit", ".tif", picture, big_tiff=True)
    vips_case("tiff/bigtiff-lzw-rgb-8bit-vips", ".tif", vips_picture, bigtiff=True, compression="lzw")
    tiffcp_case("tiff/bigtiff-tiled-deflate-rgb-8bit", rgb, "-8", "-t", "-w", "32", "-l", "32",
                "-c", "zip")
    tiffcp_case("tiff/bigtiff-jpeg-ycbcr-2x2", rgb, "-8", "-c", "jpeg", "-r", "16")
    tiffcp_case("tiff/bigtiff-g4-1bit", bilevel, "-8", "-c", "g4")

    # Several pages.
    def pages(path, scratch, mode="RGB", **options):
        first, *rest = [picture(*size, seed, mode) for seed, size in
                        enumerate([(W, H), (64, 96), (48, 32)])]
        first.save(path, save_all=True, append_images=rest, **options)
    case("tiff/multipage-sizes", ".tif", frames=3)(pages)
    case("tiff/multipage-sizes-lzw", ".tif", frames=3)(
        lambda path, scratch: pages(path, scratch, compression="tiff_lzw"))
    case("tiff/multipage-palette", ".tif", frames=3)(lambda path, scratch: pages(path, scratch, "P"))
    case("tiff/multipage-modes", ".tif", frames=4)(_multipage_modes)

    def tiffcp_pages(path, scratch):
        pages(scratch / "pages.tif", scratch)
        run("tiffcp", "-c", "lzw", "-p", "separate", scratch / "pages.tif", path)
    case("tiff/multipage-sizes-planar", ".tif", frames=3, tools=("tiffcp",))(tiffcp_pages)
    vips_case("tiff/multipage-same-size-vips", ".tif",
              lambda: vips_picture(W, H * 3).copy(), frames=3, page_height=H, compression="lzw")
    vips_case("tiff/pyramid-jpeg-tiled", ".tif", vips_picture, frames=4, pyramid=True, tile=True,
              tile_width=16, tile_height=16, compression="jpeg")
    vips_case("tiff/pyramid-subifd-deflate", ".tif", vips_picture, pyramid=True, subifd=True,
              tile=True, tile_width=16, tile_height=16, compression="deflate")

    # Metadata: descriptive tags a TIFF may carry.
    pillow_case("tiff/icc-profile-rgb", ".tif", picture, icc_profile=srgb_profile(),
                compression="tiff_lzw")
    case("tiff/photoshop-iptc-xmp")(_tiff_photoshop)
    case("tiff/photoshop-iptc-as-long")(_tiff_photoshop_long)
    case("tiff/exif-gps-ifds")(_tiff_exif_ifds)
    case("tiff/orientation-6")(_tiff_orientation)
    case("tiff/description-software-dpi")(lambda path, _: picture().save(
        path, compression="tiff_lzw", description="a corpus picture", software="batchproc corpus",
        dpi=(300, 300)))

    # Odd BitsPerSample and sample layouts, written byte by byte.
    case("tiff/odd-bps-single-value-rgb-8bit")(_tiff_bps_single_value)
    case("tiff/odd-bps-4bit-rgb")(_tiff_bps_4bit_rgb)
    case("tiff/odd-bps-12bit-grey")(_tiff_bps_12bit_grey)
    case("tiff/odd-bps-4bit-palette")(_tiff_bps_4bit_palette)
    case("tiff/odd-extrasamples-unspecified-rgba")(_tiff_unspecified_alpha)

    # Broken on purpose.
    case("tiff/truncated-half", ".tif", hostile=True)(
        _half_of(lambda path: picture().save(path, compression="tiff_lzw")))
    case("tiff/ifd-offset-past-eof", ".tif", size=None, frames=None, hostile=True)(
        lambda path, _: path.write_bytes(_plain_tiff(ifd_offset=1 << 20)))
    case("tiff/ifd-loop", ".tif", frames=None, hostile=True)(
        lambda path, _: path.write_bytes(_plain_tiff(next_ifd=-1)))
    case("tiff/strip-offsets-past-eof", ".tif", hostile=True)(_tiff_strips_past_eof)


def _planar_16bit(path, alpha=False):
    """A raw planar 16-bit RGB(A) TIFF (tiffcp cannot turn 16-bit samples planar itself)."""
    image = picture(mode="RGBA" if alpha else "RGB")
    planes = [struct.pack(f"<{W * H}H", *(v * 257 for v in band.tobytes())) for band in image.split()]
    tags = [(258, 3, [16] * len(planes)), (259, 3, [1]), (262, 3, [2]), (277, 3, [len(planes)]),
            (284, 3, [2])] + ([(338, 3, [2])] if alpha else [])
    path.write_bytes(tiff_bytes(W, H, planes, tags))


def _planar_16bit_alpha(path):
    _planar_16bit(path, alpha=True)


def _multipage_modes(path, scratch):
    first = picture(mode="RGB")
    rest = [picture(64, 96, 2, "L"), picture(48, 32, 3, "CMYK"), picture(80, 40, 4, "I;16")]
    first.save(path, save_all=True, append_images=rest, compression="tiff_adobe_deflate")


def _tiff_photoshop(path, scratch):
    from PIL import TiffImagePlugin

    iptc = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x78\x00\x0ba caption.."
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b'</x:xmpmeta><?xpacket end="w"?>')
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[34377] = resource
    info.tagtype[34377] = 1
    info[33723] = iptc
    info.tagtype[33723] = 7
    info[700] = xmp
    info.tagtype[700] = 1
    picture().save(path, compression="tiff_lzw", tiffinfo=info)


RGB_TAGS = [(258, 3, [8, 8, 8]), (259, 3, [1]), (262, 3, [2]), (277, 3, [3])]


def _tiff_exif_ifds(path, scratch):
    """A camera-like TIFF: descriptive tags in IFD0, and an Exif IFD and a GPS IFD."""
    tags = RGB_TAGS + [(271, 2, b"Corpus Camera\0"), (272, 2, b"Model 1\0"),
                       (306, 2, b"2026:01:02 03:04:05\0")]
    exif = [(0x829A, 5, [(1, 125)]), (0x9003, 2, b"2026:01:02 03:04:05\0"), (0x8827, 3, [200])]
    gps = [(0, 1, bytes((2, 3, 0, 0))), (1, 2, b"N\0"), (2, 5, [(51, 1), (30, 1), (0, 1)])]
    path.write_bytes(tiff_bytes(W, H, picture().tobytes(), tags,
                                sub_ifds={0x8769: exif, 0x8825: gps}))


def _tiff_photoshop_long(path, scratch):
    """IPTC stored as an array of LONGs, as Photoshop writes it, with Photoshop resources."""
    iptc = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x78\x00\x0ba caption.."
    iptc += b"\0" * (-len(iptc) % 4)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    tags = RGB_TAGS + [(33723, 4, list(struct.unpack(f"<{len(iptc) // 4}I", iptc))),
                       (34377, 1, resource)]
    path.write_bytes(tiff_bytes(W, H, picture().tobytes(), tags))


def _tiff_orientation(path, scratch):
    from PIL import TiffImagePlugin
    from images import UNDO_ORIENTATION

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[274] = 6
    marked(W, H).transpose(UNDO_ORIENTATION[6]).save(path, tiffinfo=info, compression="tiff_lzw")


def _grey_values(bits):
    image = picture(mode="L")
    return [value >> (8 - bits) if bits <= 8 else value << (bits - 8) for value in image.tobytes()]


def _tiff_bps_single_value(path, scratch):
    data = picture().tobytes()
    path.write_bytes(tiff_bytes(W, H, data, [(258, 3, [8]), (259, 3, [1]), (262, 3, [2]),
                                             (277, 3, [3]), (284, 3, [1])]))


def _tiff_bps_4bit_rgb(path, scratch):
    values = [value >> 4 for value in picture().tobytes()]
    path.write_bytes(tiff_bytes(W, H, packed_samples(values, 4, W, 3),
                                [(258, 3, [4, 4, 4]), (259, 3, [1]), (262, 3, [2]), (277, 3, [3]),
                                 (284, 3, [1])]))


def _tiff_bps_12bit_grey(path, scratch):
    path.write_bytes(tiff_bytes(W, H, packed_samples(_grey_values(12), 12, W, 1),
                                [(258, 3, [12]), (259, 3, [1]), (262, 3, [1]), (277, 3, [1])]))


def _tiff_bps_4bit_palette(path, scratch):
    indexed = picture().quantize(16, dither=0)
    palette = list(indexed.getpalette()[:48]) + [0] * max(0, 48 - len(indexed.getpalette()))
    colour_map = [palette[i * 3 + channel] * 257 for channel in range(3) for i in range(16)]
    path.write_bytes(tiff_bytes(W, H, packed_samples(list(indexed.tobytes()), 4, W, 1),
                                [(258, 3, [4]), (259, 3, [1]), (262, 3, [3]), (277, 3, [1]),
                                 (320, 3, colour_map)]))


def _tiff_unspecified_alpha(path, scratch):
    path.write_bytes(tiff_bytes(W, H, picture(mode="RGBA").tobytes(),
                                [(258, 3, [8, 8, 8, 8]), (259, 3, [1]), (262, 3, [2]),
                                 (277, 3, [4]), (338, 3, [0])]))


def _plain_tiff(**options) -> bytes:
    return tiff_bytes(W, H, picture().tobytes(), RGB_TAGS, **options)


def _tiff_strips_past_eof(path, scratch):
    data = bytearray(_plain_tiff())
    # StripOffsets is the third entry of the IFD (tags are sorted): point it far past the end.
    ifd_at, = struct.unpack_from("<I", data, 4)
    for index in range(struct.unpack_from("<H", data, ifd_at)[0]):
        entry = ifd_at + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == 273:
            struct.pack_into("<I", data, entry + 8, 1 << 24)
    path.write_bytes(bytes(data))


def _half_of(write_whole):
    """A writer of the first half of the file `write_whole(path)` writes."""
    def write(path, scratch):
        whole = scratch / ("whole" + path.suffix)
        write_whole(whole)
        data = whole.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    return write


def _png_cases():
    import PIL.PngImagePlugin as png

    for bits in (1, 2, 4):
        vips_case(f"png/grey-{bits}bit", ".png", lambda: vips_picture().colourspace("b-w"),
                  bitdepth=bits)
    pillow_case("png/grey-1bit-pillow", ".png", lambda: picture(mode="1"))
    pillow_case("png/grey-8bit", ".png", lambda: picture(mode="L"))
    pillow_case("png/grey-16bit", ".png", lambda: picture(mode="I;16"))
    pillow_case("png/grey-alpha-8bit", ".png", lambda: picture(mode="LA"))
    vips_case("png/grey-alpha-16bit", ".png",
              lambda: vips_picture(alpha=True).colourspace("grey16"))
    for bits in (1, 2, 4, 8):
        pillow_case(f"png/palette-{bits}bit", ".png",
                    lambda bits=bits: picture().quantize(2 ** bits, dither=0), bits=bits)
    pillow_case("png/rgb-8bit", ".png", picture)
    vips_case("png/rgb-16bit", ".png", lambda: vips_picture().colourspace("rgb16"))
    pillow_case("png/rgba-8bit", ".png", lambda: picture(mode="RGBA"))
    vips_case("png/rgba-16bit", ".png", lambda: vips_picture(alpha=True).colourspace("rgb16"))
    vips_case("png/rgb-8bit-interlaced", ".png", vips_picture, interlace=True)
    vips_case("png/rgb-16bit-interlaced-portrait", ".png",
              lambda: vips_picture(64, 96).colourspace("rgb16"), size=(64, 96), interlace=True)
    vips_case("png/grey-1bit-interlaced", ".png", lambda: vips_picture().colourspace("b-w"),
              bitdepth=1, interlace=True)
    vips_case("png/palette-8bit-interlaced", ".png", vips_picture, palette=True, interlace=True)
    vips_case("png/rgba-8bit-interlaced", ".png", lambda: vips_picture(alpha=True), interlace=True)
    # Transparency without an alpha channel (tRNS).
    pillow_case("png/palette-trns", ".png", lambda: picture(mode="P"),
                transparency=bytes([0, 128] + [255] * 62))
    pillow_case("png/palette-trns-single-index", ".png", lambda: picture(mode="P"), transparency=3)
    pillow_case("png/rgb-trns", ".png", picture, transparency=(255, 255, 255))
    pillow_case("png/grey-trns", ".png", lambda: picture(mode="L"), transparency=0)
    pillow_case("png/grey-16bit-trns", ".png", lambda: picture(mode="I;16"), transparency=257)
    # Ancillary chunks.
    case("png/gama-chrm")(lambda path, _: path.write_bytes(png_with_chunks(
        _png_bytes(picture()), [png_chunk(b"gAMA", struct.pack(">I", 45455)),
                                png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000,
                                                               30000, 60000, 15000, 6000))])))
    pillow_case("png/iccp", ".png", picture, icc_profile=srgb_profile())
    pillow_case("png/exif", ".png", picture, exif=_camera_exif())
    case("png/exif-orientation-6")(
        lambda path, _: save_oriented(marked(W, H), path, 6, format="PNG"))
    case("png/exif-bad-offsets")(lambda path, _: path.write_bytes(png_with_chunks(
        _png_bytes(picture()), [png_chunk(b"eXIf", exif_bad_offsets())])))

    def text(path, scratch, chunk="tEXt"):
        info = png.PngInfo()
        if chunk == "tEXt":
            info.add_text("Comment", "a corpus picture")
        elif chunk == "zTXt":
            info.add_text("Description", "a corpus picture " * 20, zip=True)
        else:
            info.add_itxt("Title", "une image du corpus \u00e9", lang="fr", tkey="Titre", zip=True)
            info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
        picture().save(path, pnginfo=info)
    case("png/text-tEXt")(text)
    case("png/text-zTXt")(lambda path, scratch: text(path, scratch, "zTXt"))
    case("png/text-iTXt-xmp")(lambda path, scratch: text(path, scratch, "iTXt"))
    case("png/ztxt-oversized")(lambda path, _: path.write_bytes(png_with_chunks(
        _png_bytes(picture()), [png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(
            b"a" * (png.MAX_TEXT_CHUNK * 2), 9))])))
    pillow_case("png/phys-dpi", ".png", picture, dpi=(300, 300))
    # Animation.
    case("png/apng", frames=3)(lambda path, _: _animation(path, "PNG"))
    case("png/apng-subframes-dispose-blend", frames=3)(
        lambda path, _: _animation(path, "PNG", disposal=[0, 1, 2], blend=[0, 1, 0], alpha=True))
    case("png/apng-invalid-actl", frames=None, hostile=True)(_apng_invalid)
    # Broken on purpose.
    case("png/truncated-half", ".png", hostile=True)(_half_of(lambda path: picture().save(path)))
    case("png/bad-crc", hostile=True)(_png_bad_crc)
    case("png/bomb-declared-size", size=(100_000, 100_000), frames=None, hostile=True)(
        lambda path, _: path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(
            b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + png_chunk(
            b"IDAT", zlib.compress(b"\0" * 300_001, 9)) + png_chunk(b"IEND", b"")))


def _png_bytes(image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _camera_exif() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Corpus Camera"
    exif[0x0110] = "Model 1"
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x9003] = "2026:01:02 03:04:05"
    exif.get_ifd(0x8825)[1] = "N"
    return exif.tobytes()


def _animation(path, fmt, *, disposal=None, blend=None, alpha=False):
    """Three different frames; on a still background with a moving square when `alpha`, so
    writers store sub-rectangles at offsets."""
    from PIL import ImageDraw

    frames = []
    for index in range(3):
        frame = picture(mode="RGBA" if alpha else "RGB") if not index or not alpha else frames[0].copy()
        ImageDraw.Draw(frame).rectangle((10 + 20 * index, 8 + 10 * index, 34 + 20 * index,
                                         30 + 10 * index), fill=(255, 40 * index, 0, 255))
        frames.append(frame)
    options = {"duration": [100, 150, 200], "loop": 0}
    if disposal is not None:
        options["disposal"] = disposal
    if blend is not None:
        options["blend"] = blend
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:], **options)


def _apng_invalid(path, scratch):
    buffer = io.BytesIO()
    _animation(buffer, "PNG")
    data = buffer.getvalue()
    actl = data.index(b"acTL") - 4
    chunk = data[actl:actl + 20]
    path.write_bytes(data[:actl] + chunk + data[actl:])  # a second acTL: Pillow says "Invalid APNG"


def _png_bad_crc(path, scratch):
    data = bytearray(_png_bytes(picture()))
    at = data.index(b"IDAT")
    length, = struct.unpack_from(">I", data, at - 4)
    data[at + 4 + length] ^= 0xFF  # the first byte of the IDAT chunk's CRC
    path.write_bytes(bytes(data))


def _jpeg_cases():
    for name, options in [("baseline-420", {"subsampling": 2}), ("baseline-444", {"subsampling": 0}),
                          ("baseline-422", {"subsampling": 1}), ("progressive", {"progressive": True}),
                          ("optimized-restart-markers", {"optimize": True, "restart_marker_rows": 1})]:
        pillow_case(f"jpeg/{name}", ".jpg", picture, quality=85, **options)
    pillow_case("jpeg/odd-size-97x61", ".jpg", lambda: picture(97, 61), size=(97, 61))
    pillow_case("jpeg/progressive-160x120", ".jpg", lambda: picture(160, 120), size=(160, 120),
                progressive=True)
    pillow_case("jpeg/grey", ".jpg", lambda: picture(mode="L"))
    pillow_case("jpeg/grey-progressive", ".jpg", lambda: picture(mode="L"), progressive=True)
    pillow_case("jpeg/cmyk-adobe-inverted", ".jpg", lambda: picture(mode="CMYK"))
    case("jpeg/cmyk-no-adobe-marker")(lambda path, _: path.write_bytes(jpeg_without(
        _jpeg_bytes(picture(mode="CMYK")), 0xEE)))
    vips_case("jpeg/cmyk-icc-profile", ".jpg",
              lambda: vips_picture().icc_export(output_profile="cmyk"), Q=85)
    for orientation in range(1, 9):
        case(f"jpeg/exif-orientation-{orientation}")(
            lambda path, _, o=orientation: save_oriented(marked(W, H), path, o, quality=90))
    pillow_case("jpeg/icc-srgb", ".jpg", picture, icc_profile=srgb_profile())
    vips_case("jpeg/icc-display-p3", ".jpg", lambda: vips_picture().icc_transform("p3"), Q=85)
    pillow_case("jpeg/exif-camera", ".jpg", picture, exif=_camera_exif())
    pillow_case("jpeg/xmp-comment", ".jpg", picture, xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
                comment=b"a corpus picture")
    case("jpeg/exif-bad-offsets")(lambda path, _: path.write_bytes(jpeg_with_segments(
        _jpeg_bytes(picture()), [(0xE1, b"Exif\0\0" + exif_bad_offsets())])))
    case("jpeg/exif-garbage")(lambda path, _: path.write_bytes(jpeg_with_segments(
        _jpeg_bytes(picture()), [(0xE1, b"Exif\0\0" + noise(3000, 7))])))
    case("jpeg/app-segments-huge-garbage")(lambda path, _: path.write_bytes(jpeg_with_segments(
        _jpeg_bytes(picture()), [(0xE0 + n, noise(65533, n)) for n in (3, 9, 15)])))
    case("jpeg/arithmetic", tools=("jpegtran",))(_jpegtran("-arithmetic"))
    case("jpeg/arithmetic-progressive", tools=("jpegtran",))(_jpegtran("-arithmetic", "-progressive"))
    case("jpeg/mpo", frames=2)(lambda path, _: picture().save(
        path, format="MPO", save_all=True, append_images=[picture(seed=2)]))
    case("jpeg/truncated-half", ".jpg", hostile=True)(_half_of(lambda path: picture().save(path)))


def _jpeg_bytes(image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, **options)
    return buffer.getvalue()


def _jpegtran(*options):
    def write(path, scratch):
        picture().save(scratch / "source.jpg", quality=85)
        run("jpegtran", *options, "-copy", "all", "-outfile", path, scratch / "source.jpg")
    return write


def _gif_cases():
    pillow_case("gif/static", ".gif", lambda: picture(mode="P"), interlace=False)
    pillow_case("gif/static-interlaced", ".gif", lambda: picture(mode="P"), interlace=True)
    pillow_case("gif/static-transparent", ".gif", lambda: picture(mode="P"), transparency=0)
    pillow_case("gif/grey", ".gif", lambda: picture(mode="L"))
    case("gif/animated", frames=3)(lambda path, _: _animation(path, "GIF"))
    case("gif/animated-subframes-transparent", frames=3)(
        lambda path, _: _animation(path, "GIF", alpha=True))
    for disposal in (1, 2, 3):
        case(f"gif/animated-dispose-{disposal}", frames=3)(
            lambda path, _, d=disposal: _animation(path, "GIF", disposal=d, alpha=True))
    case("gif/animated-frame-sizes-offsets", size=(64, 48), frames=3)(
        lambda path, _: path.write_bytes(gif_bytes((64, 48), [(0, 0, 64, 48, 0), (8, 4, 20, 12, 1),
                                                              (40, 30, 24, 18, 2)])))
    case("gif/frame-beyond-canvas", size=(48, 32), frames=2, hostile=True)(
        lambda path, _: path.write_bytes(gif_bytes((48, 32), [(0, 0, 48, 32, 1), (40, 24, 32, 32, 2)])))
    # 98 bytes: the second frame declares 65535x65535 pixels at (1, 1), to be cleared to the
    # background (disposal 2) with a transparent colour. Decoded naively, that is a 4.3
    # gigapixel canvas, filled (RGBA: 17 GB) before a single pixel is read.
    case("gif/bomb-frame-extents", size=(32, 32), frames=2, hostile=True, memory_bomb=True)(
        lambda path, _: path.write_bytes(gif_bytes((32, 32), [(0, 0, 4, 4, 1),
                                                              (1, 1, 65535, 65535, 2, 2, 0)],
                                                   pixel_frames=1)))
    case("gif/truncated-half", ".gif", hostile=True)(
        _half_of(lambda path: picture(mode="P").save(path)))


def _webp_cases():
    pillow_case("webp/lossy", ".webp", lambda: picture(160, 120), size=(160, 120), quality=80)
    pillow_case("webp/lossless", ".webp", picture, lossless=True)
    pillow_case("webp/lossy-alpha", ".webp", lambda: picture(mode="RGBA"), quality=80)
    pillow_case("webp/lossless-alpha", ".webp", lambda: picture(mode="RGBA"), lossless=True)
    case("webp/animated", frames=3)(lambda path, _: _animation(path, "WEBP"))
    case("webp/animated-alpha", frames=3)(lambda path, _: _animation(path, "WEBP", alpha=True))
    pillow_case("webp/exif-icc-xmp", ".webp", picture, exif=_camera_exif(), icc_profile=srgb_profile(),
                xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    case("webp/exif-orientation-6")(
        lambda path, _: save_oriented(marked(W, H), path, 6, format="WEBP", quality=90))
    case("webp/truncated-half", ".webp", hostile=True)(
        _half_of(lambda path: picture().save(path, quality=80)))


def _bmp_cases():
    pillow_case("bmp/1bit", ".bmp", lambda: picture(mode="1"))
    magick_case("bmp/4bit-palette", ".bmp", "-type", "palette", "-colors", "16", "BMP3:")
    pillow_case("bmp/8bit-palette", ".bmp", lambda: picture(mode="P"))
    pillow_case("bmp/8bit-grey", ".bmp", lambda: picture(mode="L"))
    magick_case("bmp/16bit-rgb565-bitfields", ".bmp", "-define", "bmp:subtype=RGB565", "BMP:")
    magick_case("bmp/16bit-argb4444-bitfields", ".bmp", "-define", "bmp:subtype=ARGB4444", "BMP:",
                source_mode="RGBA")
    pillow_case("bmp/24bit", ".bmp", picture)
    pillow_case("bmp/32bit-rgba", ".bmp", lambda: picture(mode="RGBA"))
    magick_case("bmp/32bit-bitfields-alpha-v5", ".bmp", "BMP:", source_mode="RGBA")
    magick_case("bmp/rle8", ".bmp", "-type", "palette", "-compress", "RLE", "BMP3:")
    case("bmp/rle4")(lambda path, _: path.write_bytes(bmp_rle4(picture())))
    case("bmp/top-down-24bit")(lambda path, _: path.write_bytes(bmp_top_down(_bmp_bytes(picture()))))
    magick_case("bmp/os2-v1-8bit", ".bmp", "-type", "palette", "BMP2:")
    magick_case("bmp/4bit-palette-graphicsmagick", ".bmp", "-colors", "16", "BMP3:", tool="gm")
    case("bmp/truncated-half", ".bmp", hostile=True)(_half_of(lambda path: picture().save(path)))


def _bmp_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="BMP")
    return buffer.getvalue()


def _hostile_cases():
    case("hostile/png-named-jpg", ".jpg", hostile=True)(lambda path, _: path.write_bytes(
        _png_bytes(picture())))
    case("hostile/jpeg-named-png", ".png", hostile=True)(lambda path, _: path.write_bytes(
        _jpeg_bytes(picture())))
    case("hostile/postscript-named-jpg", ".jpg", size=None, frames=None, hostile=True)(
        lambda path, _: path.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 96 64\n"
                                        "0 0 moveto 96 64 lineto stroke\nshowpage\n"))
    case("hostile/random-bytes-named-tif", ".tif", size=None, frames=None, hostile=True)(
        lambda path, _: path.write_bytes(noise(4096, 11)))
    case("hostile/text-named-png", ".png", size=None, frames=None, hostile=True)(
        lambda path, _: path.write_text("not a picture at all\n"))
    for extension in (".jpg", ".png", ".gif", ".webp", ".tif", ".bmp"):
        case(f"hostile/zero-bytes-{extension[1:]}", extension, size=None, frames=None,
             hostile=True)(lambda path, _: path.write_bytes(b""))


_tiff_cases()
_png_cases()
_jpeg_cases()
_gif_cases()
_webp_cases()
_bmp_cases()
_hostile_cases()


# --- running batchproc over a corpus ---------------------------------------------------------

def fit(size, box_w, box_h):
    """`size` shrunk to fit inside the box, keeping its shape (never enlarged)."""
    width, height = size
    if width <= box_w and height <= box_h:
        return width, height
    factor = min(box_w / width, box_h / height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def square(side):
    """thumbnail --size N: the largest centred square, shrunk to N (never enlarged)."""
    return lambda size: (min(side, *size),) * 2


@dataclass(frozen=True)
class StepCommand:
    """An image step as a user types it, and what its output should look like."""

    #: Short id for test names and table columns.
    name: str
    argv: tuple[str, ...]
    #: The upright size of the output's first frame, from the input's.
    expected_size: Callable[[tuple[int, int]], tuple[int, int]]
    #: The output format the step asks for (an EXTENSIONS key), or None: the input's own.
    output_format: str | None = None


STEPS = [
    StepCommand("resize-24x24", ("resize", "--size", "24x24"), lambda size: fit(size, 24, 24)),
    StepCommand("resize-defaults", ("resize",), lambda size: fit(size, 1600, 1600)),
    StepCommand("thumbnail-16", ("thumbnail", "--size", "16"), square(16)),
    StepCommand("convert-png", ("convert", "--format", "png"), lambda size: size, "png"),
    StepCommand("convert-webp", ("convert", "--format", "webp"), lambda size: size, "webp"),
    StepCommand("convert-tiff", ("convert", "--format", "tiff"), lambda size: size, "tiff"),
    StepCommand("strip", ("strip",), lambda size: size),
    StepCommand("chain-resize-jpeg", ("chain", "--steps", "resize --max 20 | convert --format jpeg"),
                lambda size: fit(size, 20, 20), "jpeg"),
]
STEPS_BY_NAME = {step.name: step for step in STEPS}
#: In-place drills: a copy of the corpus replaced by its own outputs.
IN_PLACE = {"in-place-resize-24x24": ("resize", "--in-place", "--size", "24x24"),
            "in-place-resize-defaults": ("resize", "--in-place")}
#: What Pillow may call a file with each extension.
FORMAT_NAMES = {".jpg": {"JPEG", "MPO"}, ".png": {"PNG"}, ".gif": {"GIF"}, ".webp": {"WEBP"},
                ".tif": {"TIFF"}, ".bmp": {"BMP"}}
#: Above this, the process tree of a batchproc run is stopped: no corpus file needs it.
RUN_MEMORY_LIMIT = 3 << 30


@dataclass
class Watched:
    """A finished (or stopped) process tree: its output, time and peak memory."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    #: Peak of the sum of VmHWM over the processes of the session alive at each poll: an upper
    #: bound of the tree's resident memory at any moment (no process's peak is missed).
    peak_bytes: int
    #: Why it was stopped ("used more than 1.0 GB", "still running after 60 s"), or None.
    stopped: str | None = None


def _session_members(session: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session:  # state ppid pgrp session...
                members.append(int(name))
    return members


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_watched(argv, *, limit_bytes: int, timeout: float, env=None, cwd=None,
                interval: float = 0.01) -> Watched:
    """Run `argv` in a session of its own and watch the memory of every process in it
    (workers included), stopping the whole session past `limit_bytes` or `timeout` seconds."""
    started = time.monotonic()
    process = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                               start_new_session=True)
    streams = {}

    def drain(name, stream):
        streams[name] = stream.read()
    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    peak_kb, stopped = 0, None
    while process.poll() is None:
        members = _session_members(process.pid)
        peak_kb = max(peak_kb, sum(_high_water_kb(pid) for pid in members))
        elapsed = time.monotonic() - started
        if peak_kb * 1024 > limit_bytes:
            stopped = f"used more than {limit_bytes / (1 << 30):.1f} GB"
        elif elapsed > timeout:
            stopped = f"still running after {timeout:.0f} s"
        if stopped:
            for pid in members:  # every process of the session we started, by its id
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        time.sleep(interval)
    process.wait()
    seconds = time.monotonic() - started
    for member in _session_members(process.pid):  # workers that outlived their parent
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for reader in readers:
        reader.join()
    return Watched(process.returncode, streams.get("stdout", b""), streams.get("stderr", b""),
                   seconds, peak_kb * 1024, stopped)


def batchproc_argv(*arguments) -> list[str]:
    """batchproc as a user runs it: the installed package's command line, in a new process."""
    return [sys.executable, "-m", "batchproc", *map(str, arguments)]


@dataclass
class StepRun:
    """One batchproc run over a folder: a record per input file, and how the run went."""

    argv: list[str]
    watched: Watched
    #: input path -> its JSON record.
    records: dict[str, dict] = field(default_factory=dict)
    #: stdout lines that were not JSON records.
    stray_lines: list[str] = field(default_factory=list)


def run_batchproc(arguments, *, limit_bytes=RUN_MEMORY_LIMIT, timeout=600.0, env=None) -> StepRun:
    """Run batchproc with --json and collect its records by input path."""
    argv = batchproc_argv(*arguments, "--json", "--jobs", "2")
    watched = run_watched(argv, limit_bytes=limit_bytes, timeout=timeout,
                          env={**os.environ, **(env or {})})
    result = StepRun(argv, watched)
    for line in watched.stdout.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
            result.records[record["input"]] = record
        except (ValueError, KeyError, TypeError):
            result.stray_lines.append(line)
    return result


def run_step(step: StepCommand, folder, out, *, exclude=()) -> StepRun:
    """Run an image step over a corpus folder into `out` (leaving out the names in `exclude`)."""
    excluded = [word for name in exclude for word in ("--exclude", name)]
    return run_batchproc([*step.argv, folder, "--out", out, *excluded])


def copy_corpus(files: list[CorpusFile], folder, into) -> dict[str, CorpusFile]:
    """Copy the written files (no memory bombs) from `folder` into `into`: new path -> file."""
    copies = {}
    for item in files:
        if item.path is None or item.memory_bomb:
            continue
        target = Path(into) / item.path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.path, target)
        copies[str(target)] = item
    return copies


# --- reading back ----------------------------------------------------------------------------

READ_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")  # JPEG opens MPO too
#: Extensions of formats libvips has no loader for (its BMP loader is ImageMagick's, which is
#: not in every build and is untrusted anyway).
VIPS_UNSUPPORTED = (".bmp",)
ORIENTATION = 0x0112
#: A reader process may use this much address space: a file that needs more is unreadable here.
READER_MEMORY_LIMIT = 3 << 30
READER_TIMEOUT = 30.0


def upright(size, orientation):
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else tuple(size)


def pillow_reading(path) -> dict:
    """Decode every frame of `path` with Pillow, its bomb guard on (as it ships); what it saw."""
    import warnings
    from PIL import Image

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with Image.open(path, formats=READ_FORMATS) as image:
                frames = getattr(image, "n_frames", 1)
                image.load()
                size, mode, fmt = image.size, image.mode, image.format
                try:
                    turn = image.getexif().get(ORIENTATION, 1)
                except Exception:
                    turn = 1
                for index in range(1, frames):
                    image.seek(index)
                    image.load()
    except Exception as error:
        message = f"{type(error).__name__}: {error}".replace(str(path), "FILE")
        return {"ok": False, "error": message.strip()}
    return {"ok": True, "size": upright(size, turn), "frames": frames, "mode": mode, "format": fmt,
            "warnings": sorted({str(w.message) for w in caught})}


def vips_reading(path) -> dict:
    """Decode every page of `path` with libvips (fail_on="error": a truncated or corrupt file
    fails), its untrusted loaders blocked; what it saw. ok is None where it has no loader."""
    import pyvips

    pyvips.block_untrusted_set(True)
    try:
        image = pyvips.Image.new_from_file(str(path), fail_on="error")
        pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
        turn = image.get("orientation") if image.get_typeof("orientation") else 1
        image.avg()
        for page in range(1, pages):
            pyvips.Image.new_from_file(str(path), page=page, fail_on="error").avg()
    except pyvips.Error as error:
        message = " ".join(str(error).split()).replace(str(path), "FILE")
        if "is not a known file format" in message and str(path).lower().endswith(VIPS_UNSUPPORTED):
            return {"ok": None, "error": "libvips has no loader for this format"}
        return {"ok": False, "error": message}
    return {"ok": True, "size": upright((image.width, image.height), turn), "frames": pages,
            "loader": image.get("vips-loader")}


def serve_readings() -> None:
    """A reader process: for each path on stdin, one JSON line per reader on stdout."""
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    for line in sys.stdin.buffer:
        path = os.fsdecode(line.rstrip(b"\n"))
        for reader, read in (("pillow", pillow_reading), ("vips", vips_reading)):
            print(json.dumps({"path": path, "reader": reader, **read(path)}), flush=True)


def _limit_reader_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY_LIMIT, READER_MEMORY_LIMIT))


def _read_in_child(paths: list[str], readings: dict) -> None:
    """Read `paths` in guarded reader processes, starting a new one when one dies or hangs."""
    pending = list(paths)
    while pending:
        child = subprocess.Popen(
            [sys.executable, "-c", "import corpus; corpus.serve_readings()"], cwd=TESTS,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(TESTS), "VIPS_CONCURRENCY": "1"},
            preexec_fn=_limit_reader_memory)
        threading.Thread(target=_feed, args=(child.stdin, list(pending)), daemon=True).start()
        lines = _Lines(child.stdout.fileno())
        reader, line = "pillow", b""
        while pending:
            line = lines.next(READER_TIMEOUT)
            if not line:
                break
            reading = json.loads(line)
            path = reading.pop("path")
            readings.setdefault(path, {})[reading.pop("reader")] = reading
            if len(readings[path]) == 2:
                pending.pop(0)
                reader = "pillow"
            else:
                reader = "vips"
        if child.poll() is None:
            child.kill()
        code = child.wait()
        child.stdout.close()
        if pending:  # the reader died or hung on pending[0], in `reader`
            current = pending.pop(0)
            why = (f"reader timed out after {READER_TIMEOUT:.0f} s" if line is None
                   else f"reader died (exit {code}) within {READER_MEMORY_LIMIT >> 30} GB")
            entry = readings.setdefault(current, {})
            entry.setdefault("pillow", {"ok": False, "error": why})
            entry.setdefault("vips", {"ok": False, "error": why if reader == "vips" else
                                      "not read: the reader stopped in Pillow first"})


class _Lines:
    """Lines from a pipe, each within a time limit (select on the descriptor, no hidden buffer)."""

    def __init__(self, descriptor):
        self.descriptor, self.buffer = descriptor, b""

    def next(self, seconds) -> bytes | None:
        """The next line; b"" at the end of the stream; None if none came in time."""
        import select

        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.descriptor], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.descriptor, 1 << 16)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"


def _feed(stream, paths):
    try:
        for path in paths:
            stream.write(os.fsencode(path) + b"\n")
        stream.close()
    except (BrokenPipeError, ValueError, OSError):
        pass


def read_back(paths, *, jobs: int = 2) -> dict[str, dict]:
    """Decode every file with Pillow and libvips in reader processes (memory-limited, timed):
    path -> {"pillow": reading, "vips": reading}."""
    paths = [str(path) for path in paths]
    readings: dict[str, dict] = {}
    shares = [paths[index::jobs] for index in range(jobs)]
    threads = [threading.Thread(target=_read_in_child, args=(share, readings)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return readings


# --- judging ---------------------------------------------------------------------------------

#: "TypeError: ...", "struct.error: ...", "MemoryError": a Python exception, not a reason.
EXCEPTION_NAME = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*(?:Error|Exception|Warning|Exit|"
                            r"Interrupt)|error)\b\s*(?::|$)")


def reason_problem(error) -> str | None:
    """Why a failure's text is not a reason in words, or None if it is one."""
    if not isinstance(error, str) or not error.strip():
        return "failed without saying why"
    if "Traceback (most recent call last)" in error or "\n" in error.strip():
        return f"failed with a traceback, not a one-line reason: {error.strip()[:200]!r}"
    if EXCEPTION_NAME.match(error):
        return f"failed with a Python exception, not a reason: {error!r}"
    return None


def output_paths(record) -> list[str]:
    output = record.get("output")
    if not output:
        return []
    return output if isinstance(output, list) else [output]


def output_problems(item: CorpusFile, step: StepCommand | None, path: str, reading: dict | None) -> list[str]:
    """What is wrong with an output that batchproc reported ok (empty: it reads back fine)."""
    if reading is None:
        return [f"output {path} was not read back"]
    problems = []
    expected = step.expected_size(item.size) if step and item.size else None
    for reader, name in (("pillow", "Pillow"), ("vips", "libvips")):
        seen = reading.get(reader, {})
        if seen.get("ok") is None and reader == "vips":
            continue  # libvips has no loader for this format (BMP): nothing to check
        if not seen.get("ok"):
            problems.append(f"{name} cannot read the output: {seen.get('error')}")
            continue
        width, height = seen["size"]
        if expected and (abs(width - expected[0]) > 1 or abs(height - expected[1]) > 1):
            problems.append(f"{name} reads it as {width}x{height}, expected {expected[0]}x{expected[1]}")
    pillow = reading.get("pillow", {})
    if (pillow.get("ok") and step and step.output_format
            and pillow["format"] not in FORMAT_NAMES[EXTENSIONS[step.output_format]]):
        problems.append(f"the output is {pillow['format']}, not the {step.output_format} asked for")
    if (pillow.get("ok") and step and item.frames and item.frames > 1 and item.group in ("gif", "webp")
            and pillow["format"] in ("GIF", "WEBP") and pillow["frames"] != item.frames):
        problems.append(f"the animation has {pillow['frames']} frames, not {item.frames}")
    return problems


def verdict(item: CorpusFile, step: StepCommand | None, record: dict | None,
            readings: dict) -> tuple[str, list[str]]:
    """(table cell, problems) for one file after one step: the cell says ok, failed: reason or
    UNREADABLE; problems (empty when the property holds) say what is wrong, in words."""
    if record is None:
        return "MISSING", ["batchproc gave no record for this file"]
    status, error = record.get("status"), record.get("error")
    if status == "failed":
        problem = reason_problem(error)
        return f"failed: {short(error)}", [problem] if problem else []
    if status != "ok":
        return f"{status}: {short(error)}", [f"ended {status!r} ({error}), neither ok nor failed"]
    problems = [problem for path in output_paths(record)
                for problem in output_problems(item, step, path, readings.get(path))]
    if not output_paths(record):
        problems.append("ok, but no output")
    return ("UNREADABLE: " + short(problems[0]) if problems else "ok"), problems


def short(text, limit=60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
