"""TIFF layouts the usual writers do not make, written by hand or with explicit tags: planar
16-bit, Photoshop and Exif blocks, odd BitsPerSample, strips past the end of the file."""

from __future__ import annotations

import struct

from images import marked

from .byte_writers import packed_samples, tiff_bytes
from .pictures import H, W, picture


def planar_16bit(path, alpha=False):
    """A raw planar 16-bit RGB(A) TIFF (tiffcp cannot turn 16-bit samples planar itself)."""
    image = picture(mode="RGBA" if alpha else "RGB")
    planes = [struct.pack(f"<{W * H}H", *(v * 257 for v in band.tobytes())) for band in image.split()]
    tags = [(258, 3, [16] * len(planes)), (259, 3, [1]), (262, 3, [2]), (277, 3, [len(planes)]),
            (284, 3, [2])] + ([(338, 3, [2])] if alpha else [])
    path.write_bytes(tiff_bytes(W, H, planes, tags))


def planar_16bit_alpha(path):
    planar_16bit(path, alpha=True)


def multipage_modes(path, scratch):
    first = picture(mode="RGB")
    rest = [picture(64, 96, 2, "L"), picture(48, 32, 3, "CMYK"), picture(80, 40, 4, "I;16")]
    first.save(path, save_all=True, append_images=rest, compression="tiff_adobe_deflate")


def tiff_photoshop(path, scratch):
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


def tiff_exif_ifds(path, scratch):
    """A camera-like TIFF: descriptive tags in IFD0, and an Exif IFD and a GPS IFD."""
    tags = RGB_TAGS + [(271, 2, b"Corpus Camera\0"), (272, 2, b"Model 1\0"),
                       (306, 2, b"2026:01:02 03:04:05\0")]
    exif = [(0x829A, 5, [(1, 125)]), (0x9003, 2, b"2026:01:02 03:04:05\0"), (0x8827, 3, [200])]
    gps = [(0, 1, bytes((2, 3, 0, 0))), (1, 2, b"N\0"), (2, 5, [(51, 1), (30, 1), (0, 1)])]
    path.write_bytes(tiff_bytes(W, H, picture().tobytes(), tags,
                                sub_ifds={0x8769: exif, 0x8825: gps}))


def tiff_photoshop_long(path, scratch):
    """IPTC stored as an array of LONGs, as Photoshop writes it, with Photoshop resources."""
    iptc = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x78\x00\x0ba caption.."
    iptc += b"\0" * (-len(iptc) % 4)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    tags = RGB_TAGS + [(33723, 4, list(struct.unpack(f"<{len(iptc) // 4}I", iptc))),
                       (34377, 1, resource)]
    path.write_bytes(tiff_bytes(W, H, picture().tobytes(), tags))


def tiff_orientation(path, scratch):
    from PIL import TiffImagePlugin
    from images import UNDO_ORIENTATION

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[274] = 6
    marked(W, H).transpose(UNDO_ORIENTATION[6]).save(path, tiffinfo=info, compression="tiff_lzw")


def _grey_values(bits):
    image = picture(mode="L")
    return [value >> (8 - bits) if bits <= 8 else value << (bits - 8) for value in image.tobytes()]


def tiff_bps_single_value(path, scratch):
    data = picture().tobytes()
    path.write_bytes(tiff_bytes(W, H, data, [(258, 3, [8]), (259, 3, [1]), (262, 3, [2]),
                                             (277, 3, [3]), (284, 3, [1])]))


def tiff_bps_4bit_rgb(path, scratch):
    values = [value >> 4 for value in picture().tobytes()]
    path.write_bytes(tiff_bytes(W, H, packed_samples(values, 4, W, 3),
                                [(258, 3, [4, 4, 4]), (259, 3, [1]), (262, 3, [2]), (277, 3, [3]),
                                 (284, 3, [1])]))


def tiff_bps_12bit_grey(path, scratch):
    path.write_bytes(tiff_bytes(W, H, packed_samples(_grey_values(12), 12, W, 1),
                                [(258, 3, [12]), (259, 3, [1]), (262, 3, [1]), (277, 3, [1])]))


def tiff_bps_4bit_palette(path, scratch):
    indexed = picture().quantize(16, dither=0)
    palette = list(indexed.getpalette()[:48]) + [0] * max(0, 48 - len(indexed.getpalette()))
    colour_map = [palette[i * 3 + channel] * 257 for channel in range(3) for i in range(16)]
    path.write_bytes(tiff_bytes(W, H, packed_samples(list(indexed.tobytes()), 4, W, 1),
                                [(258, 3, [4]), (259, 3, [1]), (262, 3, [3]), (277, 3, [1]),
                                 (320, 3, colour_map)]))


def tiff_unspecified_alpha(path, scratch):
    path.write_bytes(tiff_bytes(W, H, picture(mode="RGBA").tobytes(),
                                [(258, 3, [8, 8, 8, 8]), (259, 3, [1]), (262, 3, [2]),
                                 (277, 3, [4]), (338, 3, [0])]))


def plain_tiff(**options) -> bytes:
    return tiff_bytes(W, H, picture().tobytes(), RGB_TAGS, **options)


def tiff_strips_past_eof(path, scratch):
    data = bytearray(plain_tiff())
    # StripOffsets is the third entry of the IFD (tags are sorted): point it far past the end.
    ifd_at, = struct.unpack_from("<I", data, 4)
    for index in range(struct.unpack_from("<H", data, ifd_at)[0]):
        entry = ifd_at + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == 273:
            struct.pack_into("<I", data, entry + 8, 1 << 24)
    path.write_bytes(bytes(data))
