"""Pixel limits: no file may make a worker allocate more than its pixels are worth.

Three limits, checked before any pixel is decoded:

- every frame (or page) of an image may hold at most `--max-pixels` pixels (200 MP by
  default), the frames of an animation included, even when a frame declares extents larger
  than the picture (a GIF's frame may: Pillow then grows its canvas);
- a whole animation may hold at most ANIMATION_FACTOR x `--max-pixels` pixels over all its
  frames (1,000 MP by default: a 100-frame 1080p animation, 207 MP, passes; 10,000 such
  frames do not);
- steps that never decode pixels (strip on JPEG, PNG, WebP, GIF) pass no limit at all.

Pillow's own guard (Image.MAX_IMAGE_PIXELS) does the first check inside its decoders, where it
also sees frame extents; it only warns between 1x and 2x its limit, so here that warning is an
error too.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager

from batchproc.errors import StepError

DEFAULT_MAX_PIXELS = 200_000_000
#: A whole animation may hold this many times --max-pixels, over all its frames.
ANIMATION_FACTOR = 5


class TooManyPixels(StepError):
    """An image, a frame or a whole animation over its pixel limit."""


@contextmanager
def pixel_guard(max_pixels: int):
    """Within: Pillow refuses any image or frame over `max_pixels`, as a StepError."""
    from PIL import Image

    # Pillow reads its limit from a module global; it is set here from the step's setting for
    # the time of one file, and put back after.
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise from_pillow(error) from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


@contextmanager
def header_only():
    """Within: Pillow's guard is off while a file is opened, so that its size is known and the
    refusal can name it (`check_frame` follows). Opening reads headers; Pillow's own check
    there comes only after them anyway."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_frame(size: tuple[int, int], max_pixels: int, what: str = "") -> None:
    """Refuse a frame (or page) of `size` over `max_pixels`."""
    width, height = size
    if width * height > max_pixels:
        raise TooManyPixels(f"too many pixels: {what}{width}x{height} is {_mp(width * height)} MP, "
                        f"over --max-pixels {_mp(max_pixels)} MP")


def check_animation(total: int, frames: int, max_pixels: int, what: str = "frames") -> None:
    """Refuse an animation (or a file of pages) whose frames hold more pixels, together, than
    its budget: `total` so far, of `frames` in all."""
    budget = ANIMATION_FACTOR * max_pixels
    if total > budget:
        raise TooManyPixels(f"too many pixels: {frames} {what} hold over {_mp(total)} MP, over "
                            f"{_mp(budget)} MP ({ANIMATION_FACTOR} x --max-pixels)")


def from_pillow(error: Exception) -> TooManyPixels:
    """Pillow's refusal (DecompressionBombError, or its warning) in batchproc's words."""
    from PIL import Image

    found = re.search(r"\((\d+) pixels\)", str(error))
    size = f"{_mp(int(found[1]))} MP" if found else "the image"
    return TooManyPixels(f"too many pixels: a frame of {size} is over --max-pixels "
                         f"{_mp(Image.MAX_IMAGE_PIXELS)} MP")


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f}"
