"""The image steps a corpus is run through, as a user types them, and what each output should
look like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


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
