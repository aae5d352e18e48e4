"""The PNG cases: every colour type and bit depth, interlacing, tRNS, ancillary chunks,
APNG, and broken files."""

from __future__ import annotations

import io
import struct
import zlib

from images import marked, save_oriented

from .byte_writers import exif_bad_offsets, png_chunk, png_with_chunks
from .cases import case, half_of, pillow_case, vips_case
from .pictures import H, W, animation, camera_exif, picture, png_bytes, srgb_profile, vips_picture


def add_png_cases():
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
        png_bytes(picture()), [png_chunk(b"gAMA", struct.pack(">I", 45455)),
                                png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000,
                                                               30000, 60000, 15000, 6000))])))
    pillow_case("png/iccp", ".png", picture, icc_profile=srgb_profile())
    pillow_case("png/exif", ".png", picture, exif=camera_exif())
    case("png/exif-orientation-6")(
        lambda path, _: save_oriented(marked(W, H), path, 6, format="PNG"))
    case("png/exif-bad-offsets")(lambda path, _: path.write_bytes(png_with_chunks(
        png_bytes(picture()), [png_chunk(b"eXIf", exif_bad_offsets())])))

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
        png_bytes(picture()), [png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(
            b"a" * (png.MAX_TEXT_CHUNK * 2), 9))])))
    pillow_case("png/phys-dpi", ".png", picture, dpi=(300, 300))
    # Animation.
    case("png/apng", frames=3)(lambda path, _: animation(path, "PNG"))
    case("png/apng-subframes-dispose-blend", frames=3)(
        lambda path, _: animation(path, "PNG", disposal=[0, 1, 2], blend=[0, 1, 0], alpha=True))
    case("png/apng-invalid-actl", frames=None, hostile=True)(_apng_invalid)
    # Broken on purpose.
    case("png/truncated-half", ".png", hostile=True)(half_of(lambda path: picture().save(path)))
    case("png/bad-crc", hostile=True)(_png_bad_crc)
    case("png/bomb-declared-size", size=(100_000, 100_000), frames=None, hostile=True)(
        lambda path, _: path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(
            b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + png_chunk(
            b"IDAT", zlib.compress(b"\0" * 300_001, 9)) + png_chunk(b"IEND", b"")))



def _apng_invalid(path, scratch):
    buffer = io.BytesIO()
    animation(buffer, "PNG")
    data = buffer.getvalue()
    actl = data.index(b"acTL") - 4
    chunk = data[actl:actl + 20]
    path.write_bytes(data[:actl] + chunk + data[actl:])  # a second acTL: Pillow says "Invalid APNG"


def _png_bad_crc(path, scratch):
    data = bytearray(png_bytes(picture()))
    at = data.index(b"IDAT")
    length, = struct.unpack_from(">I", data, at - 4)
    data[at + 4 + length] ^= 0xFF  # the first byte of the IDAT chunk's CRC
    path.write_bytes(bytes(data))
