"""Camera-like JPEGs made with Pillow: smooth gradients and shapes under a little grain."""
from __future__ import annotations

import io
import random


def scene(rng: random.Random, size: tuple[int, int]):
    """A sky-to-ground gradient with soft-edged shapes in front, as an RGB image."""
    from PIL import Image, ImageDraw, ImageFilter

    w, h = size
    top = tuple(rng.randint(60, 230) for _ in range(3))
    bottom = tuple(rng.randint(20, 160) for _ in range(3))
    mask = Image.linear_gradient("L").resize(size)
    im = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randint(12, 24)):
        x, y = rng.randrange(w), rng.randrange(h)
        rx, ry = rng.randint(20, w // 3), rng.randint(20, h // 3)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
        else:
            corners = [(x + rng.randint(-rx, rx), y + rng.randint(-ry, ry)) for _ in range(rng.randint(3, 6))]
            draw.polygon(corners, fill=colour)
    # A lens never draws a hard edge: blur, as out-of-focus parts of a photo are.
    return im.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3)))


def add_grain(im, rng: random.Random):
    """Sensor-like grain (zero-mean Gaussian noise), which is what makes photos compress as photos."""
    from PIL import Image, ImageChops

    noise = Image.effect_noise(im.size, rng.uniform(3, 6)).convert("RGB")
    return ImageChops.add(im, noise, scale=1, offset=-128)


def camera_exif():
    """A small EXIF block as a camera writes it (make, model, orientation 1)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Bench"  # Make
    exif[0x0110] = "Photo-like 1"  # Model
    exif[0x0112] = 1  # Orientation: upright
    return exif


def photo_jpeg(seed: int, size: tuple[int, int], quality: int = 85) -> bytes:
    """One photo-like JPEG (about 60-95 KB at 800x600), the same bytes for the same seed."""
    rng = random.Random(seed)
    im = add_grain(scene(rng, size), rng)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=camera_exif())
    return buf.getvalue()
