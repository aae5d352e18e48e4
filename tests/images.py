"""Pictures made for tests (and for sample_data/): nothing is downloaded."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

# stored pixels -> upright picture, as the EXIF orientation tag says (the inverse of each is
# what a camera did when it wrote the file).
UNDO_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def photo(width: int = 640, height: int = 480, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A photo-like picture: smooth gradients and a few shapes (compresses like a photo)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    image = Image.blend(image, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(2, min(width, height) // 8), max(3, min(width, height) // 3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.convert(mode) if mode != "RGB" else image


def marked(width: int = 120, height: int = 80) -> Image.Image:
    """An upright picture whose top-left corner is red and the rest blue: shows any rotation."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, width // 3, height // 3), fill=(255, 0, 0))
    return image


def save_oriented(upright: Image.Image, path: Path, orientation: int, **options) -> Path:
    """Save `upright` as a camera would with this EXIF orientation: stored turned, tag set."""
    method = UNDO_ORIENTATION[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, exif=exif.tobytes(), **options)
    return path


def write_tree(root: Path, layout: dict[str, tuple[int, int]], seed: int = 0) -> list[Path]:
    """Write photos at relative paths with given sizes; the extension picks the format."""
    paths = []
    for index, (relpath, (width, height)) in enumerate(layout.items()):
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        photo(width, height, seed + index).save(path)
        paths.append(path)
    return paths
