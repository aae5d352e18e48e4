"""Files that lie about what they are: the wrong extension, not a picture at all, empty."""

from __future__ import annotations

from .cases import case
from .pictures import jpeg_bytes, noise, picture, png_bytes


def add_hostile_cases():
    case("hostile/png-named-jpg", ".jpg", hostile=True)(lambda path, _: path.write_bytes(
        png_bytes(picture())))
    case("hostile/jpeg-named-png", ".png", hostile=True)(lambda path, _: path.write_bytes(
        jpeg_bytes(picture())))
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
