"""An example batchproc plugin: a sepia-tone image step that also works inside `batchproc chain`."""

from __future__ import annotations

from typing import Annotated

import typer

from batchproc import hookimpl
from batchproc.image import ImageStep, Picture

#: The tone's darkest, middle and lightest colours: a warm brown ramp.
BLACK, MID, WHITE = (38, 24, 12), (162, 124, 84), (255, 243, 220)


class Sepia(ImageStep):
    """Tone images sepia, like an old photograph.

    Works alone or as a step of a chain: batchproc decodes, orients and saves the picture;
    this step only changes its pixels.

    Example: batchproc sepia ./photos --strength 0.8
    """

    name = "sepia"
    summary = "Tone images sepia (an example plugin)."
    output_suffix = "_sepia"

    def __init__(
        self,
        strength: Annotated[float, typer.Option(
            "--strength", min=0.0, max=1.0, help="0: unchanged, 1: fully toned.")] = 1.0,
    ) -> None:
        super().__init__(strength=strength)  # what workers receive to rebuild the step
        self.strength = strength

    def transform(self, picture: Picture) -> Picture:
        return picture.map(self.tone)

    def tone(self, frame):
        """One frame (mode L, LA, RGB or RGBA) toned sepia, its transparency kept."""
        from PIL import Image, ImageOps

        colour = frame.convert("RGB")
        toned = ImageOps.colorize(ImageOps.grayscale(colour), BLACK, WHITE, mid=MID)
        toned = Image.blend(colour, toned, self.strength)
        if frame.mode in ("RGBA", "LA"):
            toned.putalpha(frame.getchannel("A"))
        return toned


@hookimpl
def register_steps(register):
    register(Sepia)
