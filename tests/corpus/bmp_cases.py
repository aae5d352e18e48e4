"""The BMP cases: 1 to 32 bits, bitfields, RLE4 and RLE8, top-down, OS/2, a truncated file."""

from __future__ import annotations

import io

from .byte_writers import bmp_rle4, bmp_top_down
from .cases import case, half_of, magick_case, pillow_case
from .pictures import picture


def add_bmp_cases():
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
    case("bmp/truncated-half", ".bmp", hostile=True)(half_of(lambda path: picture().save(path)))


def _bmp_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="BMP")
    return buffer.getvalue()
