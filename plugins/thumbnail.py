"""The thumbnail step: square or WxH crops of images, centred or on their most detailed part."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Literal

if TYPE_CHECKING:  # the CLI reads the options with typer; workers never import it
    import typer

from batchproc import hookimpl
from batchproc.errors import UsageError
from batchproc.image import ImageStep, Picture

IMAGE = "Image options"
_SIZE = re.compile(r"^(\d+)(?:x(\d+))?$")
#: Side of the downscaled copy the detail search looks at: enough to see edges, cheap to scan.
_PROBE = 96
#: Candidate windows tried along the axis the crop can slide on.
_CANDIDATES = 9


class Thumbnail(ImageStep):
    """Make thumbnails: crop images to a square (--size 256) or a WxH box (--size 320x200).

    --fit cover (the default) fills the box and crops the overflow, keeping the centre or, with
    --focus detail, the most detailed part (the window with the most edges); --fit contain
    fits the whole picture inside the box instead. Pictures are never enlarged: one smaller
    than the box is cropped to the box's shape at its own size. EXIF orientation is applied.

    Example: batchproc thumbnail ./photos --size 320x200 --focus detail
    """

    name = "thumbnail"
    summary = "Make square or WxH thumbnails, centred or on the most detailed part."
    output_suffix = "_thumbnails"
    max_chunk = 8
    unchanged_reason = "already fits"

    def __init__(
        self,
        size: Annotated[str, typer.Option(
            "--size", help="Box: N for a square, or WxH.", rich_help_panel=IMAGE)] = "256",
        fit: Annotated[Literal["cover", "contain"], typer.Option(
            "--fit", help="cover: fill the box, crop the rest; contain: fit inside it.",
            rich_help_panel=IMAGE)] = "cover",
        focus: Annotated[Literal["centre", "detail"], typer.Option(
            "--focus", help="With cover, what the crop keeps: the centre, or the most detailed "
            "region.", rich_help_panel=IMAGE)] = "centre",
        quality: Annotated[int, typer.Option(
            "--quality", "-q", min=1, max=100, help="JPEG and WebP quality.",
            rich_help_panel=IMAGE)] = 85,
    ) -> None:
        super().__init__(size=size, fit=fit, focus=focus, quality=quality)
        match = _SIZE.match(size.strip())
        if not match or int(match[1]) < 1 or (match[2] and int(match[2]) < 1):
            raise UsageError(f"bad --size {size!r}: expected N (a square) or WxH, such as 256 or 320x200")
        self.box = (int(match[1]), int(match[2] or match[1]))
        self.fit = fit
        self.focus = focus
        self.quality = quality

    def transform(self, picture: Picture) -> Picture:
        width, height = picture.upright_size
        (left, top, crop_w, crop_h), size = self._plan(width, height)
        if self.focus == "detail" and self.fit == "cover":
            # Decode a JPEG at reduced scale: the thumbnail needs fewer pixels than the region has.
            scale = max(size[0] / crop_w, size[1] / crop_h)
            picture.draft((math.ceil(width * scale), math.ceil(height * scale)))
            look = picture.image
            factor = look.width / width  # what the draft did to the pixel grid
            left, top = (value / factor for value in detailed_corner(look, (crop_w * factor, crop_h * factor)))
        box = (left, top, left + crop_w, top + crop_h)
        return picture.resize(size, box=box).replace(quality=self.quality)

    def _plan(self, width: int, height: int):
        """The region to keep (left, top, width, height, centred) and the size to make it."""
        box_w, box_h = self.box
        if self.fit == "contain":
            factor = min(1.0, box_w / width, box_h / height)
            return (0, 0, width, height), (max(1, round(width * factor)), max(1, round(height * factor)))
        # The largest region of the box's shape, then shrunk to the box (never enlarged).
        ratio = box_w / box_h
        crop_w, crop_h = (width, width / ratio) if width / height < ratio else (height * ratio, height)
        size = (min(box_w, max(1, round(crop_w))), min(box_h, max(1, round(crop_h))))
        return ((width - crop_w) / 2, (height - crop_h) / 2, crop_w, crop_h), size


def detailed_corner(image, crop: tuple[float, float]) -> tuple[float, float]:
    """The top-left corner of the crop window with the most edge energy, sliding along the
    axis the crop leaves free; judged on a small greyscale copy, so it costs little."""
    from PIL import ImageFilter, ImageStat

    width, height = image.size
    crop_w, crop_h = crop
    slack_x, slack_y = width - crop_w, height - crop_h
    if slack_x < 1 and slack_y < 1:
        return 0.0, 0.0
    probe_scale = min(1.0, _PROBE / max(width, height))
    probe = image.convert("L").reduce(max(1, int(1 / probe_scale))) if probe_scale < 1 else image.convert("L")
    edges = probe.filter(ImageFilter.FIND_EDGES)
    sx, sy = edges.width / width, edges.height / height
    best, best_score = None, -1.0
    # Try from the centre outwards, so a flat picture keeps its centre on a tie.
    steps = sorted(range(_CANDIDATES), key=lambda i: abs(i - (_CANDIDATES - 1) / 2))
    for index in steps:
        fraction = index / (_CANDIDATES - 1)
        left, top = slack_x * fraction if slack_x >= 1 else 0.0, slack_y * fraction if slack_y >= 1 else 0.0
        window = (round(left * sx), round(top * sy), round((left + crop_w) * sx), round((top + crop_h) * sy))
        # FIND_EDGES leaves a bright frame at the probe's border: ignore a pixel of it.
        window = (max(1, window[0]), max(1, window[1]),
                  min(edges.width - 1, window[2]), min(edges.height - 1, window[3]))
        score = ImageStat.Stat(edges.crop(window)).mean[0] if window[2] > window[0] and window[3] > window[1] else 0.0
        if score > best_score:
            best, best_score = (left, top), score
    return best


@hookimpl
def register_steps(register):
    register(Thumbnail)
