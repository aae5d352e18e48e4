"""Target sizes: ImageMagick-style geometry (800x600, 800x600>, 800x600^, 800x600!, 50%)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from batchproc.errors import UsageError

FITS = ("contain", "cover", "exact")
_SIZE = re.compile(r"^(?P<width>\d+)?(?:x(?P<height>\d+))?(?P<flag>[<>^!]?)$")


@dataclass(frozen=True)
class Geometry:
    """What size to make an image. Width or height may be None (keep the aspect ratio)."""

    width: int | None = None
    height: int | None = None
    #: A scale factor instead of a box (0.5 for 50%).
    scale: float | None = None
    #: contain: fit inside the box; cover: fill it and crop the overflow; exact: stretch to it.
    fit: str = "contain"
    #: May the image grow? False: shrink only (the default). "only": grow only (ImageMagick's <).
    enlarge: bool | str = False

    def plan(self, width: int, height: int) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """For a width x height image: (size to resize to, size to crop it to or None)."""
        if self.scale is not None:
            factor = self._allowed(self.scale)
            return _scaled(width, height, factor, factor), None
        box_w, box_h = self.width, self.height
        if self.fit == "exact":
            fx = self._allowed((box_w or width) / width)
            fy = self._allowed((box_h or height) / height)
            return _scaled(width, height, fx, fy), None
        ratios = [r for r in ((box_w or 0) / width, (box_h or 0) / height) if r > 0]
        if self.fit == "cover" and box_w and box_h:
            factor = self._allowed(max(ratios))
            resized = _scaled(width, height, factor, factor)
            crop = (min(box_w, resized[0]), min(box_h, resized[1]))
            return resized, None if crop == resized else crop
        factor = self._allowed(min(ratios))
        return _scaled(width, height, factor, factor), None

    def _allowed(self, factor: float) -> float:
        if self.enlarge == "only":
            return max(factor, 1.0)
        return factor if self.enlarge else min(factor, 1.0)


def _scaled(width: int, height: int, fx: float, fy: float) -> tuple[int, int]:
    return max(1, round(width * fx)), max(1, round(height * fy))


def parse_geometry(*, size: str | None = None, width: int | None = None, height: int | None = None,
                   longest: int | None = None, scale: str | None = None, fit: str | None = None,
                   enlarge: bool = False, default_longest: int = 1600) -> Geometry:
    """Combine the resize options into one Geometry; bad combinations raise UsageError."""
    given = [name for name, value in (("--size", size), ("--width/--height", width or height),
                                      ("--max", longest), ("--scale", scale)) if value]
    if len(given) > 1:
        raise UsageError(f"give only one of {', '.join(given)}")
    if fit is not None and fit not in FITS:
        raise UsageError(f"--fit must be one of {', '.join(FITS)}, not {fit!r}")
    allow: bool | str = enlarge
    if scale:
        return Geometry(scale=_parse_scale(scale), enlarge=True if enlarge else _scale_grows(scale))
    if size:
        match = _SIZE.match(size.strip())
        if not match or not (match["width"] or match["height"]):
            raise UsageError(f"bad --size {size!r}: expected WxH, W, xH, optionally followed by "
                             "> (shrink only), < (enlarge only), ^ (cover) or ! (exact)")
        width = int(match["width"]) if match["width"] else None
        height = int(match["height"]) if match["height"] else None
        flag = match["flag"]
        fit = fit or {"^": "cover", "!": "exact"}.get(flag, "contain")
        allow = "only" if flag == "<" else (True if flag == "!" or enlarge else False)
    elif longest:
        width = height = longest
    elif not (width or height):
        width = height = default_longest
    for name, value in (("width", width), ("height", height)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1 pixel")
    return Geometry(width=width, height=height, fit=fit or "contain", enlarge=allow)


def _parse_scale(text: str) -> float:
    try:
        factor = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise UsageError(f"bad --scale {text!r}: expected a percentage such as 50% or a factor such as 0.5") from None
    if not 0 < factor <= 100:
        raise UsageError(f"bad --scale {text!r}: must be above 0")
    return factor


def _scale_grows(text: str) -> bool:
    # Asking for 200% is asking to enlarge.
    return _parse_scale(text) > 1
