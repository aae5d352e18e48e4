"""The GIF cases: static, interlaced, transparent, animated with every disposal, frames at
offsets or beyond the canvas, and a frame-extents memory bomb."""

from __future__ import annotations

from .byte_writers import gif_bytes
from .cases import case, half_of, pillow_case
from .pictures import animation, picture


def add_gif_cases():
    pillow_case("gif/static", ".gif", lambda: picture(mode="P"), interlace=False)
    pillow_case("gif/static-interlaced", ".gif", lambda: picture(mode="P"), interlace=True)
    pillow_case("gif/static-transparent", ".gif", lambda: picture(mode="P"), transparency=0)
    pillow_case("gif/grey", ".gif", lambda: picture(mode="L"))
    case("gif/animated", frames=3)(lambda path, _: animation(path, "GIF"))
    case("gif/animated-subframes-transparent", frames=3)(
        lambda path, _: animation(path, "GIF", alpha=True))
    for disposal in (1, 2, 3):
        case(f"gif/animated-dispose-{disposal}", frames=3)(
            lambda path, _, d=disposal: animation(path, "GIF", disposal=d, alpha=True))
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
        half_of(lambda path: picture(mode="P").save(path)))
