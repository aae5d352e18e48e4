"""The pictures every case starts from: photo-like, in any mode, the same every time; and the
same picture encoded in memory or carrying camera metadata."""

from __future__ import annotations

import io
import random
import struct

from images import photo


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



def png_bytes(image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()



def jpeg_bytes(image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, **options)
    return buffer.getvalue()



def camera_exif() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Corpus Camera"
    exif[0x0110] = "Model 1"
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x9003] = "2026:01:02 03:04:05"
    exif.get_ifd(0x8825)[1] = "N"
    return exif.tobytes()


def animation(path, fmt, *, disposal=None, blend=None, alpha=False):
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
