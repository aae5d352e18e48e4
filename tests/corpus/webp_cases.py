"""The WebP cases: lossy and lossless, alpha, animation, metadata, orientation, a truncated file."""

from __future__ import annotations

from images import marked, save_oriented

from .cases import case, half_of, pillow_case
from .pictures import H, W, animation, camera_exif, picture, srgb_profile


def add_webp_cases():
    pillow_case("webp/lossy", ".webp", lambda: picture(160, 120), size=(160, 120), quality=80)
    pillow_case("webp/lossless", ".webp", picture, lossless=True)
    pillow_case("webp/lossy-alpha", ".webp", lambda: picture(mode="RGBA"), quality=80)
    pillow_case("webp/lossless-alpha", ".webp", lambda: picture(mode="RGBA"), lossless=True)
    case("webp/animated", frames=3)(lambda path, _: animation(path, "WEBP"))
    case("webp/animated-alpha", frames=3)(lambda path, _: animation(path, "WEBP", alpha=True))
    pillow_case("webp/exif-icc-xmp", ".webp", picture, exif=camera_exif(), icc_profile=srgb_profile(),
                xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    case("webp/exif-orientation-6")(
        lambda path, _: save_oriented(marked(W, H), path, 6, format="WEBP", quality=90))
    case("webp/truncated-half", ".webp", hostile=True)(
        half_of(lambda path: picture().save(path, quality=80)))
